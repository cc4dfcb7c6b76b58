"""The semi-supervised methods' thresholds and schedules (`selection.py`'s part ``semi``), at 10 labels per class
from random weights, on validation data only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ssl_study.compute.data import load_mnist
from ssl_study.compute.training import evaluate
from ssl_study.config import N_CLASSES, Recipe
from ssl_study.study.design import epochs_for
from experiments import selection_common as common
from experiments.selection_common import PROFILE, SEEDS, labelled_data, resumable, selection_set


def _semi_run(method: str, settings, seed: int, split_seed: int | None = None) -> list[dict]:
    """One semi-supervised run at 10 labels per class from random weights (selection seed ``seed``): the
    validation accuracy, pseudo-label coverage and pseudo-label accuracy at each round or report. ``settings``: the
    method's settings, or a dict of those that differ from its defaults."""
    from threadpoolctl import threadpool_limits

    from ssl_study.compute import semi

    if isinstance(settings, dict):
        settings = dataclasses.replace(semi.get_semi(method).Settings(), **settings)
    common.SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        return _semi_rows(method, semi.get_semi(method, settings), settings, seed)


def _semi_rows(method: str, unit, settings, seed: int) -> list[dict]:
    """The rows of `_semi_run`: ``unit`` (the method at ``settings``) trained on the subset of selection seed ``seed``
    at 10 labels per class, one row per pseudo-labelling round or FixMatch report."""
    split, x_lab, y_lab, x_all, _ = labelled_data()
    subsets, selection = selection_set(y_lab)
    subset = subsets[seed][10 * N_CLASSES]
    x_u, y_u = x_all[split["unlabelled"]], load_mnist(verbose=False).labels[split["unlabelled"]]
    score = lambda model: evaluate(model, x_lab[selection], y_lab[selection])["accuracy"]  # noqa: E731
    epochs = epochs_for(len(subset), PROFILE, Recipe())[1]
    _, record = unit.train(x_lab[subset], y_lab[subset], x_u, seed, epochs, PROFILE.batch_size, watch=score)
    rows = []
    for i, r in enumerate(record["rounds"]):
        kept = r["kept"] if r["kept"] is not None else r["confidence"] >= settings.threshold
        rows.append({"method": method, **{k: v for k, v in dataclasses.asdict(settings).items() if k != "strong"},
                     "seed": seed, "round": r.get("step", i), "accuracy": r["watch"], "coverage": float(kept.mean()),
                     "pseudo_accuracy": float((r["pseudo"][kept] == y_u[kept]).mean()) if kept.any() else np.nan,
                     "seconds": round(record["seconds"], 1)})
    print(rows[-1], flush=True)
    return rows


def semi_part(args) -> pd.DataFrame:
    """The semi-supervised methods' thresholds and schedules (notebook 5), at 10 labels per class from random weights,
    on selection seed 100, scored on the 3,000 selection images at each pseudo-labelling round and at each report
    of FixMatch's training: pseudo-labelling at each of ``--thresholds`` x ``--student-images`` for ``--rounds``
    rounds (the number of rounds is chosen from the per-round scores), FixMatch at each threshold x
    ``--learning-rates`` x ``--steps``. The unlabelled images' labels are read to report pseudo-label accuracy only."""
    import itertools

    from ssl_study.compute import semi

    runs = [("pseudolabel", semi.PseudoLabelSettings(threshold=t, rounds=args.rounds, student_images=images))
            for t, images in itertools.product(args.thresholds, args.student_images)]
    runs += [("fixmatch", semi.FixMatchSettings(threshold=t, learning_rate=lr, steps=steps, ema_momentum=ema,
                                                weight_decay=wd))
             for t, lr, steps, (ema, wd) in itertools.product(args.thresholds, args.learning_rates, args.steps,
                                                              args.ema_decay)]
    runs = [run for run in runs if run[0] in args.methods]
    runs = [(m, settings, seed) for m, settings in runs for seed in SEEDS[: args.seeds]]
    # the longest first: two workers finish together
    runs.sort(key=lambda run: -getattr(run[1], "steps", 0) - getattr(run[1], "student_images", 0) / 100)
    as_dict = lambda settings: {k: v for k, v in dataclasses.asdict(settings).items() if k != "strong"}  # noqa: E731
    return pd.DataFrame(resumable([(m, as_dict(s), seed) for m, s, seed in runs], _semi_run, args.out or "semi"))
