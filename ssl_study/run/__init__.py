"""The top layer: running the study (runner, ``run_study.py``; kernels started ahead), its pages, and `verify`
(recomputing a sample of the committed fits on this machine)."""
