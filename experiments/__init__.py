"""The selection experiments: every setting of the study chosen on validation data (a package, so that its
script, `selection.py`, imports its own modules by name)."""
