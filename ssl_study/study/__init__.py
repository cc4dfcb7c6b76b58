"""The study layer: the design and the machinery that turns it into results, above the units it runs.

design (the profiles and their arms; the budget of a fit) · methods (a method's id and label, from its units) · tasks
(what a fit, pretext run or semi-supervised run is) · keys (cache keys: versions bumped on purpose) · fingerprints
(the code each kind runs, followed through the syntax tree, checked against its version) · store (the fit cache) ·
workers (computing one task) · executor (running tasks in parallel, from the cache) · inputs, outcomes, runs (what
the notebooks pass on to each other).
"""
