"""The runs of notebooks 4 and 5 beyond the classifier fits: the pretext runs (one per task and seed, from notebook
3's initial encoders) and their encoders, notebook 4's sweep over the amount of unlabelled data, and notebook 5's
semi-supervised runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..compute.artefacts import read_meta, save_table
from ..compute.models import build_encoder, rescaled_like
from ..compute.fits import frozen_kinds
from ..compute.semi import SEMI_METHODS
from ..config import HEADLINE_PRETEXT, NOTEBOOK_ENCODER, NOTEBOOK_PRETEXT, SCALE_CONTROL, Recipe, config_dict
from . import keys
from .design import epochs_for
from .executor import run_tasks
from .inputs import Inputs, encoder_weights, initial_encoders, pretext_seeds, pretrained_encoders, save_encoder
from .plans import plan_fits
from .tasks import Fit, PretextRun, SemiRun


def plan_pretext_runs(pretexts: dict, inputs: Inputs) -> list[PretextRun]:
    """One run per pretext task (name -> `Pretext`) and seed (`pretext_seeds`), each from that seed's initial
    encoder."""
    profile, runs, initial = inputs.profile, [], initial_encoders(inputs)
    for name, pretext in pretexts.items():
        for seed in pretext_seeds(profile, name):
            path = initial[seed]
            init = read_meta(path, NOTEBOOK_ENCODER)["identity"]
            runs.append(PretextRun(name, pretext.settings, seed, profile.pretext_epochs or pretext.settings.epochs,
                                   profile.pretext_images, init, inputs.data_fp, inputs.split_fp))
    return runs


def run_pretexts(runs: list[PretextRun], inputs: Inputs, jobs: int | None = None) -> list[dict]:
    """Results of the pretext runs (trained weights, history, held-out score, seconds), from the cache or computed."""
    encoders = {read_meta(p, NOTEBOOK_ENCODER)["identity"]: str(p) for p in initial_encoders(inputs).values()}
    return run_tasks(runs, inputs.profile, {"split": str(inputs.split_path), "encoders": encoders}, jobs,
                     desc="pretext runs")


def save_pretext_encoder(run: PretextRun, result: dict, inputs: Inputs, monitor: str, stage: str | None = None,
                         encoder=None) -> Path:
    """Save a pretext run's trained encoder with a side-car: task, settings, seed, images, held-out score, seconds
    (``stage``: the file's name instead of the pretext's, `encoder_weights`; ``encoder``: a network of the encoder's
    architecture to carry the weights, built here where not given)."""
    encoder = encoder or build_encoder()
    encoder.set_weights(result["weights"])
    path = encoder_weights(inputs.profile, stage or run.pretext, run.seed)
    save_encoder(encoder, path, NOTEBOOK_PRETEXT,
                 [inputs.split_path, encoder_weights(inputs.profile, "init", run.seed)],
                 inputs.data_fp, identity=keys.task_key("pretext", run), pretext=run.pretext,
                 settings=config_dict(run.settings), seed=run.seed, epochs=run.epochs,
                 train_images=result["train_images"], val_images=result["val_images"], monitor=monitor,
                 val_score=result["val_score"], seconds=round(result["seconds"], 1), images_seen=result["images_seen"],
                 knn_before=result["knn_before"], knn_after=result["history"].get("knn", [None])[-1])
    return path


def save_pretext_encoders(runs: list[PretextRun], results: list[dict], inputs: Inputs, pretexts: dict) -> list[Path]:
    """`save_pretext_encoder` for each run (``pretexts``: name -> `Pretext`, for its monitor's name), one network
    carrying each run's weights in turn (building one per run was most of a replay's time in notebook 4)."""
    carrier = build_encoder()
    return [save_pretext_encoder(run, result, inputs, pretexts[run.pretext].monitor, encoder=carrier)
            for run, result in zip(runs, results)]


def save_scale_controls(inputs: Inputs) -> pd.DataFrame:
    """The weight-scale control of each seed its arms ask for (ANALYSIS_PLAN_ADDENDUM.md, section 3): notebook 3's
    untrained encoder with each kernel rescaled to the norm of the same kernel of the headline pretext's encoder of the
    same seed (`rescaled_like`), saved like a pre-trained encoder (`SCALE_CONTROL`), named by what it is made from
    (`keys.scale_control_key`). Returns each layer's kernel norms, untrained and pre-trained, per seed."""
    profile, rows = inputs.profile, []
    carrier, reference = build_encoder(), build_encoder()
    untrained_from, made_from = pretrained_encoders(inputs, "random"), pretrained_encoders(inputs, HEADLINE_PRETEXT)
    for seed in profile.encoder_seeds(SCALE_CONTROL):
        init, pretrained = encoder_weights(profile, "init", seed), encoder_weights(profile, HEADLINE_PRETEXT, seed)
        carrier.load_weights(init)
        reference.load_weights(pretrained)
        untrained = carrier.get_weights()
        carrier.set_weights(rescaled_like(untrained, reference.get_weights()))
        identity = keys.scale_control_key(untrained_from[seed]["identity"], made_from[seed]["identity"])
        save_encoder(carrier, encoder_weights(profile, SCALE_CONTROL, seed), NOTEBOOK_PRETEXT, [init, pretrained],
                     inputs.data_fp, identity=identity, seed=seed)
        rows += [{"seed": seed, "layer": layer.name, "untrained": float(np.linalg.norm(w[0])),
                  "pre-trained": float(np.linalg.norm(r[0]))}
                 for layer, w, r in _kernels(carrier, untrained, reference.get_weights())]
    return pd.DataFrame(rows)


def _kernels(encoder, untrained: list, pretrained: list):
    """(layer, its untrained weights, its pre-trained weights) for each layer of ``encoder`` with a kernel."""
    at = 0
    for layer in encoder.layers:
        count = len(layer.get_weights())
        if count and np.ndim(untrained[at]) > 1:
            yield layer, untrained[at:at + count], pretrained[at:at + count]
        at += count


# ----------------------------------------------------------------------------------------------------------------------
# Notebook 4's sweep: pre-training on part of the unlabelled set
# ----------------------------------------------------------------------------------------------------------------------


def _whole(inputs: Inputs) -> int:
    """The unlabelled images a pretext run of the profile uses (``profile.pretext_images``, else all of them)."""
    return inputs.profile.pretext_images or len(inputs.split["unlabelled"])


def sweep_stage(run: PretextRun) -> str:
    """The name of a sweep run's encoder: the pretext's own (``siamese``) for a run on every image the profile's
    pretext runs use, ``<pretext>_u<images>`` (``siamese_u280``) for a run on part of them."""
    return f"{run.pretext}_u{run.images}" if run.part else run.pretext


def plan_sweep_runs(pretexts: dict, inputs: Inputs) -> list[PretextRun]:
    """Per pretext of ``profile.sweep_pretexts``, seed of ``profile.sweep_seeds`` and part of
    ``profile.unlabelled_fractions``:
    the pretext run on that part of the unlabelled images (of ``profile.pretext_images`` where set). The whole is the
    pretext's own run of `plan_pretext_runs` (the same task: read from the cache); a part is a `PretextRun` with
    ``part`` set: the first images of the seed's order (nested), repeated so that the run sees as many images as the
    whole one."""
    profile = inputs.profile
    whole = _whole(inputs)
    base = plan_pretext_runs({name: pretexts[name] for name in profile.sweep_pretexts}, inputs)
    runs = []
    for run in (r for r in base if r.seed in profile.sweep_seeds):
        for fraction in profile.unlabelled_fractions:
            images = int(round(fraction * whole))
            if images >= whole:
                runs.append(run)
                continue
            train = images - int(run.settings.val_fraction * images)
            repeats = max(1, int(round((whole - int(run.settings.val_fraction * whole)) / train)))
            runs.append(replace(run, images=images, repeats=repeats, part=True))
    return runs


def save_sweep_encoders(runs: list[PretextRun], results: list[dict], inputs: Inputs, pretexts: dict) -> list[Path]:
    """Save the encoders of the sweep's runs on part of the unlabelled set (those on all of it are notebook 4's own
    encoders, saved with the other pretexts'); returns every sweep encoder's file."""
    paths, carrier = [], build_encoder()
    for run, result in zip(runs, results):
        if run.part:
            save_pretext_encoder(run, result, inputs, pretexts[run.pretext].monitor, sweep_stage(run), carrier)
        paths.append(encoder_weights(inputs.profile, sweep_stage(run), run.seed))
    return paths


def plan_sweep_fits(runs: list[PretextRun], inputs: Inputs, recipe: Recipe = Recipe()) -> list[Fit]:
    """The sweep's fits under its seeds (``profile.sweep_seeds``): k-NN and logistic regression on every sweep encoder's
    frozen features at ``profile.sweep_amounts``, and the supervised recipe from it (random head) at
    ``profile.sweep_finetune_amounts``."""
    profile = inputs.profile
    encoders: dict[str, dict[int, str]] = {}
    for run in runs:
        path = encoder_weights(profile, sweep_stage(run), run.seed)
        meta = read_meta(path, NOTEBOOK_PRETEXT, inputs.data_fp)
        encoders.setdefault(sweep_stage(run), {})[run.seed] = meta["identity"]

    def plan(kind, stage, amounts):
        return plan_fits(kind, profile, inputs.n_labelled, inputs.data_fp, inputs.split_fp, recipe, stage,
                         encoders[stage], amounts, profile.sweep_seeds)

    frozen = [f for stage in encoders for kind in frozen_kinds() for f in plan(kind, stage, profile.sweep_amounts)]
    return frozen + [f for stage in encoders for f in plan("recipe", stage, profile.sweep_finetune_amounts)]


def sweep_table(fits: list[Fit], outcome, runs: list[PretextRun], inputs: Inputs) -> pd.DataFrame:
    """The sweep's results: one row per fit, with its pretext, the unlabelled images its encoder was pre-trained on
    (training and held-out; the whole: every image the profile's pretext runs use) and the use of the encoder
    (``knn``, ``logistic``, ``probe``, ``finetune``)."""
    stages = {sweep_stage(run): run for run in runs}
    flat = [f for stage in fits for f in stage] if fits and isinstance(fits[0], list) else fits
    table = outcome.table.copy()
    table.insert(1, "pretext", [stages[f.pretext].pretext for f in flat])
    table.insert(4, "unlabelled", [int(stages[f.pretext].images if stages[f.pretext].part else _whole(inputs))
                                   for f in flat])
    return table


def save_sweep(table: pd.DataFrame, inputs: Inputs, sources) -> Path:
    """Write ``results_sweep.csv`` (notebook 4) with a side-car recording the split and the encoders."""
    return save_table(table, inputs.profile.artefacts / "results_sweep.csv", NOTEBOOK_PRETEXT,
                      [inputs.split_path, *sources], inputs.data_fp)


# ----------------------------------------------------------------------------------------------------------------------
# Notebook 5's semi-supervised arm
# ----------------------------------------------------------------------------------------------------------------------


def plan_semi_runs(inputs: Inputs, recipe: Recipe = Recipe()) -> list[SemiRun]:
    """Every semi-supervised method of `SEMI_METHODS` as the profile's design asks (`Profile.semi_plan`: start,
    amounts, seeds); the longest runs first."""
    profile = inputs.profile
    runs = []
    for kind, method in SEMI_METHODS.items():
        settings = method().scaled(profile.semi_scale)
        for start, amounts, seeds in profile.semi_plan(kind, inputs.n_labelled):
            encoders = {s: m["identity"] for s, m in pretrained_encoders(inputs, start).items()} if start else {}
            for amount, n in profile.amounts(inputs.n_labelled):
                if amount not in amounts:
                    continue
                for seed in seeds:
                    runs.append(SemiRun(kind, amount, n, seed, epochs_for(n, profile, recipe)[1], profile.batch_size,
                                        recipe, settings, inputs.data_fp, inputs.split_fp, start,
                                        encoders[seed] if start else None, profile.pretext_images))
    return sorted(runs, key=lambda run: (run.kind != "fixmatch", run.seed, run.n_labels))
