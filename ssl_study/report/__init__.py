"""The report layer: what the reader sees, computed from the results and looking units up by name.

stats (means, intervals, Holm) · words (amounts, verdicts, counts) · analysis (the analysis plan's tests) ·
conclusion (the written answer, filled by templates) · styles and plots (figures) · views (each unit's own figures
and sentences) · readme (the README's and docs' results block) · publishing (a run's results replacing the published
ones at once).
"""
