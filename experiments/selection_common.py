"""What every part of `selection.py` shares: the split (``--split-seed``), the selection seeds and images, the result
folder, and the resumable, parallel runner of a part's runs.

``SPLIT_SEED`` is this module's state: `selection.py` sets it from ``--split-seed``, and each worker run sets it from
its own argument (``selection_common.SPLIT_SEED = split_seed``), so read it through the module, never import it by
name.
"""

from __future__ import annotations

import json

import numpy as np

from ssl_study.compute.data import load_mnist, to_model_input
from ssl_study.compute.models import import_keras
from ssl_study.compute.split import make_split, nested_subsets
from ssl_study.config import DEFAULT_DATASET, N_CLASSES, ROOT, SELECTION_SEEDS, SPLIT_PROPORTIONS, get_dataset
from ssl_study.study.design import default_jobs
from ssl_study.study.profiles import PROFILES, get_profile
from ssl_study.study.inputs import load_split

keras = import_keras()
DATASET = get_dataset()  #: ``$SSL_DATASET``'s (MNIST unless it names another): its images, split and result folder
#: the result files: ``experiments/results/`` for MNIST, ``experiments/results/<dataset>/`` for another dataset
OUT = ROOT / "experiments" / "results" / ("" if DATASET.name == DEFAULT_DATASET else DATASET.name)
SEEDS = SELECTION_SEEDS
PROFILE = PROFILES["full"]


SPLIT_SEED: int | None = None  #: ``--split-seed``: the split made with this seed instead of notebook 1's


def labelled_data():
    """The study's split (notebook 1's, or the one of ``--split-seed``): labelled images and labels, and the
    unlabelled images. No test images."""
    mnist = load_mnist(verbose=False)
    if SPLIT_SEED is None:
        split = load_split(get_profile("full"), mnist)
    else:
        split = make_split(mnist.labels, SPLIT_SEED, SPLIT_PROPORTIONS)
        split = {name: split[name] for name in ("labelled", "unlabelled")}  # the test images are never touched
    x = to_model_input(mnist.images)
    y = mnist.labels.astype("int32")
    return split, x[split["labelled"]], y[split["labelled"]], x, split



def selection_set(y_lab: np.ndarray, sizes=(10 * N_CLASSES,)) -> tuple[dict, np.ndarray]:
    """The label subsets of the selection seeds (seed -> size -> indices, nested), and 3,000 other labelled images
    (outside every one of them) to score on."""
    subsets = {seed: dict(zip(sizes, nested_subsets(y_lab, list(sizes), seed))) for seed in SEEDS}
    used = np.concatenate([index for by_size in subsets.values() for index in by_size.values()])
    outside = np.setdiff1d(np.arange(len(y_lab)), used)
    return subsets, np.random.default_rng(0).choice(outside, 3000, replace=False)



def resumable(runs: list[tuple], work, out: str) -> list[dict]:
    """``work(*run, SPLIT_SEED)`` for every run, ``$SSL_JOBS`` at a time, each run's rows appended to
    ``experiments/results/.<out>.partial.jsonl`` as it finishes; runs already there (an interrupted measurement of the
    same command) are read back instead of run again. The partial file is removed once the part is written."""
    import joblib

    key = lambda run: json.dumps(run, sort_keys=True, default=float)  # noqa: E731 -- a run's identity, as text
    partial = OUT / f".{out}.partial.jsonl"
    done = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            entry = json.loads(line)
            done[key(entry["run"])] = entry["rows"]
    todo = [run for run in runs if key(run) not in done]
    if todo:
        print(f"{len(runs) - len(todo)} of {len(runs)} runs read back from {partial.name}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    with partial.open("a") as log:
        for run, rows in zip(todo, joblib.Parallel(n_jobs=default_jobs(), return_as="generator")(
                joblib.delayed(work)(*run, SPLIT_SEED) for run in todo)):
            log.write(json.dumps({"run": run, "rows": rows}, default=float) + "\n")
            log.flush()
            done[key(run)] = rows
    return [row for run in runs for row in done[key(run)]]

