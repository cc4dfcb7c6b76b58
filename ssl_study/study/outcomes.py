"""The fits of notebooks 2 and 5: planned as the profile's design asks, run from the fit cache (or computed), and
their results -- table, histories, confusion matrices, which test images each fit got right -- saved for the next
notebook and loaded back, refused where missing, edited or stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..compute.artefacts import ArtefactError, load_arrays, load_json, load_table, save_arrays, save_json, save_table
from ..compute.fits import FIT_KINDS, frozen_kinds
from ..compute.semi import SEMI_METHODS
from ..config import NOTEBOOK_FINETUNE, NOTEBOOK_SUPERVISED, SCALE_CONTROL, Recipe
from .design import Profile
from .executor import run_tasks
from .inputs import Inputs, pretrained_encoders
from .methods import label, method_id
from .plans import plan_fits
from .tasks import Fit


#: a results table: the method (its id, encoder, use and display label: `ssl_study.study.methods`), the label subset,
#: the scores and the cost of each fit
RESULT_COLUMNS = ["method", "encoder", "use", "label", "amount", "fraction", "n_labels", "seed", "test_accuracy",
                  "official_test_accuracy", "macro_f1", "epochs", "setting", "seconds"]

#: the results of each notebook that trains classifiers: (notebook, file-name stem)
RESULTS = {"supervised": (NOTEBOOK_SUPERVISED, "supervised"), "pretrained": (NOTEBOOK_FINETUNE, "pretrained")}


def plan_encoder_fits(inputs: Inputs, names, recipe: Recipe = Recipe()) -> list[list[Fit]]:
    """Notebook 5's fits, in two stages, each as the profile's design asks (`Profile.seeds_of`). First: k-NN and
    logistic regression on the frozen features of every encoder of ``names`` (pretexts, and ``random`` for the
    untrained control) and of the raw pixels; the supervised recipe from each encoder (``recipe``: its weights, a
    random head); and the linear probes. Then: the fine-tuning that starts from each probe."""
    profile = inputs.profile

    def plan(kind, name):
        seeds = None if name == "pixels" else {s: m["identity"] for s, m in pretrained_encoders(inputs, name).items()}
        return plan_fits(kind, profile, inputs.n_labelled, inputs.data_fp, inputs.split_fp, recipe, name, seeds)

    frozen = [fit for name in ["pixels", *names] for kind in frozen_kinds() for fit in plan(kind, name)]
    frozen.sort(key=lambda fit: (fit.pretext, fit.seed))  # a worker computes an encoder's features once
    cnn = [name for name, kind in FIT_KINDS.items() if kind.encoder and not kind.frozen]
    first = [fit for name in names for kind in cnn if not FIT_KINDS[kind].after for fit in plan(kind, name)]
    return [frozen + first, [fit for name in names for kind in cnn if FIT_KINDS[kind].after
                             for fit in plan(kind, name)]]


def planned_fits(profile: Profile, n_labelled: int) -> pd.DataFrame:
    """The profile's design as a table: one row per classifier fit and semi-supervised run that notebooks 2 and 5
    make (method, encoder, use, amount, seed); the sweep's fits of notebook 4 are not in it."""
    from ..compute.pretexts import PRETEXTS

    rows = []
    for encoder in ["none", "random", "pixels", SCALE_CONTROL, *PRETEXTS]:
        for use, kind in FIT_KINDS.items():
            if (encoder == "none") == kind.encoder or (encoder == "pixels" and not kind.frozen):
                continue
            rows += [(method_id(encoder, use), encoder, use, amount, seed) for amount, _ in profile.amounts(n_labelled)
                     for seed in profile.seeds_of(encoder, use, amount)]
    for kind in SEMI_METHODS:
        for start, amounts, seeds in profile.semi_plan(kind, n_labelled):
            rows += [(method_id(start or "none", kind), start or "none", kind, amount, seed) for amount in amounts
                     for seed in seeds]
    return pd.DataFrame(rows, columns=["method", "encoder", "use", "amount", "seed"])


# ----------------------------------------------------------------------------------------------------------------------
# Fits and their results
# ----------------------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """The fits of one or more methods: the tidy results table, histories and test confusion matrices per method
    keyed ``"amount/seed"``, and ``correct``: per row of the table, which test images the fit classified correctly
    (`numpy.packbits` of one bit per test image; None where a fit did not record them)."""

    table: pd.DataFrame
    histories: dict[str, dict[str, dict]]
    confusions: dict[str, dict[str, list]]
    heads: dict[str, dict[str, list]]
    correct: np.ndarray | None = None


def run_fits(fits: list[Fit] | list[list[Fit]], inputs: Inputs, jobs: int | None = None,
             encoders: dict[str, Path] | None = None) -> Outcome:
    """Results of ``fits`` from the fit cache, computing (in parallel) those it lacks; ``fits`` may be stages run one
    after the other (probes, then the fine-tuning that starts from them). ``encoders``: identity -> file, for the fits
    that start from an encoder."""
    paths = {"split": str(inputs.split_path), "encoders": {fp: str(p) for fp, p in (encoders or {}).items()}}
    results = run_tasks(fits, inputs.profile, paths, jobs)
    fits = [fit for stage in fits for fit in stage] if fits and isinstance(fits[0], list) else fits
    rows = [{**r["row"], "encoder": fit.encoder_name, "use": fit.kind, "label": label(fit.encoder_name, fit.kind)}
            for fit, r in zip(fits, results)]
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    bits = [r.get("correct") for r in results]
    outcome = Outcome(table, {}, {}, {}, None if any(b is None for b in bits) or not bits else np.stack(bits))
    for fit, result in zip(fits, results):
        key = f"{fit.amount}/{fit.seed}"
        outcome.histories.setdefault(fit.method, {})[key] = result["history"]
        outcome.confusions.setdefault(fit.method, {})[key] = result["confusion"]
        if result["head"] is not None:
            outcome.heads.setdefault(fit.method, {})[key] = result["head"]
    return outcome


def save_outcome(outcome: Outcome, name: str, inputs: Inputs, sources=()) -> list[Path]:
    """Write ``results_<name>.csv``, ``histories_<name>.json``, ``confusions_<name>.json`` and ``correct_<name>.npz``
    (row i: which test images the fit of the table's row i classified correctly, packed bits), replacing the earlier
    ones completely; their side-cars record the split, ``sources`` (encoders) and the data's fingerprint."""
    notebook, stem = RESULTS[name]
    art = inputs.profile.artefacts
    made_from = [inputs.split_path, *sources]
    order = outcome.table.reset_index(drop=True).sort_values(["method", "n_labels", "seed"]).index.to_numpy()
    table = outcome.table.iloc[order].reset_index(drop=True)  # positions: the bits' rows follow the same order
    if outcome.correct is None:
        raise ArtefactError("some fits did not record which test images they classified correctly: run the notebook "
                            "again (their cache entries are from an older version)")
    return [save_table(table, art / f"results_{stem}.csv", notebook, made_from, inputs.data_fp),
            save_arrays({"correct": outcome.correct[order], "n_test": np.array(len(inputs.split["test"]))},
                        art / f"correct_{stem}.npz", notebook, made_from, inputs.data_fp),
            save_json(outcome.histories, art / f"histories_{stem}.json", notebook, made_from, inputs.data_fp),
            save_json(outcome.confusions, art / f"confusions_{stem}.json", notebook, made_from, inputs.data_fp)]


def load_outcome(name: str, inputs: Inputs) -> Outcome:
    """The results, histories and confusions saved by `save_outcome`, refused if missing, edited or stale."""
    notebook, stem = RESULTS[name]
    art = inputs.profile.artefacts
    table = load_table(art / f"results_{stem}.csv", notebook, inputs.data_fp)
    if list(table.columns) != RESULT_COLUMNS:
        raise ArtefactError(f"results_{stem}.csv does not have the study's columns: re-run notebooks/{notebook}.")
    correct = load_arrays(art / f"correct_{stem}.npz", notebook, inputs.data_fp)["correct"]
    if len(correct) != len(table):
        raise ArtefactError(f"correct_{stem}.npz does not match results_{stem}.csv: re-run notebooks/{notebook}.")
    return Outcome(table, load_json(art / f"histories_{stem}.json", notebook, inputs.data_fp),
                   load_json(art / f"confusions_{stem}.json", notebook, inputs.data_fp), {}, correct)


def combine(*outcomes: Outcome) -> Outcome:
    """Several outcomes as one (methods do not overlap)."""
    table = pd.concat([o.table for o in outcomes], ignore_index=True)
    bits = [o.correct for o in outcomes]
    merged = Outcome(table, {}, {}, {}, None if any(b is None for b in bits) else np.concatenate(bits))
    for o in outcomes:
        merged.histories.update(o.histories)
        merged.confusions.update(o.confusions)
        merged.heads.update(o.heads)
    return merged
