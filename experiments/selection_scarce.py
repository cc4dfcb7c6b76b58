"""Both arms tuned where the answer rests (`selection.py`'s part ``scarce``; issue 29, ANALYSIS_PLAN_ADDENDUM.md,
section 2): at 10 labels per class and 1 %, the CNN from random weights (``scratch``) and from the Siamese encoder
pre-trained on the unlabelled set (``siamese``, the recipe with a random head), each over a grid of budgets,
augmentations and learning rates; every label of each subset trained on, scored on the 3,000 selection images of the
labelled set. Validation data only: no test image is read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ssl_study.compute.models import build_encoder
from ssl_study.compute.pretexts import get_pretext, pretext_indices, pretrain
from ssl_study.compute.training import evaluate, train_supervised
from ssl_study.config import AUGMENTS, N_CLASSES, Recipe
from ssl_study.study.design import epochs_for
from experiments import selection_common as common
from experiments.selection_common import OUT, PROFILE, SEEDS, keras, labelled_data, resumable, selection_set

ENCODERS = OUT / ".scarce_encoders"  #: the selection's Siamese encoders, one per selection seed (not committed)


def siamese_encoder(seed: int, epochs: int | None) -> list:
    """The weights of the Siamese encoder pre-trained under selection ``seed`` on the unlabelled set (the first run's
    settings), trained once and kept in `ENCODERS` for every run of the part."""
    path = ENCODERS / f"siamese_seed{seed}_epochs{epochs or 'unit'}.weights.h5"
    encoder = build_encoder()
    if not path.exists():
        split, _, _, x_all, _ = labelled_data()
        train, val = pretext_indices(split["unlabelled"], None, 0.1, seed)
        keras.utils.set_random_seed(seed)
        encoder = build_encoder()
        pretrain(get_pretext("siamese"), encoder, x_all[train], x_all[val], seed, epochs)
        ENCODERS.mkdir(parents=True, exist_ok=True)
        encoder.save_weights(path)
    encoder.load_weights(path)
    return encoder.get_weights()


def _scarce_run(arm: str, n: int, budget: int, augment: str, rate: float, seed: int, encoder_epochs: int | None,
                split_seed: int | None) -> list[dict]:
    """One fit of ``arm`` on the selection seed's subset of ``n`` labels, at ``budget`` times today's budget (its
    images and its epoch cap), with augmentation ``augment`` and learning rate ``rate``."""
    from threadpoolctl import threadpool_limits

    common.SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        _, x_lab, y_lab, _, _ = labelled_data()
        subsets, selection = selection_set(y_lab, (10 * N_CLASSES, int(round(0.01 * len(y_lab)))))
        subset = subsets[seed][n]
        recipe = Recipe(learning_rate=rate, finetune_learning_rate=rate, augment=AUGMENTS[augment])
        profile = dataclasses.replace(PROFILE, min_fit_images=budget * PROFILE.min_fit_images,
                                      max_epochs=budget * PROFILE.max_epochs)
        epochs = epochs_for(n, profile, recipe)[1]
        weights = siamese_encoder(seed, encoder_epochs) if arm == "siamese" else None
        model, fit = train_supervised(x_lab[subset], y_lab[subset], epochs, PROFILE.batch_size, seed, recipe, weights)
        row = {"arm": arm, "labels": n, "budget": budget, "augment": augment, "learning_rate": rate, "seed": seed,
               "epochs": epochs, "accuracy": evaluate(model, x_lab[selection], y_lab[selection])["accuracy"],
               "seconds": round(fit["seconds"], 1)}
        print(row, flush=True)
        return [row]


def scarce_part(args) -> pd.DataFrame:
    """Every arm x amount x budget x augmentation x learning rate x selection seed (resumable, in parallel); the
    Siamese encoders are pre-trained first, one per seed."""
    _, _, y_lab, _, _ = labelled_data()
    sizes = {"10/class": 10 * N_CLASSES, "1%": int(round(0.01 * len(y_lab)))}
    sizes = tuple(sizes[a] for a in args.amounts)
    if "siamese" in args.arms:
        for seed in SEEDS[: args.seeds]:
            siamese_encoder(seed, args.run_epochs)
    runs = [(arm, n, budget, augment, rate, seed, args.run_epochs) for arm in args.arms for n in sizes
            for budget in args.budgets for augment in args.augments for rate in args.rates
            for seed in SEEDS[: args.seeds]]
    return pd.DataFrame(resumable(runs, _scarce_run, args.out or args.part))


def winners(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm and amount, the setting of the highest mean selection accuracy over the seeds, and whether it lies on
    an edge of the budget or learning-rate grid (then the grid is extended past that edge and the part run again)."""
    keys = ["arm", "labels", "budget", "augment", "learning_rate"]
    means = table.groupby(keys, as_index=False)["accuracy"].mean()
    best = means.loc[means.groupby(["arm", "labels"])["accuracy"].idxmax()].reset_index(drop=True)
    for column in ("budget", "learning_rate"):
        grid = np.sort(table[column].unique())
        best[f"{column}_on_edge"] = best[column].isin([grid[0], grid[-1]]) & (len(grid) > 1)
    return best
