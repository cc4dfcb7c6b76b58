"""A fit is computed once: every fit and every pretext run is a pure task, cached on disk and run in parallel.

A task (`Fit`; `PretextRun` and `SubsetPretextRun`, pre-training on all or on a nested part of the unlabelled set;
`SemiRun`, a semi-supervised model trained on labels and unlabelled images) is a frozen dataclass that holds
everything its result depends on: the data's and the split's fingerprints, the fingerprint of the encoder weights it
starts from, method, label amount, seed, settings -- plus, added by `run_tasks`, a version of the code that trains it
(the sha256 of the source of the functions it runs; `joblib.Memory` adds the task function's own). Its result (the
row of the results table, the history, the confusion matrix, trained weights where later tasks need them) is cached
with `joblib.Memory` under the profile's ``cache/`` folder, written atomically when the task finishes. So a re-run
with nothing changed reads every result back; an interrupted run loses only the tasks in flight; a change of data,
split, encoder, settings or training code computes the affected tasks again. Deleting the folder (``make run
FRESH=1``) recomputes everything.

Tasks run in worker processes with joblib (``loky`` on this machine, ``--jobs``/``$SSL_JOBS`` at once), or on a Dask
cluster through joblib's Dask backend (``$SSL_BACKEND=dask``, ``$SSL_DASK_SCHEDULER``). Each worker loads the data
itself (from the decoded-data cache) and every fit runs on one thread, so results do not depend on where or
alongside what a task ran: a parallel run on loky gives the results of a sequential one (tested, and at full scale by
the benchmark). On Dask, one of four tiny test fits was seen to score differently in some runs (cause not found).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import sys
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import data as data_module, models, semi, training
from .artefacts import ArtefactError
from .config import BACKEND_ENV, DASK_ENV, Profile, Recipe, default_jobs
from .data import SPLIT_NAMES, load_mnist, nested_subsets, split_fingerprint, to_model_input
from . import pretexts as pretexts_module
from .pretexts import PRETEXTS, Pretext, PretextSettings, monitor_slice, pretext_indices, pretrain
from .training import epochs_for, evaluate, train_frozen, train_probe, train_supervised

#: fits on frozen features (scikit-learn, no epochs), as opposed to the CNN's fits (``supervised``, ``probe``,
#: ``finetune``)
FROZEN_KINDS = ("knn", "logistic")


@dataclass(frozen=True)
class Fit:
    """One classifier fit on one label subset: ``kind`` is ``supervised`` (random weights), ``probe`` or
    ``finetune`` (from the encoder of ``pretext`` whose weights have the fingerprint ``encoder``), or ``knn`` or
    ``logistic`` on that encoder's frozen features (``pretext`` ``pixels`` and no encoder: on the raw pixels). The
    ``random`` encoder is the untrained one of notebook 3, the control of every pretext."""

    kind: str
    amount: str
    n_labels: int
    seed: int
    epochs: int
    batch_size: int
    recipe: Recipe
    data: str  #: fingerprint of the decoded MNIST images
    split: str  #: fingerprint of the split
    pretext: str | None = None
    encoder: str | None = None

    @property
    def method(self) -> str:
        """The method's name in the results: ``supervised``, ``siamese_probe``, ``siamese_finetune``, ..."""
        return "supervised" if self.kind == "supervised" else f"{self.pretext}_{self.kind}"


@dataclass(frozen=True)
class PretextRun:
    """One pretext run: task ``pretext`` with ``settings``, from the initial encoder with fingerprint ``init``."""

    pretext: str
    settings: PretextSettings
    seed: int
    epochs: int
    images: int | None  #: unlabelled images used (None: all)
    init: str
    data: str
    split: str


@dataclass(frozen=True)
class SubsetPretextRun(PretextRun):
    """A pretext run on part of the unlabelled set (notebook 4's sweep): the first ``images`` of the seed's order of
    the unlabelled images (`pretext_indices`: the parts of one seed are nested), its training images repeated
    ``repeats`` times per epoch, so that it sees as many images as the run on all of them: the amount of unlabelled
    data is the variable, not the amount of training."""

    repeats: int = 1


@dataclass(frozen=True)
class SemiRun:
    """One semi-supervised run (`ssl_study.semi`): method ``kind`` (``pseudolabel`` or ``fixmatch``) with
    ``settings`` on one label subset and the whole unlabelled set, from random weights or from the encoder of
    ``pretext`` with the fingerprint ``encoder``; ``epochs``: the teacher's (pseudo-labelling), as a supervised fit."""

    kind: str
    amount: str
    n_labels: int
    seed: int
    epochs: int
    batch_size: int
    recipe: Recipe
    settings: object
    data: str
    split: str
    pretext: str | None = None
    encoder: str | None = None

    @property
    def method(self) -> str:
        """``pseudolabel`` or ``fixmatch`` from random weights, ``<pretext>_<kind>`` from a pre-trained encoder."""
        return self.kind if self.pretext is None else f"{self.pretext}_{self.kind}"


def plan_fits(kind: str, profile: Profile, n_labelled: int, data_fp: str, split_fp: str, recipe: Recipe = Recipe(),
              pretext: str | None = None, encoders: dict[int, str] | None = None,
              amounts: tuple[str, ...] | None = None, headline: bool = False) -> list[Fit]:
    """The fits of one method at every label amount (or those named in ``amounts``) and seed of ``profile`` (with
    ``headline``, the supervised baseline's and the headline pretext's: `Profile.seeds_at`, more at the primary
    amounts); ``encoders``: seed -> fingerprint of that seed's pre-trained encoder, for every kind but ``supervised``."""
    fits = []
    for amount, n in profile.amounts(n_labelled):
        if amounts is not None and amount not in amounts:
            continue
        epochs = 0 if kind in FROZEN_KINDS else epochs_for(n, profile, recipe)[1]
        for seed in profile.seeds_at(amount, headline):
            fits.append(Fit(kind, amount, n, seed, epochs, profile.batch_size, recipe, data_fp, split_fp, pretext,
                            encoders[seed] if encoders else None))
    return sorted(fits, key=lambda fit: (fit.seed, fit.n_labels))


def code_version(*objects) -> str:
    """The backend, its version and Keras', and the sha256 of the source code of ``objects`` (functions, classes,
    modules): part of every cache key, so that a change of the code that trains a task, or of the backend, computes it
    again, while an edit elsewhere (a plot, a message) does not."""
    keras = models.import_keras()
    backend = keras.backend.backend()
    digest = hashlib.sha256()
    for obj in objects:
        digest.update(inspect.getsource(obj).encode())
    library = sys.modules.get(backend)
    return f"{backend}-{getattr(library, '__version__', '?')}-keras-{keras.__version__}-{digest.hexdigest()[:16]}"


#: what a fit runs: the functions that load its data, its subsets, its model, its training and its scoring (`_run_fit`
#: itself is part of the key too, through joblib.Memory)
FIT_CODE = (data_module.nested_subsets, data_module.to_model_input, models.build_encoder,
            models.build_classifier, models.build_linear_head, models.encode, models._random_views_class, training)


@functools.cache
def fit_code() -> str:
    """The code version of a `Fit`, computed once per process from the code it imported (an edit of the files on disk
    during a session does not change it: a worker or kernel with other code refuses the task, see `_check_code`)."""
    return code_version(_inputs, _official_test, _encoder_weights, _features, *FIT_CODE)


@functools.cache
def pretext_code(pretext: str) -> str:
    """The code version of a `PretextRun`: the data it reads, the encoder, the augmenter, `pretrain`, and the task's
    own module (computed once per process, as `fit_code`)."""
    return code_version(_inputs, _encoder_weights, data_module.to_model_input, models.build_encoder, models.encode,
                        models._random_views_class, pretexts_module, inspect.getmodule(PRETEXTS[pretext]))


@functools.cache
def semi_code() -> str:
    """The code version of a `SemiRun` (computed once per process, as `fit_code`)."""
    return code_version(_inputs, _official_test, _encoder_weights, _unlabelled_labels, _pseudo_label_report, semi,
                        *FIT_CODE)


def _check_code(code: str, expected: str) -> None:
    """Refuse to compute a task whose key was made from other code than this process runs."""
    if code != expected:
        raise RuntimeError("The training code changed on disk after this kernel or worker started: restart the "
                           "kernel (or run run_study.py again) so that the cache keys match the code that runs.")


# ----------------------------------------------------------------------------------------------------------------------
# What a worker does
# ----------------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _inputs(split_path: str, data_fp: str, split_fp: str) -> dict:
    """The images and labels a worker trains on, loaded once per process and checked against the task's fingerprints."""
    mnist = load_mnist(verbose=False)
    if mnist.fingerprint != data_fp:
        raise ArtefactError("The MNIST images this worker loads are not the ones the task was planned on: point "
                            "$MNIST_PNG at the same data everywhere, and re-run notebooks from 01_split.ipynb.")
    with np.load(split_path) as z:
        split = {k: z[k] for k in SPLIT_NAMES}
    if split_fingerprint(split) != split_fp:
        raise ArtefactError(f"{Path(split_path).name} changed while the tasks ran: re-run notebooks/01_split.ipynb.")
    x, y = to_model_input(mnist.images), mnist.labels.astype("int32")
    return {"x": x, "split": split, "x_labelled": x[split["labelled"]], "y_labelled": y[split["labelled"]],
            "x_test": x[split["test"]], "y_test": y[split["test"]]}


@functools.lru_cache(maxsize=2)
def _official_test(split_path: str) -> np.ndarray:
    """Which test images of the split come from MNIST's official test set (``testing/``): the rest are from its
    training set. The split pools the two, so writers of the official training set appear in both halves."""
    with np.load(split_path) as z:
        test = z["test"]
    return load_mnist(verbose=False).origin[test] == "testing"


def _encoder_weights(paths: dict, fingerprint: str) -> list:
    """The weights of the encoder with this fingerprint, from the file ``paths`` names for it (checked)."""
    encoder = models.build_encoder()
    encoder.load_weights(paths["encoders"][fingerprint])
    weights = encoder.get_weights()
    if models.weights_fingerprint(weights) != fingerprint:
        raise ArtefactError(f"{Path(paths['encoders'][fingerprint]).name} changed while the tasks ran: re-run the "
                            "notebook that wrote it.")
    return weights


@functools.lru_cache(maxsize=2)
def _features(split_path: str, data_fp: str, split_fp: str, encoder_file: str | None, fingerprint: str | None) -> dict:
    """The frozen features of the labelled and the test images: the encoder's 288 (from ``encoder_file``, checked
    against ``fingerprint``), or the 784 raw pixels where there is no encoder. Computed once per worker and encoder."""
    d = _inputs(split_path, data_fp, split_fp)
    if fingerprint is None:
        return {part: d[f"x_{part}"].reshape(len(d[f"x_{part}"]), -1) for part in ("labelled", "test")}
    encoder = models.build_encoder()
    encoder.set_weights(_encoder_weights({"encoders": {fingerprint: encoder_file}}, fingerprint))
    return {part: models.encode(encoder, d[f"x_{part}"]) for part in ("labelled", "test")}


def _run_fit(fit: Fit, code: str, paths: dict) -> dict:
    """Train and score one `Fit` (``paths`` says where the split, the encoders and the cache are; not part of the key)."""
    models.import_keras()  # first, so that the backend's start-up chatter stays out of the worker's output
    _check_code(code, fit_code())
    d = _inputs(paths["split"], fit.data, fit.split)
    subset = nested_subsets(d["y_labelled"], [fit.n_labels], fit.seed)[0]
    official = _official_test(paths["split"])
    if fit.kind in FROZEN_KINDS:  # every label of the subset; the setting is chosen by cross-validation on it
        features = _features(paths["split"], fit.data, fit.split, paths["encoders"].get(fit.encoder), fit.encoder)
        model, record = train_frozen(fit.kind, features["labelled"][subset], d["y_labelled"][subset], fit.seed)
        return _result(fit, record, evaluate(model, features["test"], d["y_test"]), official, len(d["y_labelled"]))
    # every label of the subset is trained on, for the fixed schedule of `epochs_for` (nothing is held out)
    args = (d["x_labelled"][subset], d["y_labelled"][subset], fit.epochs, fit.batch_size, fit.seed, fit.recipe)
    head = None
    if fit.kind == "supervised":
        model, record = train_supervised(*args)
    elif fit.kind == "probe":
        model, record = train_probe(_encoder_weights(paths, fit.encoder), *args)
        head = model.get_layer("softmax").get_weights()
    elif fit.kind == "finetune":  # from the probe of the same encoder, amount and seed (computed once, cached)
        probe = _cached(_run_fit, paths["cache"])(replace(fit, kind="probe"), code, paths)
        model, record = train_supervised(*args, _encoder_weights(paths, fit.encoder), probe["head"])
    else:
        raise ValueError(f"unknown kind of fit {fit.kind!r}")
    scores = evaluate(model, d["x_test"], d["y_test"])
    return {**_result(fit, record, scores, official, len(d["y_labelled"])), "head": head}


def _result(fit: Fit, record: dict, scores: dict, official: np.ndarray, n_labelled: int) -> dict:
    """A fit's row of the results table (test accuracy on all test images, and on those from MNIST's official test
    set), its history and its test confusion matrix."""
    row = {"method": fit.method, "amount": fit.amount, "fraction": fit.n_labels / n_labelled,
           "n_labels": fit.n_labels, "seed": fit.seed, "test_accuracy": scores["accuracy"],
           "official_test_accuracy": float(np.mean(scores["correct"][official])), "macro_f1": scores["macro_f1"],
           "epochs": record["epochs"], "setting": record.get("choice", ""), "seconds": round(record["seconds"], 2)}
    return {"row": row, "history": record["history"], "confusion": scores["confusion"], "head": None}


def _run_pretext(run: PretextRun, code: str, paths: dict) -> dict:
    """Train one `PretextRun` from its initial encoder on the unlabelled images; return the trained weights."""
    keras = models.import_keras()
    _check_code(code, pretext_code(run.pretext))
    d = _inputs(paths["split"], run.data, run.split)
    pretext: Pretext = PRETEXTS[run.pretext](run.settings)
    train, val = pretext_indices(d["split"]["unlabelled"], run.images, run.settings.val_fraction, run.seed)
    ref, query = monitor_slice(len(d["y_labelled"]))
    x_lab, y_lab = d["x_labelled"], d["y_labelled"]
    keras.utils.set_random_seed(run.seed)
    encoder = models.build_encoder()
    encoder.set_weights(_encoder_weights(paths, run.init))
    result = pretrain(pretext, encoder, d["x"][train], d["x"][val], run.seed, run.epochs,
                      monitor=(x_lab[ref], y_lab[ref], x_lab[query], y_lab[query]))
    analysis = pretext.analyse(result.pop("model"), x_lab[np.concatenate([ref, query])],
                               y_lab[np.concatenate([ref, query])])
    return {**result, "analysis": analysis, "weights": encoder.get_weights(), "train_images": len(train),
            "val_images": len(val)}


def _run_pretext_subset(run: SubsetPretextRun, code: str, paths: dict) -> dict:
    """`_run_pretext` on the first ``run.images`` unlabelled images of the seed's order, the training images repeated
    ``run.repeats`` times. (A function of its own, not an option of `_run_pretext`: an edit of that function's source
    would empty the cache of every pretext run.)"""
    keras = models.import_keras()
    _check_code(code, pretext_code(run.pretext))
    d = _inputs(paths["split"], run.data, run.split)
    pretext: Pretext = PRETEXTS[run.pretext](run.settings)
    train, val = pretext_indices(d["split"]["unlabelled"], run.images, run.settings.val_fraction, run.seed)
    ref, query = monitor_slice(len(d["y_labelled"]))
    x_lab, y_lab = d["x_labelled"], d["y_labelled"]
    keras.utils.set_random_seed(run.seed)
    encoder = models.build_encoder()
    encoder.set_weights(_encoder_weights(paths, run.init))
    result = pretrain(pretext, encoder, d["x"][np.tile(train, run.repeats)], d["x"][val], run.seed, run.epochs,
                      monitor=(x_lab[ref], y_lab[ref], x_lab[query], y_lab[query]))
    result.pop("model")
    return {**result, "analysis": {}, "weights": encoder.get_weights(), "train_images": len(train),
            "val_images": len(val)}


def _unlabelled_labels(split_path: str, data_fp: str, split_fp: str) -> np.ndarray:
    """The true labels of the unlabelled images. Read after a semi-supervised run has finished, to score its
    pseudo-labels for the report; never passed to the training functions."""
    d = _inputs(split_path, data_fp, split_fp)
    return load_mnist(verbose=False).labels[d["split"]["unlabelled"]].astype("int32")


def _pseudo_label_report(rounds: list[dict], truth: np.ndarray, threshold: float) -> dict:
    """Per round (or report of FixMatch's training): the coverage (share of unlabelled images whose top probability is
    at least ``threshold``), the accuracy of those pseudo-labels, and the accuracy of all of them."""
    report = {"round": [], "coverage": [], "pseudo_accuracy": [], "all_accuracy": []}
    for i, r in enumerate(rounds):
        kept = r["confidence"] >= threshold
        correct = r["pseudo"] == truth
        report["round"].append(int(r.get("step", i + 1)))
        report["coverage"].append(float(kept.mean()))
        report["pseudo_accuracy"].append(float(correct[kept].mean()) if kept.any() else float("nan"))
        report["all_accuracy"].append(float(correct.mean()))
    return report


def _run_semi(run: SemiRun, code: str, paths: dict) -> dict:
    """Train and score one `SemiRun`: the labels of the subset and the unlabelled **images** go to the training
    function; the unlabelled images' labels are read afterwards, to score the pseudo-labels only."""
    models.import_keras()
    _check_code(code, semi_code())
    d = _inputs(paths["split"], run.data, run.split)
    subset = nested_subsets(d["y_labelled"], [run.n_labels], run.seed)[0]
    x, y = d["x_labelled"][subset], d["y_labelled"][subset]
    x_unlabelled = d["x"][d["split"]["unlabelled"]]
    weights = None if run.encoder is None else _encoder_weights(paths, run.encoder)
    if run.kind == "pseudolabel":
        model, record = semi.train_pseudo_label(x, y, x_unlabelled, run.epochs, run.batch_size, run.seed, run.recipe,
                                                run.settings, weights)
    elif run.kind == "fixmatch":
        model, record = semi.train_fixmatch(x, y, x_unlabelled, run.seed, run.settings, weights)
    else:
        raise ValueError(f"unknown semi-supervised method {run.kind!r}")
    truth = _unlabelled_labels(paths["split"], run.data, run.split)
    record = {**record, "history": _pseudo_label_report(record.pop("rounds"), truth, run.settings.threshold),
              "choice": f"threshold={run.settings.threshold}"}
    scores = evaluate(model, d["x_test"], d["y_test"])
    return {**_result(run, record, scores, _official_test(paths["split"]), len(d["y_labelled"])),
            "weights": model.get_weights()}


# ----------------------------------------------------------------------------------------------------------------------
# Running tasks: cache, parallel workers, progress
# ----------------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _cached(function, cache: str):
    """``function`` memoised in the fit cache at ``cache`` (its ``paths`` argument is not part of the key)."""
    import joblib

    return joblib.Memory(cache, verbose=0).cache(function, ignore=["paths"])


@contextlib.contextmanager
def _backend():
    """joblib's backend for the tasks: ``loky`` processes here, or a Dask cluster (``$SSL_BACKEND=dask``: the
    scheduler at ``$SSL_DASK_SCHEDULER``, else a local cluster of one single-threaded worker per core)."""
    import joblib

    if os.environ.get(BACKEND_ENV, "loky") != "dask":
        yield
        return
    from dask.distributed import Client, LocalCluster

    address = os.environ.get(DASK_ENV)
    with contextlib.ExitStack() as stack:
        if not address:  # a local cluster, closed with the client
            address = stack.enter_context(LocalCluster(n_workers=default_jobs(), threads_per_worker=1))
        stack.enter_context(Client(address))
        stack.enter_context(joblib.parallel_config(backend="dask"))
        yield


def run_tasks(tasks: list, profile: Profile, paths: dict, jobs: int | None = None, desc: str = "fits") -> list[dict]:
    """Results of ``tasks`` (`Fit`, `PretextRun`, `SemiRun`), in order: read from the cache where they are, else computed
    ``jobs`` at a time (default `default_jobs`) and cached as each finishes. ``tasks`` may also be a list of stages
    (lists of tasks), run one after the other, when a later stage reads an earlier one's results from the cache
    (fine-tuning starts from its probe). ``paths``: ``split`` (the split file) and ``encoders`` (weights fingerprint ->
    file) for the workers. One progress line, with the time left."""
    import joblib
    from tqdm import tqdm

    stages = tasks if tasks and isinstance(tasks[0], list) else [tasks]
    cache = str(profile.cache)
    check_libraries(profile.cache)
    paths = {**paths, "cache": cache}
    calls = [[_call(task, cache) for task in stage] for stage in stages]
    todo = [[(f, task, code) for f, task, code in stage if not f.check_call_in_cache(task, code, paths)]
            for stage in calls]
    total, missing = sum(map(len, calls)), sum(map(len, todo))
    jobs = jobs or default_jobs()
    desc += f" ({total - missing} of {total} from the fit cache)" if missing < total else ""
    with tqdm(total=total, initial=total - missing, desc=desc, unit="fit" if desc == "fits" else "run",
              file=sys.stdout, ncols=100, mininterval=2, smoothing=0) as bar, _backend():
        for stage in todo:
            if stage:
                parallel = joblib.Parallel(n_jobs=min(jobs, len(stage)), return_as="generator_unordered")
                with warnings.catch_warnings():
                    # loky replaces a worker whose memory grew (the backend keeps some state per model built): a few
                    # seconds to start another, no result changes (each task seeds itself); not worth a warning
                    warnings.filterwarnings("ignore", "A worker stopped while some jobs were given to the executor")
                    for _ in parallel(joblib.delayed(_compute)(f, task, code, paths) for f, task, code in stage):
                        bar.update()
    return [f(task, code, paths) for stage in calls for f, task, code in stage]


#: libraries whose versions can change a cached result (the frozen-feature fits are scikit-learn's) beyond the backend
#: and Keras, which every key holds
LIBRARIES = ("numpy", "scipy", "sklearn")


def check_libraries(cache: Path) -> None:
    """Refuse a fit cache computed with other versions of `LIBRARIES` than this run has (recorded in its
    ``libraries.json``, written by the first run that uses the folder)."""
    import importlib
    import json

    current = {name: importlib.import_module(name).__version__ for name in LIBRARIES}
    path = Path(cache) / "libraries.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=1) + "\n")
    elif (recorded := json.loads(path.read_text())) != current:
        raise RuntimeError(f"The fit cache {cache} was computed with {recorded}; this environment has {current}. "
                           "Install the pinned requirements, or recompute every fit (run_study.py --fresh).")


def count_cached(cache: Path) -> int:
    """Entries (fits and pretext runs) in a fit cache folder."""
    return len(list(Path(cache).rglob("output.pkl")))


def _compute(function, task, code: str, paths: dict) -> None:
    """Compute and cache one task in a worker, then free the backend's state of the models it built."""
    function(task, code, paths)
    models.import_keras().backend.clear_session()


def _call(task, cache: str) -> tuple:
    """(memoised function, task, code version) of a `Fit`, a `PretextRun`, a `SubsetPretextRun` or a `SemiRun`."""
    if isinstance(task, Fit):
        return _cached(_run_fit, cache), task, fit_code()
    if isinstance(task, SemiRun):
        return _cached(_run_semi, cache), task, semi_code()
    if isinstance(task, SubsetPretextRun):
        return _cached(_run_pretext_subset, cache), task, pretext_code(task.pretext)
    return _cached(_run_pretext, cache), task, pretext_code(task.pretext)
