"""What the notebooks share: their inputs (data and split), the fits of a method, and the artefacts they pass on.

Each notebook writes its own files and nothing else's, so re-running a notebook replaces its outputs completely:

| notebook | writes |
|---|---|
| 01 | ``split.npz`` |
| 02 | ``results_supervised.csv``, ``histories_supervised.json``, ``confusions_supervised.json``, ``correct_supervised.npz`` |
| 03 | ``encoder_init_seed<s>.weights.h5`` |
| 04 | ``encoder_<pretext>[_u<images>]_seed<s>.weights.h5``, ``pretext_history.csv``, ``pretext_diagnostics.json``, ``results_sweep.csv`` |
| 05 | ``results_pretrained.csv``, ``histories_pretrained.json``, ``confusions_pretrained.json``, ``correct_pretrained.npz`` |
| 06 | ``summary.csv``, ``summary.md``, ``pretexts.md``, ``semi.md``, ``gains.csv``, ``answer.md``, ``written_answer.md`` |

and every file's side-car records the files it was made from (see `ssl_study.artefacts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import keys
from .artefacts import (ArtefactError, atomic_write, load_arrays, load_json, load_table, meta_path, read_meta,
                        save_arrays, save_json, save_table, write_meta)
from .config import (NOTEBOOK_ENCODER, NOTEBOOK_FINETUNE, NOTEBOOK_PRETEXT, NOTEBOOK_SUPERVISED,
                     Profile, Recipe, config_dict)
from .data import Mnist, load_mnist, load_split, split_fingerprint, to_model_input
from .models import architecture_fingerprint, build_encoder, weights_fingerprint
from .semi import SEMI_METHODS
from .executor import run_tasks
from .methods import label, method_id
from .tasks import FROZEN_KINDS, Fit, PretextRun, SemiRun, plan_fits
from .training import epochs_for

#: a results table: the method (its id, encoder, use and display label: `ssl_study.methods`), the label subset, the
#: scores and the cost of each fit
RESULT_COLUMNS = ["method", "encoder", "use", "label", "amount", "fraction", "n_labels", "seed", "test_accuracy",
                  "official_test_accuracy", "macro_f1", "epochs", "setting", "seconds"]

#: the results of each notebook that trains classifiers: (notebook, file-name stem)
RESULTS = {"supervised": (NOTEBOOK_SUPERVISED, "supervised"), "pretrained": (NOTEBOOK_FINETUNE, "pretrained")}


@dataclass
class Inputs:
    """The data and the split of notebook 1, checked against each other: what every later notebook starts from."""

    profile: Profile
    mnist: Mnist
    split: dict[str, np.ndarray]

    @property
    def split_path(self) -> Path:
        return self.profile.artefacts / "split.npz"

    @property
    def data_fp(self) -> str:
        return self.mnist.fingerprint

    @property
    def split_fp(self) -> str:
        return split_fingerprint(self.split)

    @property
    def n_labelled(self) -> int:
        return len(self.split["labelled"])

    def images(self, part: str) -> np.ndarray:
        """The model inputs of one part of the split (``labelled``, ``unlabelled``, ``test``)."""
        return to_model_input(self.mnist.images[self.split[part]])

    def labels(self, part: str) -> np.ndarray:
        return self.mnist.labels[self.split[part]].astype("int32")


def load_inputs(profile: Profile, verbose: bool = True) -> Inputs:
    """The course's images (decoded-data cache) and the split that notebook 1 saved from them."""
    mnist = load_mnist(verbose=verbose)
    return Inputs(profile, mnist, load_split(profile, mnist))


# ----------------------------------------------------------------------------------------------------------------------
# Encoders
# ----------------------------------------------------------------------------------------------------------------------


def encoder_weights(profile: Profile, stage: str, seed: int) -> Path:
    """Path of an encoder's weights: ``stage`` is ``init`` (notebook 3) or a pretext task's name (notebook 4)."""
    return profile.artefacts / f"encoder_{stage}_seed{seed}.weights.h5"


def save_encoder(encoder, path: Path, notebook: str, inputs=(), data_fingerprint: str | None = None, *,
                 identity: str, **meta) -> dict:
    """Save an encoder's weights with a side-car: its ``identity`` (what the keys of the tasks that start from it name
    it by: `ssl_study.keys`), its architecture and weights fingerprint (to refuse an edited file), and ``meta``."""
    atomic_write(path, encoder.save_weights)
    weights = weights_fingerprint(encoder.get_weights())
    return write_meta(path, notebook, inputs, data_fingerprint, identity=identity,
                      architecture=architecture_fingerprint(encoder), weights=weights, **meta)


def save_initial_encoder(encoder, profile: Profile, seed: int) -> dict:
    """Save notebook 3's initial encoder of ``seed`` (built after seeding Keras with ``seed``), named by
    `keys.initial_encoder_key`."""
    return save_encoder(encoder, encoder_weights(profile, "init", seed), NOTEBOOK_ENCODER, seed=seed,
                        identity=keys.initial_encoder_key(seed))


def load_encoder(path: Path, notebook: str, data_fingerprint: str | None = None):
    """An encoder with the saved weights, refused if they are missing, edited or stale; returns (encoder, side-car)."""
    meta = check_encoder(path, notebook, data_fingerprint)
    encoder = build_encoder()
    encoder.load_weights(path)
    return encoder, meta


def check_encoder(path: Path, notebook: str, data_fingerprint: str | None = None) -> dict:
    """The side-car of a saved encoder, refused as `load_encoder` refuses it, without loading the weights (or Keras):
    missing, edited or stale (`read_meta`: an encoder it was made from changed since), or made by other code than
    this (an initial encoder whose identity is not `keys.initial_encoder_key` of its seed now: the ``init`` kind's
    version was bumped since notebook 3 ran)."""
    meta = read_meta(path, notebook, data_fingerprint)
    stale = notebook == NOTEBOOK_ENCODER and meta.get("identity") != keys.initial_encoder_key(meta.get("seed", -1))
    if stale or not meta.get("identity"):
        raise ArtefactError(f"{path.name} was made by other code than this: re-run notebooks/{notebook}.")
    return meta


def pretrained_encoders(inputs: Inputs, pretext: str) -> dict[int, dict]:
    """The side-cars of one pretext's encoders (notebook 4), one per seed of its arms (`Profile.encoder_seeds`),
    checked against the current data (``random``: the untrained encoders of notebook 3)."""
    stage, notebook, data = (("init", NOTEBOOK_ENCODER, None) if pretext == "random" else
                             (pretext, NOTEBOOK_PRETEXT, inputs.data_fp))
    return {seed: check_encoder(encoder_weights(inputs.profile, stage, seed), notebook, data)
            for seed in pretext_seeds(inputs.profile, pretext)}


def pretext_seeds(profile: Profile, pretext: str) -> tuple[int, ...]:
    """The seeds a pretext is run under: those of its arms in the profile's design (`Profile.encoder_seeds`), and the
    breadth seeds for a pretext of notebook 4's sweep."""
    sweep = profile.sweep_seeds if pretext in profile.sweep_pretexts else ()
    return tuple(sorted(set(profile.encoder_seeds(pretext)) | set(sweep)))


def encoder_files(inputs: Inputs, names) -> dict[str, Path]:
    """Identity -> file of the encoders of the pretexts ``names`` (``random``: notebook 3's), every seed."""
    return {meta["identity"]: encoder_weights(inputs.profile, "init" if name == "random" else name, seed)
            for name in names for seed, meta in pretrained_encoders(inputs, name).items()}


def identities(paths) -> dict[str, Path]:
    """Identity -> file of the saved encoders ``paths`` (from their side-cars)."""
    return {read_meta(Path(path), json.loads(meta_path(Path(path)).read_text())["notebook"])["identity"]: Path(path)
            for path in paths}


def plan_encoder_fits(inputs: Inputs, names, recipe: Recipe = Recipe()) -> list[list[Fit]]:
    """Notebook 5's fits, in two stages, each as the profile's design asks (`Profile.seeds_of`). First: k-NN and
    logistic regression on the frozen features of every encoder of ``names`` (pretexts, and ``random`` for the
    untrained control) and of the raw pixels; the supervised recipe from each encoder (``recipe``: its weights, a
    random head); and the linear probes. Then: the fine-tuning that starts from each probe."""
    profile = inputs.profile

    def plan(kind, name):
        seeds = None if name == "pixels" else {s: m["identity"] for s, m in pretrained_encoders(inputs, name).items()}
        return plan_fits(kind, profile, inputs.n_labelled, inputs.data_fp, inputs.split_fp, recipe, name, seeds)

    frozen = [fit for name in ["pixels", *names] for kind in FROZEN_KINDS for fit in plan(kind, name)]
    frozen.sort(key=lambda fit: (fit.pretext, fit.seed))  # a worker computes an encoder's features once
    first = [fit for name in names for kind in ("recipe", "probe") for fit in plan(kind, name)]
    return [frozen + first, [fit for name in names for fit in plan("finetune", name)]]


def planned_fits(profile: Profile, n_labelled: int) -> pd.DataFrame:
    """The profile's design as a table: one row per classifier fit and semi-supervised run that notebooks 2 and 5
    make (method, encoder, use, amount, seed); the sweep's fits of notebook 4 are not in it."""
    from .pretexts import PRETEXTS

    rows = []
    for encoder in ["none", "random", "pixels", *PRETEXTS]:
        for use in ["supervised", "recipe", "probe", "finetune", *FROZEN_KINDS]:
            if (encoder == "none") != (use == "supervised") or (encoder == "pixels" and use not in FROZEN_KINDS):
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


# ----------------------------------------------------------------------------------------------------------------------
# Pretext runs
# ----------------------------------------------------------------------------------------------------------------------


def initial_encoders(inputs: Inputs) -> dict[int, Path]:
    """The initial encoder of each seed (notebook 3), checked: seed -> file."""
    paths = {seed: encoder_weights(inputs.profile, "init", seed) for seed in inputs.profile.all_seeds}
    for seed, path in paths.items():
        check_encoder(path, NOTEBOOK_ENCODER)
    return paths


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
    save_encoder(encoder, path, NOTEBOOK_PRETEXT, [inputs.split_path, encoder_weights(inputs.profile, "init", run.seed)],
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

    frozen = [f for stage in encoders for kind in FROZEN_KINDS for f in plan(kind, stage, profile.sweep_amounts)]
    return frozen + [f for stage in encoders for f in plan("recipe", stage, profile.sweep_finetune_amounts)]


def sweep_table(fits: list[Fit], outcome: Outcome, runs: list[PretextRun], inputs: Inputs) -> pd.DataFrame:
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
