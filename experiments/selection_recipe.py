"""The supervised recipe and the fine-tuning budget (`selection.py`'s parts ``recipe``, ``budget`` and
``finetune_lr``), on validation data only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ssl_study.compute.models import build_encoder
from ssl_study.compute.pretexts import get_pretext, pretext_indices, pretrain
from ssl_study.compute.split import train_val_split
from ssl_study.compute.training import evaluate, train_probe, train_supervised
from ssl_study.config import N_CLASSES, Recipe
from ssl_study.study.design import epochs_for
from experiments import selection_common as common
from experiments.selection_common import PROFILE, SEEDS, keras, labelled_data, resumable, selection_set


def _recipe_run(batch_size: int, lr: float, epochs: int, seed: int, split_seed: int | None) -> list[dict]:
    """One fit of the recipe at 100 % of the labelled set: trained on 90 % of it, scored on the other 10 %."""
    from threadpoolctl import threadpool_limits

    common.SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        _, x_lab, y_lab, _, _ = labelled_data()
        recipe = dataclasses.replace(Recipe(), learning_rate=lr)
        train, val = train_val_split(np.arange(len(y_lab)), y_lab, 0.1, seed)
        model, fit = train_supervised(x_lab[train], y_lab[train], epochs, batch_size, seed, recipe)
        row = {"batch_size": batch_size, "learning_rate": lr, "epochs_at_full": epochs, "seed": seed,
               "val_accuracy": evaluate(model, x_lab[val], y_lab[val])["accuracy"],
               "seconds": round(fit["seconds"], 1)}
        print(row, flush=True)
        return [row]


def recipe_part(args) -> pd.DataFrame:
    """Learning rate x passes at 100 % of the labelled set: trained on 90 % of it with the study's fixed schedule (no
    early stopping), scored at the end on the 10 % held out (`_recipe_run`; resumable)."""
    runs = [(b, lr, e, seed) for b in args.batch_sizes for lr in args.learning_rates for e in args.epochs
            for seed in SEEDS[: args.seeds]]
    return pd.DataFrame(resumable(runs, _recipe_run, args.out or args.part))


def budget_part(args) -> pd.DataFrame:
    """The budget of the smallest subsets (``min_fit_images``) at 10 labels per class and 1 %, every label trained on
    with the fixed schedule, scored on 3,000 other labelled images."""
    _, x_lab, y_lab, _, _ = labelled_data()
    sizes = (10 * N_CLASSES, int(round(0.01 * len(y_lab))))
    subsets, selection = selection_set(y_lab, sizes)
    recipe, rows = Recipe(), []
    for images in args.min_fit_images:
        profile = dataclasses.replace(PROFILE, min_fit_images=images)
        for n in sizes:
            for seed in SEEDS:
                subset = subsets[seed][n]
                epochs = epochs_for(n, profile, recipe)[1]
                model, fit = train_supervised(x_lab[subset], y_lab[subset], epochs, PROFILE.batch_size, seed,
                                                      recipe)
                rows.append({"min_fit_images": images, "labels": n, "epochs": epochs, "seed": seed,
                             "supervised": evaluate(model, x_lab[selection], y_lab[selection])["accuracy"],
                             "seconds": round(fit["seconds"], 1)})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def finetune_lr_part(args) -> pd.DataFrame:
    """The fine-tuning learning rate: one Siamese pretext run (selection seed 100) on the unlabelled set, then at
    10 labels per class, 1 % and 10 % the probe and the fine-tuning from it at each rate, beside the supervised
    baseline at its own rate; every label of each subset trained on, scored on 3,000 other labelled images."""
    split, x_lab, y_lab, x_all, _ = labelled_data()
    sizes = (10 * N_CLASSES, int(round(0.01 * len(y_lab))), int(round(0.1 * len(y_lab))))
    subsets, selection = selection_set(y_lab, sizes)
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    train_idx, val_idx = pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    keras.utils.set_random_seed(SEEDS[0])
    encoder = build_encoder()
    pretext = get_pretext("siamese")
    pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], SEEDS[0], pretext.settings.epochs)
    weights, recipe, rows = encoder.get_weights(), Recipe(), []
    for n in sizes:
        epochs = epochs_for(n, PROFILE, recipe)[1]
        for seed in SEEDS:
            x, y = x_lab[subsets[seed][n]], y_lab[subsets[seed][n]]
            model, _ = train_supervised(x, y, epochs, PROFILE.batch_size, seed, recipe)
            base = {"labels": n, "seed": seed}
            rows.append({**base, "method": "supervised", "learning_rate": recipe.learning_rate,
                         "accuracy": evaluate(model, x_sel, y_sel)["accuracy"]})
            probe, _ = train_probe(weights, x, y, epochs, PROFILE.batch_size, seed, recipe)
            head = probe.get_layer("softmax").get_weights()
            for lr in args.learning_rates:
                tuned = dataclasses.replace(recipe, finetune_learning_rate=lr)
                model, _ = train_supervised(x, y, epochs, PROFILE.batch_size, seed, tuned, weights, head)
                rows.append({**base, "method": "siamese_finetune", "learning_rate": lr,
                             "accuracy": evaluate(model, x_sel, y_sel)["accuracy"]})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)
