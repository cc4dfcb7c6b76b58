"""Choosing the training recipe and the pretext settings on validation data only (never on the test set).

    .venv/bin/python experiments/selection.py recipe           # supervised recipe at 100 % of the labels
    .venv/bin/python experiments/selection.py budget           # the baseline's budget at 10 labels per class
    .venv/bin/python experiments/selection.py pretext --lpft   # pretext settings and fine-tuning, at 10 labels/class
    .venv/bin/python experiments/selection.py pretexts --lpft  # every pretext's own settings, one protocol for all
    .venv/bin/python experiments/selection.py siamese_schedule --split-seed 20261130 --pretext-epochs 8 32 100

Needs the split of notebook 1 (``artefacts/full/split.npz``). Uses its own seeds (100, 101, 102), not the study's
(0, 1, 2), so the study's subsets are not the ones the choices were made on.

* ``recipe``: learning rate x epochs (x batch size) at 100 % of the labelled set, three seeds; the score is the
  accuracy on the 10 % of the subset that `helpers.train_val_split` holds out, exactly as every fit of the study does.
* ``budget``: how many images the supervised baseline sees at 10 labels per class (``min_fit_images``), scored like
  ``pretext`` below, so that the baseline's low-label budget is chosen on the same data as the pretext settings.
* ``pretext``: pretext variants (augmentation, length). Each pre-trained encoder is fine-tuned and linearly probed on
  10 labels per class (three subset seeds). A 10-image validation set cannot rank settings, so the score is the
  accuracy on 3,000 other images of the **labelled** set (outside every 100-image subset used here). No test image
  is ever used.

* ``pretexts``: the settings of every registered pretext task (`PRETEXT_VARIANTS`), with one protocol for all: one
  pretext run on the unlabelled set (selection seed 100), its frozen encoder scored by k-NN and logistic regression
  (setting chosen by cross-validation on the subset) trained on all 100 labels of each 10-per-class subset, and
  (``--lpft``) probed-then-fine-tuned as in notebook 5, all scored on the 3,000 selection images as ``pretext``; plus
  the random encoder and raw pixels under the same classifiers. The kNN monitor of every epoch is kept too.

Writes ``experiments/results/<part>.json`` and ``.md``; notebooks 2, 4 and 5 and ``helpers.py`` quote the choices.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

import helpers

from experiments import selection_common as common
from experiments.selection_common import OUT, PROFILE, SEEDS, keras
from experiments.selection_pretext import VARIANTS, pretext_part, pretexts_part, schedule_part
from experiments.selection_recipe import budget_part, finetune_lr_part, recipe_part
from experiments.selection_report import decision, schedule_report, semi_report
from experiments.selection_scarce import scarce_part, winners
from experiments.selection_semi import semi_part

#: the parts that `write_part` measures and summarises: part -> (the function that measures it, the keys of a
#: setting (one row of the summary each), the scores summarised over the seeds by their mean and standard deviation)
PARTS = {"recipe": (recipe_part, ["batch_size", "learning_rate", "epochs_at_full"], ["val_accuracy", "seconds"]),
         "pretext": (pretext_part, ["variant", "pretext_epochs"], ["finetune", "probe", "lp_ft"]),
         "budget": (budget_part, ["min_fit_images", "labels", "epochs"], ["supervised", "seconds"]),
         "finetune_lr": (finetune_lr_part, ["labels", "method", "learning_rate"], ["accuracy"]),
         "pretexts": (pretexts_part, ["pretext", "variant"], ["knn", "logistic", "lp_ft", "pretext_seconds"]),
         "scarce": (scarce_part, ["arm", "labels", "budget", "augment", "learning_rate"], ["accuracy", "seconds"]),
         "semi": (semi_part, ["method", "threshold", "learning_rate", "steps", "student_images", "round"],
                  ["accuracy", "coverage", "pseudo_accuracy", "seconds"])}


def build_parser() -> argparse.ArgumentParser:
    """The command line: the part to run and its settings (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["recipe", "pretext", "budget", "pretexts", "finetune_lr", "semi",
                                         "siamese_schedule", "schedule", "scarce"])
    parser.add_argument("--split-seed", type=int, default=None,
                        help="the split made with this seed (its labelled and unlabelled images only) instead of "
                             "notebook 1's: the confirmatory run's is helpers.CONFIRMATORY_SPLIT_SEED")
    parser.add_argument("--pretexts", nargs="+", default=list(helpers.PRETEXTS), choices=list(helpers.PRETEXTS),
                        help="the registered pretexts to compare (one without variants here: its own settings)")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="recipe: how many of the seeds to use")
    parser.add_argument("--min-fit-images", type=int, nargs="+", default=[40_000, 80_000, 160_000])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[3e-3, 6e-3])
    parser.add_argument("--epochs", type=int, nargs="+", default=[8, 12, 20])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[PROFILE.batch_size])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--pretext-epochs", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--pretext-variants", nargs="+", default=None, help="pretexts: only these variants")
    parser.add_argument("--run-epochs", type=int, default=None,
                        help="pretexts: train every variant for this many epochs (default: each task's own)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.9, 0.95], help="semi")
    parser.add_argument("--student-images", type=int, nargs="+", default=[160_000, 480_000], help="semi")
    parser.add_argument("--rounds", type=int, default=5, help="semi: pseudo-labelling rounds")
    parser.add_argument("--steps", type=int, nargs="+", default=[3000, 6000], help="semi: FixMatch's steps")
    parser.add_argument("--encoder-passes", type=int, default=None,
                        help="schedule: encoder passes per unlabelled image (every task the same budget)")
    parser.add_argument("--lr-factors", type=float, nargs="+", default=None,
                        help="schedule: learning rates as multiples of each task's own")
    parser.add_argument("--no-control", action="store_true",
                        help="schedule: leave out the untrained encoder (a report merges another part's control)")
    parser.add_argument("--budget-passes", type=int, default=None,
                        help="schedule: the most encoder passes per unlabelled image a candidate may cost")
    parser.add_argument("--merge", nargs="+", default=[],
                        help="schedule, semi, scarce: also report the runs saved under these names (same seeds and "
                             "split; scarce: with --from-json)")
    parser.add_argument("--methods", nargs="+", default=["pseudolabel", "fixmatch"], help="semi: which methods")
    parser.add_argument("--ema-decay", type=lambda text: tuple(float(v) for v in text.split(",")), nargs="+",
                        default=[(0.0, 0.0)], help="semi: FixMatch's EMA momentum,weight decay pairs (0,0: neither)")
    parser.add_argument("--lpft", action="store_true", help="also fine-tune from the probe's head (LP-FT)")
    parser.add_argument("--arms", nargs="+", default=["scratch", "siamese"], choices=["scratch", "siamese"],
                        help="scarce: the arms to tune")
    parser.add_argument("--budgets", type=int, nargs="+", default=[1, 2, 4], help="scarce: times today's budget")
    parser.add_argument("--amounts", nargs="+", default=["10/class", "1%"], choices=["10/class", "1%"],
                        help="scarce: the primary amounts to tune at (an extension past an edge: where it lies)")
    parser.add_argument("--augments", nargs="+", default=["light", "strong"], choices=["light", "strong"],
                        help="scarce: the augmentations")
    parser.add_argument("--rates", type=float, nargs="+", default=[3e-3, 1e-2, 3e-2], help="scarce: learning rates")
    parser.add_argument("--out", default=None, help="name of the result files (default: the part)")
    parser.add_argument("--from-json", action="store_true",
                        help="schedule: measure nothing, write the report again from the saved runs; semi (with "
                             "--split-seed): measure nothing, report the --merge parts' runs")
    return parser


def main() -> None:
    """Measure the part that the command line names and write its result files (``experiments/results/<out>.json``
    and ``.md``), or (``--from-json``) write a part's report again from the runs it saved."""
    args = build_parser().parse_args()
    common.SPLIT_SEED = args.split_seed
    if args.part == "siamese_schedule":  # the command of the committed siamese_length.md
        args.part, args.pretexts = "schedule", ["siamese"]
    if args.part == "schedule":
        write_schedule(args)
    elif args.part == "semi" and args.split_seed is not None:  # issue 19's protocol: seeds, the decision rule
        write_semi_confirmatory(args)
    else:
        write_part(args)


def _stamp(command: bool = True) -> dict:
    """When and how a part was measured: the date, Keras' backend, the selection seeds, the split's seed, and
    (``command``) the command line's arguments."""
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "backend": keras.backend.backend(), "seeds": SEEDS,
             "split_seed": common.SPLIT_SEED}
    if common.DATASET.name != helpers.DEFAULT_DATASET:  # (MNIST's results, older than the parameter, do not say it)
        stamp["dataset"] = common.DATASET.name
    if command:
        stamp["command"] = " ".join(sys.argv[1:])
    return stamp


def _saved_runs(names: list[str]) -> list[pd.DataFrame]:
    """The runs that the parts saved under ``names`` (``experiments/results/<name>.json``), one table each."""
    return [pd.DataFrame(json.loads((OUT / f"{name}.json").read_text())["runs"]) for name in names]


def _write_runs(out: str, stamp: dict, table: pd.DataFrame) -> None:
    """``experiments/results/<out>.json``: the ``stamp`` and the runs of ``table``; the part's partial file (its runs
    saved as they ended) is removed."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records")}, indent=2) + "\n")
    (OUT / f".{out}.partial.jsonl").unlink(missing_ok=True)


def write_schedule(args) -> None:
    """``schedule``: measure the pretext schedules (`schedule_part`), or (``--from-json``) read the runs a measurement
    saved, and write the report (`schedule_report`) of them and of the ``--merge`` parts' runs."""
    out = args.out or args.part
    if args.from_json:  # the report again, from the runs a measurement saved
        stamp = json.loads((OUT / f"{out}.json").read_text())
        # encoder_passes, written by the first version of this part, counted the views twice (images_seen has them)
        table = pd.DataFrame(stamp.pop("runs")).drop(columns=["encoder_passes"], errors="ignore")
        (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records")}, indent=2) + "\n")
    else:
        table = schedule_part(args)
        stamp = _stamp()
        _write_runs(out, stamp, table)
    common.SPLIT_SEED = stamp["split_seed"]
    text = (f"Measured {stamp['date']} (`experiments/selection.py {stamp['command']}`), validation data only: "
            f"the labelled set of the split of seed {common.SPLIT_SEED}. Scores in % on its 3,000 selection images, "
            "mean ± standard error over pretext seeds (each the mean of three 10-per-class subsets); seconds: one "
            "pretext run's training, on a machine shared with other jobs.\n\n"
            + schedule_report(pd.concat([table, *_saved_runs(args.merge)], ignore_index=True), args.budget_passes))
    (OUT / f"{out}.md").write_text(text)
    print(text)


def write_semi_confirmatory(args) -> None:
    """``semi`` with ``--split-seed`` (issue 19's protocol): measure the semi-supervised methods (`semi_part`; not with
    ``--from-json``), and write the report (`semi_report`) of their runs and of the ``--merge`` parts' runs."""
    out = args.out or "semi_confirmatory"
    measured = [] if args.from_json else [semi_part(args)]  # --from-json: only the --merge parts' saved runs
    table = pd.concat([*measured, *_saved_runs(args.merge)], ignore_index=True)
    stamp = _stamp()
    _write_runs(out, stamp, table)
    text = (f"Measured {stamp['date']} (`experiments/selection.py {stamp['command']}`), validation data only: "
            f"the labelled set of the split of seed {common.SPLIT_SEED}, 10 labels per class from random weights, "
            "scored on its 3,000 selection images; mean and standard error over selection seeds.\n\n"
            + semi_report(table))
    (OUT / f"{out}.md").write_text(text)
    print(text)


def write_part(args) -> None:
    """The other parts (`PARTS`): measure the part, and write its runs with a summary per setting (mean and standard
    deviation of each score over the seeds), and for ``recipe`` the selection rule applied (`decision`)."""
    measure, keys, scores = PARTS[args.part]
    # --from-json: measure nothing, report the runs that the --merge parts saved (a grid and its extensions)
    table = pd.concat(_saved_runs(args.merge), ignore_index=True) if args.from_json else measure(args)
    OUT.mkdir(parents=True, exist_ok=True)
    summary = _summary(table, args.part, keys, scores)
    stamp = _stamp(command=False)
    out = args.out or args.part
    (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records"),
                                                        "summary": summary.to_dict("records")}, indent=2))
    (OUT / f".{out}.partial.jsonl").unlink(missing_ok=True)
    rule = ("\n" + decision(table, keys, "val_accuracy", "epochs_at_full")) if args.part == "recipe" else \
        ("\nThe winner per arm and amount (the highest mean over the seeds; one on an edge of its grid extends that"
         " grid):\n\n" + winners(table).to_markdown(index=False) + "\n") if args.part == "scarce" else ""
    split = f", the split of seed {common.SPLIT_SEED}" if common.SPLIT_SEED else ""
    (OUT / f"{out}.md").write_text(f"Measured {stamp['date']} (`experiments/selection.py {' '.join(sys.argv[1:])}`), "
                                   f"validation data only" + split
                                   + ".\n\n" + summary.to_markdown(index=False) + "\n" + rule)
    print(summary.to_string(index=False))


def _summary(table: pd.DataFrame, part: str, keys: list[str], scores: list[str]) -> pd.DataFrame:
    """One row per setting (``keys``) of the runs in ``table``: the mean and standard deviation over the seeds of
    each of ``scores`` that the part measured, and the number of runs."""
    summary = (table.fillna({"pretext_epochs": 0}) if part == "pretext" else
               table.fillna({"learning_rate": 0, "steps": 0, "student_images": 0}) if part == "semi" else table)
    runs = summary.groupby(keys, sort=False).size().to_numpy()
    summary = summary.groupby(keys, sort=False)[[c for c in scores if c in table]].agg(["mean", "std"])
    summary.columns = [" ".join(c) for c in summary.columns]
    return summary.reset_index().assign(runs=runs)


if __name__ == "__main__":
    main()
