"""The study's code, in a few modules; ``helpers.py`` at the project's root is the facade that the notebooks import.

config (paths, profiles, recipes, settings) · artefacts (side-cars and lineage) · data (loader, split, subsets) ·
models (the CNN, its encoder, the augmenter) · pretexts and semi (one unit per pretext task or semi-supervised method,
and their registries; plugins: units from outside the package) · methods (a method's encoder, use, label and style) ·
training (fit, probe, probe-then-fine-tune) · tasks (what a task is) · keys (cache keys and their versions) · store
(the fit cache) · workers (computing a task) · executor (running tasks in parallel, from the cache) · study (what the
notebooks pass on) · stats · conclusion · plots · readme · runner (``run_study.py``).

Every fit runs on one CPU thread (TensorFlow; JAX is only asked for fewer), whatever the number of parallel jobs: the
backends' results depend on their thread count, and one thread per fit keeps a run with ``--jobs 1`` identical to one
with ``--jobs 8``. The variables below must be set before a backend is imported, so they are set here, where every
process (notebook kernel, worker) first imports the project.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")  # JAX: fewer threads; determinism untested
