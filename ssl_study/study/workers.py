"""What a worker does: load its inputs once per process, then train and score one task, returning plain data.

`compute` is the one entry point (`ssl_study.study.executor` calls it in a worker process): it dispatches on the task's
type to `_run_fit`, `_run_pretext` or `_run_semi`. Each loads the data itself (from the decoded-data cache, checked
against the task's fingerprints) and every fit runs on one thread, so a result does not depend on where or alongside
what its task ran. Results hold plain data and numpy arrays only (`ssl_study.study.store`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..compute import models, semi
from ..compute.fits import FIT_KINDS, FitData
from ..compute.artefacts import ArtefactError, meta_path
from ..compute.split import SPLIT_NAMES, nested_subsets, split_fingerprint
from ..compute.data import load_mnist, to_model_input
from ..config import get_dataset
from ..compute.pretexts import PRETEXTS, Pretext, monitor_slice, pretext_indices, pretrain
from ..compute.training import evaluate


@functools.lru_cache(maxsize=2)
def _inputs(split_path: str, data_fp: str, split_fp: str) -> dict:
    """The images and labels a worker trains on, loaded once per process and checked against the task's fingerprints;
    ``official``: which test images come from MNIST's official test set (``testing/``)."""
    mnist = load_mnist(verbose=False)
    if mnist.fingerprint != data_fp:
        dataset = get_dataset()
        raise ArtefactError(f"The {dataset.title} images this worker loads are not the ones the task was planned on: "
                            f"point ${dataset.env} at the same data everywhere, and re-run notebooks from "
                            "01_split.ipynb.")
    with np.load(split_path) as z:
        split = {k: z[k] for k in SPLIT_NAMES}
    if split_fingerprint(split) != split_fp:
        raise ArtefactError(f"{Path(split_path).name} changed while the tasks ran: re-run notebooks/01_split.ipynb.")
    x, y = to_model_input(mnist.images), mnist.labels.astype("int32")
    return {"x": x, "split": split, "x_labelled": x[split["labelled"]], "y_labelled": y[split["labelled"]],
            "x_test": x[split["test"]], "y_test": y[split["test"]], "official": _official_test(mnist, split),
            "y_unlabelled": y[split["unlabelled"]]}


def _official_test(mnist, split: dict) -> np.ndarray:
    """Which test images of the split come from MNIST's official test set (``testing/``): the rest are from its
    training set. The split pools the two, so writers of the official training set appear in both halves."""
    return mnist.origin[split["test"]] == "testing"


def _encoder_weights(paths: dict, identity: str) -> list:
    """The weights of the encoder ``identity`` names (`ssl_study.study.keys`: the key of what made it), from the file
    ``paths`` gives for it, checked against the file's side-car: the same identity, the weights it was saved with."""
    path = Path(paths["encoders"][identity])
    meta = json.loads(meta_path(path).read_text())
    encoder = models.build_encoder()
    encoder.load_weights(path)
    weights = encoder.get_weights()
    if meta.get("identity") != identity or models.weights_fingerprint(weights) != meta.get("weights"):
        raise ArtefactError(f"{path.name} changed while the tasks ran: re-run the notebook that wrote it.")
    return weights


@functools.lru_cache(maxsize=2)
def _features(split_path: str, data_fp: str, split_fp: str, encoder_file: str | None, identity: str | None) -> dict:
    """The frozen features of the labelled and the test images: the encoder's 288 (``identity``, from
    ``encoder_file``), or the 784 raw pixels where there is no encoder. Computed once per worker and encoder."""
    d = _inputs(split_path, data_fp, split_fp)
    if identity is None:
        return {part: d[f"x_{part}"].reshape(len(d[f"x_{part}"]), -1) for part in ("labelled", "test")}
    encoder = models.build_encoder()
    encoder.set_weights(_encoder_weights({"encoders": {identity: encoder_file}}, identity))
    return {part: models.encode(encoder, d[f"x_{part}"]) for part in ("labelled", "test")}


def _run_fit(fit, paths: dict, probe_result=None) -> dict:
    """Train and score one `Fit` by its kind's unit (`ssl_study.compute.fits`), on every label of its subset (for the
    fixed schedule of `epochs_for`: nothing is held out); ``paths`` says where the split and the encoders are;
    ``probe_result``: a callable that returns the result of an earlier fit (a fine-tuning's probe)."""
    d = _inputs(paths["split"], fit.data, fit.split)
    subset = nested_subsets(d["y_labelled"], [fit.n_labels], fit.seed)[0]
    kind = FIT_KINDS[fit.kind]()
    if kind.frozen:  # an encoder's frozen features (or the raw pixels), computed once per worker and encoder
        features = _features(paths["split"], fit.data, fit.split, paths["encoders"].get(fit.encoder), fit.encoder)
        x, x_test = features["labelled"][subset], features["test"]
    else:
        x, x_test = d["x_labelled"][subset], d["x_test"]
    data = FitData(x, d["y_labelled"][subset],
                   weights=(lambda: _encoder_weights(paths, fit.encoder)) if fit.encoder else None,
                   earlier=lambda name: probe_result(replace(fit, kind=name)))
    model, record, head = kind.run(fit, data)
    scores = evaluate(model, x_test, d["y_test"])
    return {**_result(fit, record, scores, d["official"], len(d["y_labelled"])), "head": head}


def _result(fit, record: dict, scores: dict, official: np.ndarray, n_labelled: int) -> dict:
    """A fit's row of the results table (test accuracy on all test images, and on those from MNIST's official test
    set), its history, its test confusion matrix, and which test images it classified correctly (``correct``: one
    bit per test image, in the split's order, `numpy.packbits`: what a bootstrap over the test images needs)."""
    row = {"method": fit.method, "amount": fit.amount, "fraction": fit.n_labels / n_labelled,
           "n_labels": fit.n_labels, "seed": fit.seed, "test_accuracy": scores["accuracy"],
           "official_test_accuracy": float(np.mean(scores["correct"][official])), "macro_f1": scores["macro_f1"],
           "epochs": record["epochs"], "setting": record.get("choice", ""), "seconds": round(record["seconds"], 2)}
    return {"row": row, "history": record["history"], "confusion": scores["confusion"], "head": None,
            "correct": np.packbits(scores["correct"])}


def _run_pretext(run, paths: dict) -> dict:
    """Train one `PretextRun` from its initial encoder on its unlabelled images; return the trained weights."""
    keras = models.import_keras()
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
    model = result.pop("model")
    shown = np.concatenate([ref, query])
    analysis = {} if run.part else pretext.analyse(model, x_lab[shown], y_lab[shown])
    return {**result, "analysis": analysis, "weights": encoder.get_weights(), "train_images": len(train),
            "val_images": len(val)}


def _unlabelled_labels(d: dict) -> np.ndarray:
    """The true labels of the unlabelled images. Read after a semi-supervised run has finished, to score its
    pseudo-labels for the report; never passed to the training functions."""
    return d["y_unlabelled"]


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


def _semi_unlabelled(n: int, images: int | None, seed: int) -> np.ndarray | slice:
    """Which of the ``n`` unlabelled images a semi-supervised run uses: all, in the split's order (``images`` None), or
    the first ``images`` of the seed's order of them."""
    return slice(None) if images is None else np.random.default_rng(seed).permutation(n)[:images]


def _run_semi(run, paths: dict) -> dict:
    """Train and score one `SemiRun`: the labels of the subset and the unlabelled **images** go to the training
    function; the unlabelled images' labels are read afterwards, to score the pseudo-labels only."""
    d = _inputs(paths["split"], run.data, run.split)
    subset = nested_subsets(d["y_labelled"], [run.n_labels], run.seed)[0]
    x, y = d["x_labelled"][subset], d["y_labelled"][subset]
    used = _semi_unlabelled(len(d["split"]["unlabelled"]), run.images, run.seed)
    x_unlabelled = d["x"][d["split"]["unlabelled"][used]]
    weights = None if run.encoder is None else _encoder_weights(paths, run.encoder)
    method = semi.get_semi(run.kind, run.settings)
    model, record = method.train(x, y, x_unlabelled, run.seed, run.epochs, run.batch_size, run.recipe, weights)
    record = {**record, "history": _pseudo_label_report(record.pop("rounds"), _unlabelled_labels(d)[used],
                                                        run.settings.threshold),
              "choice": f"threshold={run.settings.threshold}"}
    scores = evaluate(model, d["x_test"], d["y_test"])
    return _result(run, record, scores, d["official"], len(d["y_labelled"]))


def tsne_map(features: np.ndarray) -> np.ndarray:
    """A 2-D t-SNE map of ``features`` (one row per image), seeded: the same features give the same map."""
    from sklearn.manifold import TSNE

    return TSNE(init="pca", perplexity=30, random_state=0).fit_transform(features)


def compute(task, paths: dict, probe_result=None) -> dict:
    """Train and score one task (`Fit`, `PretextRun` or `SemiRun`) in this process."""
    models.import_keras()  # first, so that the backend's start-up chatter stays out of the worker's output
    run = {"Fit": lambda: _run_fit(task, paths, probe_result), "PretextRun": lambda: _run_pretext(task, paths),
           "SemiRun": lambda: _run_semi(task, paths)}.get(type(task).__name__)
    if run is None:
        raise TypeError(f"not a task: {type(task).__name__}")
    return run()
