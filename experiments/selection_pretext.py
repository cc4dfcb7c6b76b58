"""The pretext settings (`selection.py`'s parts ``pretext``, ``pretexts`` and ``schedule``): each pre-trained encoder
scored at 10 labels per class on validation data only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ssl_study.compute.models import build_encoder, encode
from ssl_study.compute.pretexts import get_pretext, pretext_indices, pretrain
from ssl_study.compute.training import evaluate, probe_then_finetune, train_frozen, train_probe, train_supervised
from ssl_study.config import AugmentConfig, N_CLASSES, Recipe
from ssl_study.study.design import epochs_for
from experiments import selection_common as common
from experiments.selection_common import PROFILE, SEEDS, keras, labelled_data, resumable, selection_set
from ssl_study.compute.pretexts.autoencoder import DENOISING


#: the augmentations that ``pretext`` compares: "default" is the augmentation the study used before this selection;
#: AugmentConfig() is now no_flip
VARIANTS = {
    "default": AugmentConfig(flip_probability=0.25),
    "no_flip": AugmentConfig(flip_probability=0.0),
    "no_flip_strong": AugmentConfig(flip_probability=0.0, rotation=0.1, translation=0.15, zoom=0.2,
                                            erase_probability=0.5),
}


def pretext_part(args) -> pd.DataFrame:
    """Siamese pretext variants (``--variants`` x ``--pretext-epochs``, selection seed 100), each encoder fine-tuned
    and linearly probed (``--lpft``: also probed-then-fine-tuned) on each 10-per-class subset, beside the supervised
    baseline; scored on the 3,000 selection images (see the module's docstring of `selection.py`)."""
    split, x_lab, y_lab, x_all, _ = labelled_data()
    n = 10 * N_CLASSES
    subsets, selection = selection_set(y_lab)
    subsets = {seed: by_size[n] for seed, by_size in subsets.items()}
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    epochs = epochs_for(n, PROFILE)[1]
    recipe = Recipe()

    def downstream(name: str, encoder_weights: list | None, pretext: dict) -> list[dict]:
        """Supervised or plain fine-tuning, linear probe, and probe-then-fine-tune (as notebook 5) on each subset."""
        rows = []
        for seed in SEEDS:
            data = (x_lab[subsets[seed]], y_lab[subsets[seed]], epochs, PROFILE.batch_size, seed, recipe)
            model, _ = train_supervised(*data, encoder_weights=encoder_weights)
            row = {"variant": name, **pretext, "seed": seed,
                   "finetune": evaluate(model, x_sel, y_sel)["accuracy"]}
            if encoder_weights is not None:
                if args.lpft:  # probe, then fine-tune from it
                    lpft = probe_then_finetune(encoder_weights, *data)
                    row["lp_ft"] = evaluate(lpft["finetune"][0], x_sel, y_sel)["accuracy"]
                    probe = lpft["probe"][0]
                else:
                    probe, _ = train_probe(encoder_weights, *data)
                row["probe"] = evaluate(probe, x_sel, y_sel)["accuracy"]
            rows.append(row)
            print(row, flush=True)
        return rows

    rows = downstream("supervised", None, {})
    train_idx, val_idx = pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    for name in args.variants:
        for stop in args.pretext_epochs:  # each length trained from the start (the same seed: the same first epochs)
            keras.utils.set_random_seed(SEEDS[0])
            encoder = build_encoder()
            run = pretrain(get_pretext("siamese", augment=VARIANTS[name]), encoder, x_all[train_idx],
                                   x_all[val_idx], SEEDS[0], stop)
            rows += downstream(name, encoder.get_weights(), {"pretext_epochs": stop, "pretext_seconds": run["seconds"]})
    return pd.DataFrame(rows)


#: the variants of each pretext that ``pretexts`` compares: name -> settings overrides ({} : the task's defaults); a
#: registered pretext not named here is run with its own settings
PRETEXT_VARIANTS = {
    "siamese": {"default": {}},
    "rotation": {"light augment": {}, "no augment": {"augment": AugmentConfig(
        rotation=0.0, zoom=0.0, translation=0.0, blur_probability=0.0, noise_stddev=0.0, erase_probability=0.0)}},
    "contrastive": {"tau 0.1": {"temperature": 0.1}, "tau 0.2": {"temperature": 0.2}, "tau 0.5": {"temperature": 0.5}},
    "autoencoder": {"denoising": {"corrupt": DENOISING}, "plain": {"corrupt": None}},
}


def pretexts_part(args) -> pd.DataFrame:
    """Every pretext's variants under one protocol (see the module's docstring)."""
    from ssl_study.compute.pretexts import monitor_slice

    split, x_lab, y_lab, x_all, _ = labelled_data()
    subsets, selection = selection_set(y_lab)
    subsets = {seed: by_size[10 * N_CLASSES] for seed, by_size in subsets.items()}
    x_sel, y_sel = x_lab[selection], y_lab[selection]
    epochs = epochs_for(10 * N_CLASSES, PROFILE)[1]
    recipe = Recipe()
    ref, query = monitor_slice(len(y_lab))
    monitor = (x_lab[ref], y_lab[ref], x_lab[query], y_lab[query])

    def frozen_rows(name: str, features: np.ndarray, weights: list | None, extra: dict) -> list[dict]:
        """k-NN and logistic regression on ``features`` (and with ``--lpft`` probe-then-fine-tune from ``weights``)
        on each subset."""
        rows = []
        for seed in SEEDS:
            subset = subsets[seed]
            row = {"pretext": name, **extra, "seed": seed}
            for kind in ("knn", "logistic"):
                model, record = train_frozen(kind, features[subset], y_lab[subset], seed)
                row[kind] = evaluate(model, features[selection], y_sel)["accuracy"]
                row[f"{kind} setting"] = record["choice"]
            if weights is not None and args.lpft:
                data = (x_lab[subset], y_lab[subset], epochs, PROFILE.batch_size, seed, recipe)
                row["lp_ft"] = evaluate(probe_then_finetune(weights, *data)["finetune"][0], x_sel,
                                                y_sel)["accuracy"]
            rows.append(row)
            print(row, flush=True)
        return rows

    keras.utils.set_random_seed(SEEDS[0])
    init = build_encoder()
    rows = frozen_rows("pixels", x_lab.reshape(len(x_lab), -1), None, {"variant": "-"})
    rows += frozen_rows("random encoder", encode(init, x_lab), init.get_weights(), {"variant": "-"})
    train_idx, val_idx = pretext_indices(split["unlabelled"], None, 0.1, SEEDS[0])
    for name in args.pretexts:
        for variant, overrides in PRETEXT_VARIANTS.get(name, {"default": {}}).items():
            if args.pretext_variants and variant not in args.pretext_variants:
                continue
            keras.utils.set_random_seed(SEEDS[0])
            encoder = build_encoder()
            pretext = get_pretext(name, **overrides)
            run = pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], SEEDS[0], args.run_epochs,
                                   monitor=monitor)
            extra = {"variant": variant, "epochs": run["epochs"], "pretext_seconds": round(run["seconds"], 1),
                     "images_seen": run["images_seen"], "knn_by_epoch": [round(v, 3) for v in run["history"]["knn"]]}
            print(name, variant, extra, flush=True)
            rows += frozen_rows(name, encode(encoder, x_lab), encoder.get_weights(), extra)
    return pd.DataFrame(rows)


def _pretext_run(name: str | None, lr: float, epochs: int, seed: int, split_seed: int | None) -> list[dict]:
    """One run of pretext ``name`` (``epochs`` at learning rate ``lr``, pretext seed ``seed``) on the unlabelled set,
    and its encoder at 10 labels per class on each selection subset: k-NN and logistic regression on its frozen
    features, the supervised recipe from it with a random head (the assignment's "initialise and fine-tune"), and
    probe-then-fine-tune; scored on the 3,000 selection images. ``name`` None: the untrained encoder (the control)."""
    from threadpoolctl import threadpool_limits

    common.SPLIT_SEED = split_seed  # in a worker process too
    with threadpool_limits(1):
        split, x_lab, y_lab, x_all, _ = labelled_data()
        subsets, selection = selection_set(y_lab)
        x_sel, y_sel = x_lab[selection], y_lab[selection]
        n = 10 * N_CLASSES
        fit_epochs = epochs_for(n, PROFILE)[1]
        keras.utils.set_random_seed(seed)
        encoder = build_encoder()
        extra = {"pretext": name or "untrained", "pretext_epochs": epochs if name else 0,
                 "learning_rate": lr if name else 0.0, "pretext_seed": seed}
        if name:
            pretext = get_pretext(name, learning_rate=lr, epochs=epochs)
            train_idx, val_idx = pretext_indices(split["unlabelled"], None, pretext.settings.val_fraction, seed)
            run = pretrain(pretext, encoder, x_all[train_idx], x_all[val_idx], seed, epochs)
            extra.update(pretext_val=run["val_score"], pretext_seconds=round(run["seconds"], 1),
                         images_seen=run["images_seen"])  # views included: encoder passes
        weights, features = encoder.get_weights(), encode(encoder, x_lab)
        rows = []
        for subset_seed in SEEDS:
            subset = subsets[subset_seed][n]
            data = (x_lab[subset], y_lab[subset], fit_epochs, PROFILE.batch_size, subset_seed, Recipe())
            row = {**extra, "subset_seed": subset_seed}
            for kind in ("knn", "logistic"):
                model, _ = train_frozen(kind, features[subset], y_lab[subset], subset_seed)
                row[kind] = evaluate(model, features[selection], y_sel)["accuracy"]
            model, _ = train_supervised(*data, encoder_weights=weights)
            row["recipe"] = evaluate(model, x_sel, y_sel)["accuracy"]
            row["lp_ft"] = evaluate(probe_then_finetune(weights, *data)["finetune"][0], x_sel,
                                            y_sel)["accuracy"]
            rows.append(row)
        print(rows[-1], flush=True)
        return rows


def schedule_part(args) -> pd.DataFrame:
    """Pretext length x learning rate (issue 19), for each of ``--pretexts``: each setting trained from the start
    under each of ``--seeds`` pretext seeds (the cosine schedule ends with the run, so every length is its own run),
    plus the untrained encoder under the same seeds; each encoder scored by `_pretext_run`. Lengths:
    ``--pretext-epochs``, or ``--encoder-passes`` per unlabelled image (the same budget for every task: epochs =
    passes / the task's views). Learning rates: ``--learning-rates``, or ``--lr-factors`` times each task's own. Runs
    ``$SSL_JOBS`` at a time, the longest first."""
    runs = [] if args.no_control else [(None, 0.0, 0, seed) for seed in SEEDS[: args.seeds]]
    for name in args.pretexts:
        task = get_pretext(name)
        lengths = [args.encoder_passes // task.views] if args.encoder_passes else args.pretext_epochs
        rates = [task.settings.learning_rate * f for f in args.lr_factors] if args.lr_factors else args.learning_rates
        runs += [(name, lr, epochs, seed) for lr in rates for epochs in lengths for seed in SEEDS[: args.seeds]]
    runs.sort(key=lambda run: -run[2] * (get_pretext(run[0]).views if run[0] else 0))
    return pd.DataFrame(resumable(runs, _pretext_run, args.out or args.part))

