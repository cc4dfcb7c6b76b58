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
import dataclasses
import json
import sys
import time

import numpy as np
import pandas as pd

import helpers
from ssl_study.pretexts.autoencoder import DENOISING

keras = helpers.import_keras()
OUT = helpers.ROOT / "experiments" / "results"
SEEDS = helpers.SELECTION_SEEDS
PROFILE = helpers.PROFILES["full"]


SPLIT_SEED: int | None = None  #: ``--split-seed``: the split made with this seed instead of notebook 1's


def labelled_data():
    """The study's split (notebook 1's, or the one of ``--split-seed``): labelled images and labels, and the
    unlabelled images. No test images."""
    mnist = helpers.load_mnist(verbose=False)
    if SPLIT_SEED is None:
        split = helpers.load_split(helpers.get_profile("full"), mnist)
    else:
        split = helpers.make_split(mnist.labels, SPLIT_SEED, helpers.SPLIT_PROPORTIONS)
        split = {name: split[name] for name in ("labelled", "unlabelled")}  # the test images are never touched
    x = helpers.to_model_input(mnist.images)
    y = mnist.labels.astype("int32")
    return split, x[split["labelled"]], y[split["labelled"]], x, split


def _recipe_run(batch_size: int, lr: float, epochs: int, seed: int, split_seed: int | None) -> list[dict]:
    """One fit of the recipe at 100 % of the labelled set: trained on 90 % of it, scored on the other 10 %."""
    from threadpoolctl import threadpool_limits

    global SPLIT_SEED
    SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        _, x_lab, y_lab, _, _ = labelled_data()
        recipe = dataclasses.replace(helpers.Recipe(), learning_rate=lr)
        train, val = helpers.train_val_split(np.arange(len(y_lab)), y_lab, 0.1, seed)
        model, fit = helpers.train_supervised(x_lab[train], y_lab[train], epochs, batch_size, seed, recipe)
        row = {"batch_size": batch_size, "learning_rate": lr, "epochs_at_full": epochs, "seed": seed,
               "val_accuracy": helpers.evaluate(model, x_lab[val], y_lab[val])["accuracy"],
               "seconds": round(fit["seconds"], 1)}
        print(row, flush=True)
        return [row]


def recipe_part(args) -> pd.DataFrame:
    """Learning rate x passes at 100 % of the labelled set: trained on 90 % of it with the study's fixed schedule (no
    early stopping), scored at the end on the 10 % held out (`_recipe_run`; resumable)."""
    runs = [(b, lr, e, seed) for b in args.batch_sizes for lr in args.learning_rates for e in args.epochs
            for seed in SEEDS[: args.seeds]]
    return pd.DataFrame(resumable(runs, _recipe_run, args.out or args.part))


def decision(table: pd.DataFrame, keys: list[str], score: str, cost: str) -> str:
    """The selection rule in words, for a table of runs (one row per setting and seed): the best setting by mean
    ``score``; the runner-up's paired difference over seeds with its standard error; the winner is chosen if it beats
    the runner-up by more than that, else the cheaper of the two (smaller ``cost``); and whether the choice is at the
    grid's upper edge in ``cost``."""
    scores = table.pivot_table(index=keys, columns="seed", values=score)
    ranked = scores.mean(axis=1).sort_values(ascending=False)
    best, runner_up = ranked.index[0], ranked.index[1]
    diff = (scores.loc[best] - scores.loc[runner_up]).dropna()
    plain = lambda setting: {k: getattr(v, "item", lambda: v)() for k, v in  # noqa: E731
                             zip(keys, setting if len(keys) > 1 else [setting])}
    names, other = plain(best), plain(runner_up)
    beats = diff.mean() > diff.sem()
    chosen = names if beats or names[cost] <= other[cost] else other
    text = (f"Best: {names}; runner-up: {other}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points behind "
            f"(paired over {len(diff)} seeds): " + ("the winner beats it by more than the standard error."
                                                    if beats else "a tie within the standard error: the cheaper one.")
            + f" Chosen: {chosen}.")
    if chosen[cost] == scores.index.get_level_values(cost).max():
        text += f" At the grid's upper edge in {cost}: a grid past it must be tried."
    return text + "\n"


def selection_set(y_lab: np.ndarray, sizes=(10 * helpers.N_CLASSES,)) -> tuple[dict, np.ndarray]:
    """The label subsets of the selection seeds (seed -> size -> indices, nested), and 3,000 other labelled images
    (outside every one of them) to score on."""
    subsets = {seed: dict(zip(sizes, helpers.nested_subsets(y_lab, list(sizes), seed))) for seed in SEEDS}
    used = np.concatenate([index for by_size in subsets.values() for index in by_size.values()])
    outside = np.setdiff1d(np.arange(len(y_lab)), used)
    return subsets, np.random.default_rng(0).choice(outside, 3000, replace=False)


def budget_part(args) -> pd.DataFrame:
    """The budget of the smallest subsets (``min_fit_images``) at 10 labels per class and 1 %, every label trained on
    with the fixed schedule, scored on 3,000 other labelled images."""
    _, x_lab, y_lab, _, _ = labelled_data()
    sizes = (10 * helpers.N_CLASSES, int(round(0.01 * len(y_lab))))
    subsets, selection = selection_set(y_lab, sizes)
    recipe, rows = helpers.Recipe(), []
    for images in args.min_fit_images:
        profile = dataclasses.replace(PROFILE, min_fit_images=images)
        for n in sizes:
            for seed in SEEDS:
                subset = subsets[seed][n]
                epochs = helpers.epochs_for(n, profile, recipe)[1]
                model, fit = helpers.train_supervised(x_lab[subset], y_lab[subset], epochs, PROFILE.batch_size, seed,
                                                      recipe)
                rows.append({"min_fit_images": images, "labels": n, "epochs": epochs, "seed": seed,
                             "supervised": helpers.evaluate(model, x_lab[selection], y_lab[selection])["accuracy"],
                             "seconds": round(fit["seconds"], 1)})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def finetune_lr_part(args) -> pd.DataFrame:
    """The fine-tuning learning rate: one Siamese pretext run (selection seed 100) on the unlabelled set, then at
    10 labels per class, 1 % and 10 % the probe and the fine-tuning from it at each rate, beside the supervised
    baseline at its own rate; every label of each subset trained on, scored on 3,000 other labelled images."""
    split, x_lab, y_lab, x_all, _ = labelled_data()
    sizes = (10 * helpers.N_CLASSES, int(round(0.01 * len(y_lab))), int(round(0.1 * len(y_lab))))
    subsets, selection = selection_set(y_lab, sizes)
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    train_idx, val_idx = helpers.pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    keras.utils.set_random_seed(SEEDS[0])
    encoder = helpers.build_encoder()
    pretext = helpers.get_pretext("siamese")
    helpers.pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], SEEDS[0], pretext.settings.epochs)
    weights, recipe, rows = encoder.get_weights(), helpers.Recipe(), []
    for n in sizes:
        epochs = helpers.epochs_for(n, PROFILE, recipe)[1]
        for seed in SEEDS:
            x, y = x_lab[subsets[seed][n]], y_lab[subsets[seed][n]]
            model, _ = helpers.train_supervised(x, y, epochs, PROFILE.batch_size, seed, recipe)
            base = {"labels": n, "seed": seed}
            rows.append({**base, "method": "supervised", "learning_rate": recipe.learning_rate,
                         "accuracy": helpers.evaluate(model, x_sel, y_sel)["accuracy"]})
            probe, _ = helpers.train_probe(weights, x, y, epochs, PROFILE.batch_size, seed, recipe)
            head = probe.get_layer("softmax").get_weights()
            for lr in args.learning_rates:
                tuned = dataclasses.replace(recipe, finetune_learning_rate=lr)
                model, _ = helpers.train_supervised(x, y, epochs, PROFILE.batch_size, seed, tuned, weights, head)
                rows.append({**base, "method": "siamese_finetune", "learning_rate": lr,
                             "accuracy": helpers.evaluate(model, x_sel, y_sel)["accuracy"]})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def _semi_run(method: str, settings, seed: int, split_seed: int | None = None) -> list[dict]:
    """One semi-supervised run at 10 labels per class from random weights (selection seed ``seed``): the
    validation accuracy, pseudo-label coverage and pseudo-label accuracy at each round or report. ``settings``: the
    method's settings, or a dict of those that differ from its defaults."""
    from threadpoolctl import threadpool_limits

    from ssl_study import semi

    if isinstance(settings, dict):
        settings = dataclasses.replace(semi.get_semi(method).Settings(), **settings)
    global SPLIT_SEED
    SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        return _semi_rows(method, semi.get_semi(method, settings), settings, seed)


def _semi_rows(method: str, unit, settings, seed: int) -> list[dict]:
    split, x_lab, y_lab, x_all, _ = labelled_data()
    subsets, selection = selection_set(y_lab)
    subset = subsets[seed][10 * helpers.N_CLASSES]
    x_u, y_u = x_all[split["unlabelled"]], helpers.load_mnist(verbose=False).labels[split["unlabelled"]]
    score = lambda model: helpers.evaluate(model, x_lab[selection], y_lab[selection])["accuracy"]  # noqa: E731
    epochs = helpers.epochs_for(len(subset), PROFILE, helpers.Recipe())[1]
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

    import joblib

    from ssl_study import semi

    runs = [("pseudolabel", semi.PseudoLabelSettings(threshold=t, rounds=args.rounds, student_images=images))
            for t, images in itertools.product(args.thresholds, args.student_images)]
    runs += [("fixmatch", semi.FixMatchSettings(threshold=t, learning_rate=lr, steps=steps, ema_momentum=ema,
                                                weight_decay=wd))
             for t, lr, steps, (ema, wd) in itertools.product(args.thresholds, args.learning_rates, args.steps,
                                                              args.ema_decay)]
    runs = [run for run in runs if run[0] in args.methods]
    runs = [(m, settings, seed) for m, settings in runs for seed in SEEDS[: args.seeds]]
    runs.sort(key=lambda run: -getattr(run[1], "steps", 0) - getattr(run[1], "student_images", 0) / 100)  # the longest first: two workers finish together
    as_dict = lambda settings: {k: v for k, v in dataclasses.asdict(settings).items() if k != "strong"}  # noqa: E731
    return pd.DataFrame(resumable([(m, as_dict(s), seed) for m, s, seed in runs], _semi_run, args.out or "semi"))


def semi_report(table: pd.DataFrame) -> str:
    """Per method, every candidate setting -- FixMatch's settings at the end of training (its earlier reports are not
    candidates: the cosine schedule has not ended there), pseudo-labelling's settings at each round (a round is a
    whole student, so the number of rounds is a setting) -- with the mean accuracy on the selection images and its
    standard error over seeds, and the decision rule applied: the winner must beat the runner-up by more than the
    standard error of their paired difference, or the cheaper one (fewer steps, rounds or images) is taken."""
    lines, chosen_scores = [], {}
    for method, runs in table.groupby("method"):
        runs = runs.dropna(axis=1, how="all")
        if method == "fixmatch":
            runs = runs[runs["round"] == runs["steps"]]
            keys, cost = ["threshold", "learning_rate", "steps", "ema_momentum", "weight_decay"], ["steps"]
        else:
            keys, cost = ["threshold", "student_images", "round"], ["round", "student_images"]
        keys = [k for k in keys if k in runs]
        scores = runs.pivot_table(index=keys, columns="seed", values="accuracy")
        ranked = scores.mean(axis=1).sort_values(ascending=False)
        best = ranked.index[0]
        report = pd.DataFrame({"accuracy %": scores.mean(axis=1).map(lambda v: f"{100 * v:.2f}"),
                               "± (standard error)": (scores.std(axis=1) / np.sqrt(scores.count(axis=1))).map(
                                   lambda v: f"{100 * v:.2f}"),
                               "− best (points)": [f"{100 * d.mean():+.2f} ± {100 * d.sem():.2f}" for d in
                                                   (scores.loc[[i]].iloc[0] - scores.loc[[best]].iloc[0]
                                                    for i in scores.index)],
                               "seeds": scores.count(axis=1)})
        lines += [f"**{method}**", "", report.reset_index().to_markdown(index=False, disable_numparse=True), ""]
        if len(ranked) > 1:
            runner_up = ranked.index[1]
            diff = (scores.loc[[best]].iloc[0] - scores.loc[[runner_up]].iloc[0]).dropna()
            beats = diff.mean() > diff.sem()
            position = tuple({k: v.item() if hasattr(v, "item") else v for k, v in zip(keys, setting)}
                             for setting in (best, runner_up))
            cheaper = min(position, key=lambda s: tuple(s[k] for k in cost))
            chosen = position[0] if beats else cheaper
            lines += [f"Best {position[0]}; runner-up {position[1]}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} "
                      f"points behind (paired over {len(diff)} seeds): " +
                      ("the winner beats it by more than the standard error." if beats else
                       "not more than the standard error, a tie: the cheaper is taken.") + f" Chosen: {chosen}.", ""]
            edges = [k for k in keys if scores.index.get_level_values(k).nunique() > 1
                     and chosen[k] == scores.index.get_level_values(k).max()]
            if edges:
                lines += [f"At the grid's upper edge in {', '.join(edges)}: a grid past it must be tried.", ""]
        else:
            chosen = {k: v.item() if hasattr(v, "item") else v for k, v in zip(keys, best if len(keys) > 1 else [best])}
        chosen_scores[method] = (chosen, scores.loc[[tuple(chosen[k] for k in keys) if len(keys) > 1
                                                     else chosen[keys[0]]]].iloc[0], _semi_seconds(runs, chosen))
    if len(chosen_scores) > 1:
        lines += _method_decision(chosen_scores)
    return "\n".join(lines)


def _semi_seconds(runs: pd.DataFrame, chosen: dict) -> float:
    """Seconds of one run at the ``chosen`` setting: FixMatch's runs of those steps; pseudo-labelling's runs scaled
    to the chosen rounds (a run trains its teacher and one student per round, and records every round)."""
    if "steps" in chosen:
        return float(runs.loc[runs["steps"] == chosen["steps"], "seconds"].mean())
    rounds = runs["round"].max()
    return float(runs["seconds"].mean() * (1 + chosen["round"]) / (1 + rounds))


def _method_decision(chosen: dict) -> list[str]:
    """The semi-supervised method of the confirmatory test (ANALYSIS_PLAN.md, section 3): each method at its chosen
    setting, paired over the selection seeds; the best must beat the runner-up by more than the standard error of
    their difference, otherwise the cheaper (the fewer seconds per run) is taken."""
    means = {m: scores.mean() for m, (_, scores, _) in chosen.items()}
    best, runner_up = sorted(means, key=means.get, reverse=True)[:2]
    diff = (chosen[best][1] - chosen[runner_up][1]).dropna()
    beats = diff.mean() > diff.sem()
    cheaper = min((best, runner_up), key=lambda m: chosen[m][2])
    pick = best if beats else cheaper
    seconds = ", ".join(f"{m} about {chosen[m][2]:.0f} s" for m in (best, runner_up))
    return ["**The method of the confirmatory test**", "",
            f"At their chosen settings: {best} {100 * means[best]:.2f} %, {runner_up} {100 * means[runner_up]:.2f} %; "
            f"{best} ahead by {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points (paired over {len(diff)} "
            "seeds): " + ("more than the standard error: chosen." if beats else
                          f"not more than the standard error, a tie: the cheaper is taken ({seconds} per run).")
            + f" Chosen: {pick}.", ""]


VARIANTS = {  # "default" is the augmentation the study used before this selection; helpers.AugmentConfig() is now no_flip
    "default": helpers.AugmentConfig(flip_probability=0.25),
    "no_flip": helpers.AugmentConfig(flip_probability=0.0),
    "no_flip_strong": helpers.AugmentConfig(flip_probability=0.0, rotation=0.1, translation=0.15, zoom=0.2,
                                            erase_probability=0.5),
}


def pretext_part(args) -> pd.DataFrame:
    split, x_lab, y_lab, x_all, _ = labelled_data()
    n = 10 * helpers.N_CLASSES
    subsets, selection = selection_set(y_lab)
    subsets = {seed: by_size[n] for seed, by_size in subsets.items()}
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    epochs = helpers.epochs_for(n, PROFILE)[1]
    recipe = helpers.Recipe()

    def downstream(name: str, encoder_weights: list | None, pretext: dict) -> list[dict]:
        """Supervised or plain fine-tuning, linear probe, and probe-then-fine-tune (as notebook 5) on each subset."""
        rows = []
        for seed in SEEDS:
            data = (x_lab[subsets[seed]], y_lab[subsets[seed]], epochs, PROFILE.batch_size, seed, recipe)
            model, _ = helpers.train_supervised(*data, encoder_weights=encoder_weights)
            row = {"variant": name, **pretext, "seed": seed,
                   "finetune": helpers.evaluate(model, x_sel, y_sel)["accuracy"]}
            if encoder_weights is not None:
                if args.lpft:  # probe, then fine-tune from it
                    lpft = helpers.probe_then_finetune(encoder_weights, *data)
                    row["lp_ft"] = helpers.evaluate(lpft["finetune"][0], x_sel, y_sel)["accuracy"]
                    probe = lpft["probe"][0]
                else:
                    probe, _ = helpers.train_probe(encoder_weights, *data)
                row["probe"] = helpers.evaluate(probe, x_sel, y_sel)["accuracy"]
            rows.append(row)
            print(row, flush=True)
        return rows

    rows = downstream("supervised", None, {})
    train_idx, val_idx = helpers.pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    for name in args.variants:
        for stop in args.pretext_epochs:  # each length trained from the start (the same seed: the same first epochs)
            keras.utils.set_random_seed(SEEDS[0])
            encoder = helpers.build_encoder()
            run = helpers.pretrain(helpers.get_pretext("siamese", augment=VARIANTS[name]), encoder, x_all[train_idx],
                                   x_all[val_idx], SEEDS[0], stop)
            rows += downstream(name, encoder.get_weights(), {"pretext_epochs": stop, "pretext_seconds": run["seconds"]})
    return pd.DataFrame(rows)


#: the variants of each pretext that ``pretexts`` compares: name -> settings overrides ({} : the task's defaults); a
#: registered pretext not named here is run with its own settings
PRETEXT_VARIANTS = {
    "siamese": {"default": {}},
    "rotation": {"light augment": {}, "no augment": {"augment": helpers.AugmentConfig(
        rotation=0.0, zoom=0.0, translation=0.0, blur_probability=0.0, noise_stddev=0.0, erase_probability=0.0)}},
    "contrastive": {"tau 0.1": {"temperature": 0.1}, "tau 0.2": {"temperature": 0.2}, "tau 0.5": {"temperature": 0.5}},
    "autoencoder": {"denoising": {"corrupt": DENOISING}, "plain": {"corrupt": None}},
}


def pretexts_part(args) -> pd.DataFrame:
    """Every pretext's variants under one protocol (see the module's docstring)."""
    from ssl_study.pretexts import monitor_slice

    split, x_lab, y_lab, x_all, _ = labelled_data()
    subsets, selection = selection_set(y_lab)
    subsets = {seed: by_size[10 * helpers.N_CLASSES] for seed, by_size in subsets.items()}
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    epochs = helpers.epochs_for(10 * helpers.N_CLASSES, PROFILE)[1]
    recipe = helpers.Recipe()
    ref, query = monitor_slice(len(y_lab))
    monitor = (x_lab[ref], y_lab[ref], x_lab[query], y_lab[query])

    def frozen_rows(name: str, features: np.ndarray, weights: list | None, extra: dict) -> list[dict]:
        rows = []
        for seed in SEEDS:
            subset = subsets[seed]
            row = {"pretext": name, **extra, "seed": seed}
            for kind in ("knn", "logistic"):
                model, record = helpers.train_frozen(kind, features[subset], y_lab[subset], seed)
                row[kind] = helpers.evaluate(model, features[selection], y_sel)["accuracy"]
                row[f"{kind} setting"] = record["choice"]
            if weights is not None and args.lpft:
                data = (x_lab[subset], y_lab[subset], epochs, PROFILE.batch_size, seed, recipe)
                row["lp_ft"] = helpers.evaluate(helpers.probe_then_finetune(weights, *data)["finetune"][0], x_sel,
                                                y_sel)["accuracy"]
            rows.append(row)
            print(row, flush=True)
        return rows

    keras.utils.set_random_seed(SEEDS[0])
    init = helpers.build_encoder()
    rows = frozen_rows("pixels", x_lab.reshape(len(x_lab), -1), None, {"variant": "-"})
    rows += frozen_rows("random encoder", helpers.encode(init, x_lab), init.get_weights(), {"variant": "-"})
    train_idx, val_idx = helpers.pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    for name in args.pretexts:
        for variant, overrides in PRETEXT_VARIANTS.get(name, {"default": {}}).items():
            if args.pretext_variants and variant not in args.pretext_variants:
                continue
            keras.utils.set_random_seed(SEEDS[0])
            encoder = helpers.build_encoder()
            pretext = helpers.get_pretext(name, **overrides)
            run = helpers.pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], SEEDS[0], args.run_epochs,
                                   monitor=monitor)
            extra = {"variant": variant, "epochs": run["epochs"], "pretext_seconds": round(run["seconds"], 1),
                     "images_seen": run["images_seen"], "knn_by_epoch": [round(v, 3) for v in run["history"]["knn"]]}
            print(name, variant, extra, flush=True)
            rows += frozen_rows(name, helpers.encode(encoder, x_lab), encoder.get_weights(), extra)
    return pd.DataFrame(rows)


def _pretext_run(name: str | None, lr: float, epochs: int, seed: int, split_seed: int | None) -> list[dict]:
    """One run of pretext ``name`` (``epochs`` at learning rate ``lr``, pretext seed ``seed``) on the unlabelled set,
    and its encoder at 10 labels per class on each selection subset: k-NN and logistic regression on its frozen
    features, the supervised recipe from it with a random head (the assignment's "initialise and fine-tune"), and
    probe-then-fine-tune; scored on the 3,000 selection images. ``name`` None: the untrained encoder (the control)."""
    from threadpoolctl import threadpool_limits

    global SPLIT_SEED
    SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        split, x_lab, y_lab, x_all, _ = labelled_data()
        subsets, selection = selection_set(y_lab)
        x_sel, y_sel = x_lab[selection], y_lab[selection]
        n = 10 * helpers.N_CLASSES
        fit_epochs = helpers.epochs_for(n, PROFILE)[1]
        keras.utils.set_random_seed(seed)
        encoder = helpers.build_encoder()
        extra = {"pretext": name or "untrained", "pretext_epochs": epochs if name else 0,
                 "learning_rate": lr if name else 0.0, "pretext_seed": seed}
        if name:
            pretext = helpers.get_pretext(name, learning_rate=lr, epochs=epochs)
            train_idx, val_idx = helpers.pretext_indices(split["unlabelled"], None, pretext.settings.val_fraction, seed)
            run = helpers.pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], seed, epochs)
            extra.update(pretext_val=run["val_score"], pretext_seconds=round(run["seconds"], 1),
                         images_seen=run["images_seen"])  # views included: encoder passes
        weights, features = encoder.get_weights(), helpers.encode(encoder, x_lab)
        rows = []
        for subset_seed in SEEDS:
            subset = subsets[subset_seed][n]
            data = (x_lab[subset], y_lab[subset], fit_epochs, PROFILE.batch_size, subset_seed, helpers.Recipe())
            row = {**extra, "subset_seed": subset_seed}
            for kind in ("knn", "logistic"):
                model, _ = helpers.train_frozen(kind, features[subset], y_lab[subset], subset_seed)
                row[kind] = helpers.evaluate(model, features[selection], y_sel)["accuracy"]
            model, _ = helpers.train_supervised(*data, encoder_weights=weights)
            row["recipe"] = helpers.evaluate(model, x_sel, y_sel)["accuracy"]
            row["lp_ft"] = helpers.evaluate(helpers.probe_then_finetune(weights, *data)["finetune"][0], x_sel,
                                            y_sel)["accuracy"]
            rows.append(row)
        print(rows[-1], flush=True)
        return rows


def schedule_part(args) -> pd.DataFrame:
    """Pretext length x learning rate (issue 19), for each of ``--pretexts``: each setting trained from the start
    under each of ``--seeds`` pretext seeds (the cosine schedule ends with the run, so every length is its own run),
    plus the untrained encoder under the same seeds; each encoder scored by `_pretext_run`. Lengths: ``--pretext-epochs``,
    or ``--encoder-passes`` per unlabelled image (the same budget for every task: epochs = passes / the task's views).
    Learning rates: ``--learning-rates``, or ``--lr-factors`` times each task's own. Runs ``$SSL_JOBS`` at a time,
    the longest first."""
    import joblib

    runs = [] if args.no_control else [(None, 0.0, 0, seed) for seed in SEEDS[: args.seeds]]
    for name in args.pretexts:
        task = helpers.get_pretext(name)
        lengths = [args.encoder_passes // task.views] if args.encoder_passes else args.pretext_epochs
        rates = [task.settings.learning_rate * f for f in args.lr_factors] if args.lr_factors else args.learning_rates
        runs += [(name, lr, epochs, seed) for lr in rates for epochs in lengths for seed in SEEDS[: args.seeds]]
    runs.sort(key=lambda run: -run[2] * (helpers.get_pretext(run[0]).views if run[0] else 0))
    return pd.DataFrame(resumable(runs, _pretext_run, args.out or args.part))


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
        for run, rows in zip(todo, joblib.Parallel(n_jobs=helpers.default_jobs(), return_as="generator")(
                joblib.delayed(work)(*run, SPLIT_SEED) for run in todo)):
            log.write(json.dumps({"run": run, "rows": rows}, default=float) + "\n")
            log.flush()
            done[key(run)] = rows
    return [row for run in runs for row in done[key(run)]]


def schedule_report(table: pd.DataFrame, cap: int | None = None) -> str:
    """Per pretext and setting: the mean over pretext seeds (each the mean over the three subsets) of every score,
    its standard error, and the paired difference from the pretext's best setting on the decision score (the mean of
    the two schedules' accuracies: the recipe's fine-tuning and probe-then-fine-tune, as the study uses the encoder
    under both) with its standard error; the decision rule applied in words; and which schedule suits the chosen
    setting (the recipe with a random head or probe-then-fine-tune, paired over seeds). ``cap``: the most encoder
    passes per unlabelled image the confirmatory run can pay for; longer settings are shown but not candidates."""
    table = table.assign(pretext=table.get("pretext", "siamese")).fillna({"pretext": "siamese"})  # earlier runs: Siamese
    table.loc[table["pretext_epochs"] == 0, "pretext"] = "untrained"
    scores = ["knn", "logistic", "recipe", "lp_ft"]
    keys = ["pretext", "learning_rate", "pretext_epochs"]
    per_seed = table.groupby([*keys, "pretext_seed"])[scores].mean()
    per_seed["decision"] = per_seed[["recipe", "lp_ft"]].mean(axis=1)
    control = per_seed.loc["untrained"] if "untrained" in per_seed.index.get_level_values(0) else None
    lines, rows = [], []
    for name, trained in per_seed.drop("untrained", level=0, errors="ignore").groupby(level=0):
        trained = trained.droplevel(0)
        views = helpers.PRETEXTS[name].views
        means = trained.groupby(["learning_rate", "pretext_epochs"]).mean()
        affordable = means[means.index.get_level_values(1) * views <= (cap or np.inf)]
        best = affordable["decision"].idxmax()
        for setting, group in trained.groupby(["learning_rate", "pretext_epochs"]):
            diff = group["decision"].droplevel([0, 1]) - trained.loc[best, "decision"]
            rows.append({"pretext": helpers.PRETEXTS[name].label or name, "learning rate": f"{setting[0]:g}",
                         "epochs": setting[1], "seeds": len(group),
                         **{f"{c} %": f"{100 * group[c].mean():.2f} ± {100 * group[c].sem():.2f}" for c in scores},
                         "decision − best (points)": f"{100 * diff.mean():+.2f} ± {100 * diff.sem():.2f}",
                         "seconds": f"{table.loc[(table['pretext'] == name) & (table['learning_rate'] == setting[0]) & (table['pretext_epochs'] == setting[1]), 'pretext_seconds'].mean():.0f}"})
        ranked = affordable["decision"].sort_values(ascending=False)
        label = helpers.PRETEXTS[name].label or name
        beyond = means.index.difference(affordable.index)
        if len(ranked) < 2:
            continue
        runner_up = ranked.index[1]
        diff = (trained.loc[best, "decision"] - trained.loc[runner_up, "decision"]).dropna()
        beats = diff.mean() > diff.sem()
        # a tie goes to the cheaper setting (fewer epochs); settings of the same length cost the same (a learning
        # rate costs nothing), so between them the tie keeps the higher mean
        cheaper = min(best, runner_up, key=lambda s: s[1])
        chosen = best if beats else cheaper
        tie = ("Not more than the standard error: a tie, and the cheaper one is chosen "
               f"({cheaper[1]} epochs at {cheaper[0]:g})." if best[1] != runner_up[1] else
               "Not more than the standard error: a tie between settings of the same length (the same cost), so the "
               "higher mean stays.")
        text = (f"**{label}**: best on the decision score {best[1]} epochs at {best[0]:g}; runner-up {runner_up[1]} "
                f"epochs at {runner_up[0]:g}, {100 * diff.mean():.2f} ± {100 * diff.sem():.2f} points behind (paired "
                f"over {len(diff)} seeds). " + ("The winner beats it by more than the standard error: chosen."
                                               if beats else tie)
                + f" Chosen: {chosen[1]} epochs at learning rate {chosen[0]:g}.")
        edge = [what for what, values, value in (("length", ranked.index.get_level_values(1), chosen[1]),
                                                 ("learning rate", ranked.index.get_level_values(0), chosen[0]))
                if len(set(values)) > 1 and value in (max(values), min(values))]
        if beyond.size and "length" in edge:
            edge.remove("length")
            longer = [f"{e} epochs at {lr:g}: {100 * d.mean():+.2f} ± {100 * d.sem():.2f} points" for lr, e in beyond
                      for d in [(trained.loc[(lr, e), "decision"] - trained.loc[chosen, "decision"]).dropna()]]
            text += (f" Its length is the budget's limit ({cap} encoder passes per unlabelled image); the longer runs "
                     f"beyond it, against the chosen one: {'; '.join(longer)}.")
        if edge:
            text += (f" Its {' and '.join(edge)} {'is' if len(edge) == 1 else 'are'} at an edge of the grid: a grid "
                     "that goes past it must be tried before the choice is final.")
        schedule = (trained.loc[chosen, "lp_ft"] - trained.loc[chosen, "recipe"]).dropna()
        text += (f" At the chosen setting, probe-then-fine-tune minus the recipe with a random head: "
                 f"{100 * schedule.mean():+.2f} ± {100 * schedule.sem():.2f} points.")
        lines.append(text)
    report = pd.DataFrame(rows)
    control_line = ("(no untrained control in these runs: the report that merges them has it)" if control is None else
                    f"Untrained encoder (the control, {len(control)} seeds): " + ", ".join(
                        f"{c} {100 * control[c].mean():.2f} ± {100 * control[c].sem():.2f} %" for c in scores) + ".")
    return "\n".join([report.to_markdown(index=False, disable_numparse=True), "", control_line, "",
                      *[line + "\n" for line in lines]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["recipe", "pretext", "budget", "pretexts", "finetune_lr", "semi",
                                         "siamese_schedule", "schedule"])
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
                        help="schedule, semi: also report the runs saved under these names (same seeds and split)")
    parser.add_argument("--methods", nargs="+", default=["pseudolabel", "fixmatch"], help="semi: which methods")
    parser.add_argument("--ema-decay", type=lambda text: tuple(float(v) for v in text.split(",")), nargs="+",
                        default=[(0.0, 0.0)], help="semi: FixMatch's EMA momentum,weight decay pairs (0,0: neither)")
    parser.add_argument("--lpft", action="store_true", help="also fine-tune from the probe's head (LP-FT)")
    parser.add_argument("--out", default=None, help="name of the result files (default: the part)")
    parser.add_argument("--from-json", action="store_true",
                        help="schedule: measure nothing, write the report again from the saved runs; semi (with "
                             "--split-seed): measure nothing, report the --merge parts' runs")
    args = parser.parse_args()
    global SPLIT_SEED
    SPLIT_SEED = args.split_seed
    if args.part == "siamese_schedule":  # the command of the committed siamese_length.md
        args.part, args.pretexts = "schedule", ["siamese"]
    if args.part == "schedule":
        out = args.out or args.part
        if args.from_json:  # the report again, from the runs a measurement saved
            stamp = json.loads((OUT / f"{out}.json").read_text())
            # encoder_passes, written by the first version of this part, counted the views twice (images_seen has them)
            table = pd.DataFrame(stamp.pop("runs")).drop(columns=["encoder_passes"], errors="ignore")
            (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records")}, indent=2) + "\n")
        else:
            table = schedule_part(args)
            stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "backend": keras.backend.backend(), "seeds": SEEDS,
                     "split_seed": SPLIT_SEED, "command": " ".join(sys.argv[1:])}
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records")}, indent=2) + "\n")
            (OUT / f".{out}.partial.jsonl").unlink(missing_ok=True)
        SPLIT_SEED = stamp["split_seed"]
        text = (f"Measured {stamp['date']} (`experiments/selection.py {stamp['command']}`), validation data only: "
                f"the labelled set of the split of seed {SPLIT_SEED}. Scores in % on its 3,000 selection images, "
                "mean ± standard error over pretext seeds (each the mean of three 10-per-class subsets); seconds: one "
                "pretext run's training, on a machine shared with other jobs.\n\n"
                + schedule_report(pd.concat([table, *(pd.DataFrame(json.loads((OUT / f"{name}.json").read_text())["runs"])
                                                      for name in args.merge)], ignore_index=True),
                                  args.budget_passes))
        (OUT / f"{out}.md").write_text(text)
        print(text)
        return
    if args.part == "semi" and args.split_seed is not None:  # issue 19's protocol: seeds, the decision rule
        out = args.out or "semi_confirmatory"
        measured = [] if args.from_json else [semi_part(args)]  # --from-json: only the --merge parts' saved runs
        table = pd.concat([*measured, *(pd.DataFrame(json.loads((OUT / f"{name}.json").read_text())["runs"])
                                        for name in args.merge)], ignore_index=True)
        stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "backend": keras.backend.backend(), "seeds": SEEDS,
                 "split_seed": SPLIT_SEED, "command": " ".join(sys.argv[1:])}
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records")}, indent=2) + "\n")
        (OUT / f".{out}.partial.jsonl").unlink(missing_ok=True)
        text = (f"Measured {stamp['date']} (`experiments/selection.py {stamp['command']}`), validation data only: "
                f"the labelled set of the split of seed {SPLIT_SEED}, 10 labels per class from random weights, scored "
                "on its 3,000 selection images; mean and standard error over selection seeds.\n\n"
                + semi_report(table))
        (OUT / f"{out}.md").write_text(text)
        print(text)
        return
    table = {"recipe": recipe_part, "pretext": pretext_part, "budget": budget_part, "pretexts": pretexts_part,
             "finetune_lr": finetune_lr_part, "semi": semi_part}[args.part](args)
    OUT.mkdir(parents=True, exist_ok=True)
    keys, scores = {"recipe": (["batch_size", "learning_rate", "epochs_at_full"], ["val_accuracy", "seconds"]),
                    "pretext": (["variant", "pretext_epochs"], ["finetune", "probe", "lp_ft"]),
                    "budget": (["min_fit_images", "labels", "epochs"], ["supervised", "seconds"]),
                    "finetune_lr": (["labels", "method", "learning_rate"], ["accuracy"]),
                    "pretexts": (["pretext", "variant"], ["knn", "logistic", "lp_ft", "pretext_seconds"]),
                    "semi": (["method", "threshold", "learning_rate", "steps", "student_images", "round"],
                             ["accuracy", "coverage", "pseudo_accuracy", "seconds"])}[args.part]
    summary = (table.fillna({"pretext_epochs": 0}) if args.part == "pretext" else
               table.fillna({"learning_rate": 0, "steps": 0, "student_images": 0}) if args.part == "semi" else table)
    runs = summary.groupby(keys, sort=False).size().to_numpy()
    summary = summary.groupby(keys, sort=False)[[c for c in scores if c in table]].agg(["mean", "std"])
    summary.columns = [" ".join(c) for c in summary.columns]
    summary = summary.reset_index().assign(runs=runs)
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "backend": keras.backend.backend(), "seeds": SEEDS,
             "split_seed": SPLIT_SEED}
    out = args.out or args.part
    (OUT / f"{out}.json").write_text(json.dumps({**stamp, "runs": table.to_dict("records"),
                                                        "summary": summary.to_dict("records")}, indent=2))
    (OUT / f".{out}.partial.jsonl").unlink(missing_ok=True)
    rule = ("\n" + decision(table, keys, "val_accuracy", "epochs_at_full")) if args.part == "recipe" else ""
    (OUT / f"{out}.md").write_text(f"Measured {stamp['date']} (`experiments/selection.py {' '.join(sys.argv[1:])}`), "
                                   f"validation data only" + (f", the split of seed {SPLIT_SEED}" if SPLIT_SEED else "")
                                   + ".\n\n" + summary.to_markdown(index=False) + "\n" + rule)
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
