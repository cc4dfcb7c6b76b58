"""The study's code; ``helpers.py`` at the project's root is the facade that the notebooks import.

Four layers, each importing only from those below it (``pyproject.toml``'s contracts, checked by
``tests/test_layers.py``): ``run`` (the runner of ``run_study.py``, its pages, verify) · ``report`` (statistics, the
analysis plan, the written answer, figures) · ``study`` (the design, tasks, keys, the fit cache, workers, executor,
what the notebooks pass on) · ``compute`` (data, split, models, training, and the units: kinds of fit, pretext tasks,
semi-supervised methods); ``config`` holds the constants under all four.

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
