"""The study's design: a profile (`Profile`: ``full``, the committed run; ``quick``, CI) is a set of `Arm`s (which
encoder is trained how, at which label amounts, under which seeds), and the environment variables that steer a run
(checked by `check_settings`). It sits above the registries of units (``other`` names every pretext but two).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..compute.fits import FIT_KINDS, frozen_kinds
from .. import config
from ..config import (CHOICES, FIT_CACHE_ENV, HEADLINE_PRETEXT, JOBS_ENV, N_CLASSES, OUTPUT_ENV,
                      SCALE_CONTROL, SPLIT_PROPORTIONS, SPLIT_SEED, Choices, Layout, Recipe)


@dataclass(frozen=True)
class Arm:
    """One arm of the design: an encoder under one use, at some label amounts, under some seeds.

    ``encoder``: ``none`` (the supervised CNN's random initialisation), ``random`` (notebook 3's untrained encoder),
    ``pixels``, a pretext's name, `SCALE_CONTROL` (the weight-scale control), ``best`` (the dataset's best other
    pretext: `Choices.best_pretext`), ``other``
    (every pretext but the headline and the best) or ``any`` (every encoder but the weight-scale control, which
    exists for the addendum's arms alone). ``use``: a kind of fit (``supervised``, ``recipe``, ``finetune`` -- its
    probe comes with it --, ``probe``, ``tuned``) or ``frozen`` (k-NN and logistic regression). ``amounts``: None for
    every amount of the profile."""

    encoder: str
    use: str
    amounts: tuple[str, ...] | None
    seeds: tuple[int, ...]

    def names(self, encoder: str, best: str) -> bool:
        """Whether this arm is about ``encoder`` (``best``: the dataset's best other pretext)."""
        from ..compute.pretexts import PRETEXTS  # the registry (a unit registered later is an ``other`` pretext too)

        if self.encoder == "any":
            return encoder not in ("none", SCALE_CONTROL)
        if self.encoder == "best":
            return encoder == best
        if self.encoder == "other":
            return encoder in PRETEXTS and encoder not in (HEADLINE_PRETEXT, best)
        return encoder == self.encoder

    def covers(self, encoder: str, use: str, amount: str, best: str) -> bool:
        """Whether this arm asks for ``encoder`` under ``use`` at ``amount``."""
        return self.names(encoder, best) and use in self.uses() and (self.amounts is None or amount in self.amounts)

    def uses(self) -> tuple[str, ...]:
        """The kinds of fit this arm asks for: ``frozen`` names every kind on frozen features; a kind that starts from
        an earlier kind's result (`FitKind.after`: fine-tuning from its probe) brings that kind with it."""
        if self.use == "frozen":
            return frozen_kinds()
        after = getattr(FIT_KINDS.get(self.use), "after", None)
        return (self.use, after) if after else (self.use,)


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the committed ``full`` run and the ``quick`` CI run: the amount of training, and
    the design (`Arm`s: which encoder is trained how, at which amounts, under which seeds). Each profile has its split
    (``split_seed``: CI's quick profile never scores a model on the confirmatory test set). ANALYSIS_PLAN.md says why
    the full profile's design is what it is."""

    name: str
    fractions: tuple[float, ...]  #: fractions of the labelled set to train on ...
    per_class: tuple[int, ...]  #: ... and amounts of k labels per class (k x 10 images), the low-label regime
    seeds: tuple[int, ...]  #: the breadth seeds: each draws its own subsets, initialisation, augmentation, pretext run
    epochs_at_full: int  #: passes over the label subset in one supervised fit; small subsets get more (`epochs_for`)
    min_fit_images: int  #: ... so that every fit sees at least this many images
    max_epochs: int  #: cap on the epochs of one supervised fit
    pretext_epochs: int | None  #: epochs of every pretext task (None: each task's own, chosen on validation data)
    #: unlabelled images used by a pretext run and a semi-supervised run (None: all of them)
    pretext_images: int | None
    #: the design: every classifier fit of notebooks 2 and 5 is asked for by an arm (seeds: the union of the arms')
    arms: tuple[Arm, ...] = ()
    #: the amounts of the primary endpoint (ANALYSIS_PLAN.md), where the 2 x 2 runs under more seeds
    primary_amounts: tuple[str, ...] = ()
    batch_size: int = 128
    #: notebook 4's sweep: the pretexts pre-trained on parts of the unlabelled set (under ``sweep_seeds``), the parts
    #: (of the images a pretext run uses: ``pretext_images`` or all), the label amounts their frozen features are scored
    #: at, and those they are trained at with the supervised recipe
    sweep_pretexts: tuple[str, ...] = (HEADLINE_PRETEXT,)
    unlabelled_fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    sweep_amounts: tuple[str, ...] = ("10/class", "1%", "10%")
    sweep_finetune_amounts: tuple[str, ...] = ("10/class",)
    sweep_seeds: tuple[int, ...] = (0,)
    #: notebook 5's semi-supervised arm: (method -- or "other": every method but `SEMI_METHOD` --, start -- None for
    #: random weights, or a pretext --, amounts, seeds); their budgets (FixMatch's steps, a student's images) times
    #: ``semi_scale`` (1: the methods' own)
    semi_arms: tuple[tuple[str, str | None, tuple[str, ...], tuple[int, ...]], ...] = ()
    semi_scale: float = 1.0
    map_images: int = 1500  #: test images in notebook 4's 2-D maps of the embeddings (t-SNE; analysis only)
    split_seed: int = SPLIT_SEED  #: the seed of notebook 1's split (the quick profile has its own)
    choices: Choices = CHOICES["mnist"]  #: what the dataset's selection chose (the design is built from them)

    def semi_plan(self, method: str, n_labelled: int) -> list[tuple[str | None, tuple[str, ...], tuple[int, ...]]]:
        """(start, amounts, seeds) of a semi-supervised method: its ``semi_arms`` (``"other"`` names every method but
        the chosen one, `Choices.semi_method`); a method without one runs at the smallest amount under ``seeds``, from
        random weights and from the best other pretext's encoder."""
        mine = [arm[1:] for arm in self.semi_arms
                if arm[0] == method or (arm[0] == "other" and method != self.choices.semi_method)]
        return mine or [(start, (self.amounts(n_labelled)[0][0],), self.seeds)
                        for start in (None, self.choices.best_pretext)]

    def seeds_of(self, encoder: str, use: str, amount: str) -> tuple[int, ...]:
        """The seeds under which ``encoder`` is trained or read by ``use`` at ``amount``: the union of the arms that
        ask for it (empty: no arm does). A kind of fit that no arm names (a unit added since the design was written)
        runs from the headline pretext's encoder (or from none, for a kind without one) at the primary amounts under
        the breadth seeds."""
        if use in FIT_KINDS and not any(use in arm.uses() for arm in self.arms):  # a kind no arm names
            default = HEADLINE_PRETEXT if FIT_KINDS[use].encoder else "none"
            return self.seeds if encoder == default and amount in self.primary_amounts else ()
        return tuple(sorted({s for arm in self.arms if arm.covers(encoder, use, amount, self.choices.best_pretext)
                              for s in arm.seeds}))

    def encoder_seeds(self, encoder: str) -> tuple[int, ...]:
        """Every seed of an encoder's arms: a pretext runs once per seed (``random``, the untrained encoders of
        notebook 3 that every pretext run starts from: every seed of the design)."""
        if encoder == "random":
            return self.all_seeds
        return tuple(sorted({s for arm in self.arms for s in arm.seeds
                              if arm.names(encoder, self.choices.best_pretext)}))

    @property
    def all_seeds(self) -> tuple[int, ...]:
        """Every seed of the run: those with an initial encoder (notebook 3)."""
        return tuple(sorted({s for arm in self.arms for s in arm.seeds} | set(self.seeds)))

    def amounts_of(self, use: str, n_labelled: int) -> tuple[str, ...]:
        """The amounts where an arm asks for ``use`` (``tuned``: the addendum's curve), smallest first."""
        return tuple(a for a, _ in self.amounts(n_labelled) if any(use in arm.uses() and (
            arm.amounts is None or a in arm.amounts) for arm in self.arms))

    def smallest_dataset(self) -> int:
        """The fewest images a dataset may have for this profile's design: its smallest label amount must hold at
        least `MIN_PER_CLASS` images of each class (the frozen-feature classifiers cross-validate on it), and its
        labelled set (`SPLIT_PROPORTIONS`) the largest per-class amount."""
        share = SPLIT_PROPORTIONS[0]
        needs = [int(np.ceil(MIN_PER_CLASS * N_CLASSES / (share * f))) for f in self.fractions]
        needs += [int(np.ceil(k * N_CLASSES / share)) for k in self.per_class]
        return max(needs)

    def amounts(self, n_labelled: int) -> list[tuple[str, int]]:
        """The label amounts as ``(name, number of images)``, smallest first: ``("10/class", 100)``, ``("1%", 280)``."""
        amounts = [(f"{k}/class", k * N_CLASSES) for k in self.per_class]
        amounts += [(f"{f:.0%}", int(round(f * n_labelled))) for f in self.fractions]
        return sorted(amounts, key=lambda a: a[1])

    @property
    def output(self) -> Path:
        """Where this profile's artefacts and figures go: the project, or the folder a run stages them in."""
        return Path(os.environ[OUTPUT_ENV]) if os.environ.get(OUTPUT_ENV) else config.PROJECT.root

    @property
    def artefacts(self) -> Path:
        """Folder of this profile's artefacts (split, weights, histories, results)."""
        return Layout(self.output).artefacts(self.name)

    @property
    def figures(self) -> Path:
        """Folder of this profile's figures: ``figures/`` for the full run, apart for any other profile."""
        return Layout(self.output).figures(self.name)

    @property
    def cache(self) -> Path:
        """The fit cache: one entry per fit and pretext run, shared by every run of this profile."""
        cache = os.environ.get(FIT_CACHE_ENV)
        return Path(cache) if cache else config.PROJECT.artefacts(self.name) / "cache"


class SettingError(ValueError):
    """An environment variable or option that steers a run has a value it cannot take; the message names the variable
    and the values it accepts."""


MIN_PER_CLASS = 2  #: images of each class in the smallest label amount (a 2-fold cross-validation needs them)
BACKENDS = ("loky", "dask")  #: values of $SSL_BACKEND
KERAS_BACKENDS = ("tensorflow", "jax")  #: values of $KERAS_BACKEND this project runs on


def check_size(profile: Profile, n_images: int, title: str = "The dataset") -> None:
    """Refuse, in one sentence before any fit, a dataset too small for ``profile``'s design (`Profile.smallest_dataset`:
    500 images for the quick profile, 5,000 for the full one)."""
    smallest = profile.smallest_dataset()
    if n_images < smallest:
        raise SettingError(f"{title} has {n_images:,} images, fewer than the {smallest:,} the {profile.name} profile's "
                           f"design needs (its smallest label amount must hold {MIN_PER_CLASS} images of each class); "
                           "use a larger dataset or the quick profile.")


def parse_jobs(value: str | int, where: str = JOBS_ENV) -> int:
    """A number of fits at once: a whole number of at least 1 (``where`` names the setting in the message)."""
    try:
        jobs = int(str(value).strip())
    except ValueError:
        raise SettingError(f"{where}={value!r} is not a whole number: set it to the fits to run at once, such as "
                           f"{os.cpu_count() or 1} (one per core).") from None
    if jobs < 1:
        raise SettingError(f"{where}={value!r}: at least one fit must run at a time; set it to 1 or more.")
    return jobs


def default_jobs() -> int:
    """How many fits run at once: ``$SSL_JOBS``, else one per CPU core."""
    value = os.environ.get(JOBS_ENV)
    return parse_jobs(value) if value else os.cpu_count() or 1


def epochs_for(n_train: int, profile: Profile, recipe: Recipe = Recipe()) -> tuple[int, int]:
    """``(repeats, epochs)`` of one supervised fit on ``n_train`` images.

    Every fit makes ``profile.epochs_at_full`` passes over its subset, but sees at least ``profile.min_fit_images``
    images in all (up to ``profile.max_epochs`` epochs): small subsets need more passes to converge, large ones are
    near their ceiling after a few dozen. A subset smaller than ``recipe.min_epoch_images`` is repeated within an
    epoch, so that an epoch holds enough optimisation steps. (``max_epochs`` caps the floor of images, never the passes:
    a recipe chosen at more passes than it, as Fashion-MNIST's may be, makes them on the large subsets; where the passes
    are at most ``max_epochs``, as on MNIST, the two readings agree at every amount.)
    """
    repeats = int(np.ceil(recipe.min_epoch_images / n_train))
    epoch_images = repeats * n_train
    floor = min(profile.max_epochs, int(np.ceil(profile.min_fit_images / epoch_images)))
    return repeats, max(int(np.ceil(profile.epochs_at_full / repeats)), floor)


def training_budget(profile: Profile, n_labelled: int, recipe: Recipe = Recipe()) -> pd.DataFrame:
    """Per label amount: labels (all of them are trained on), repeats, epochs, images seen."""
    rows = []
    for amount, n in profile.amounts(n_labelled):
        repeats, epochs = epochs_for(n, profile, recipe)
        rows.append({"amount": amount, "labels": n, "repeats": repeats, "epochs": epochs,
                     "images seen": repeats * n * epochs})
    return pd.DataFrame(rows)
