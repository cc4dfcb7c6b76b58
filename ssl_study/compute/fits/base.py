"""What a kind of fit is (`FitKind`): how the CNN -- or a classifier on frozen features -- is trained on one label
subset, as one unit with its registry line, like a pretext task or a semi-supervised method.

A kind says what it starts from (``encoder``: an encoder's weights or none; ``frozen``: the encoder's frozen
features, or the raw pixels, instead of images), which kind's result it starts from (``after``: fine-tuning starts
from its probe, run in an earlier stage) and how it trains (`FitKind.run`). The worker (`ssl_study.study.workers`)
loads the inputs, calls `run`, and scores the model on the test images the same way for every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from ...config import Recipe


@dataclass(frozen=True)
class FitData:
    """What one fit trains on: the label subset's inputs ``x`` (images, or frozen features for a ``frozen`` kind) and
    labels ``y``; ``weights()``: the encoder's weights (None: no encoder); ``earlier(kind)``: the result of the fit of
    ``kind`` with the same encoder, amount and seed (computed once, cached)."""

    x: np.ndarray
    y: np.ndarray
    weights: Callable[[], list] | None = None
    earlier: Callable[[str], dict] | None = None


class FitKind:
    """One way to train on a label subset. Subclasses set the class attributes and implement `run`."""

    name: ClassVar[str]  #: the registry key, the ``use`` of a method and the end of its id (``siamese_finetune``)
    title: ClassVar[str]  #: in tables, legends and prose: "linear probe", "k-NN"
    line: ClassVar[tuple] = ("-", "o")  #: its line style and marker in every figure
    encoder: ClassVar[bool] = True  #: starts from an encoder (False: the CNN's own random initialisation)
    frozen: ClassVar[bool] = False  #: trains on frozen features (an encoder's, or the raw pixels), not on images
    #: its name from the untrained encoder, where that start is the CNN trained from scratch (else None: "untrained
    #: encoder, <title>")
    scratch_label: ClassVar[str | None] = None
    after: ClassVar[str | None] = None  #: the kind whose result of the same encoder, amount and seed it starts from
    Settings: ClassVar[type] = Recipe  #: its settings: the shared supervised recipe (a fit's ``recipe``)
    #: the version of what this unit computes: part of its fits' cache keys; bump it when the code it reaches changes
    #: what a fit computes (``tests/test_keys.py`` says when, see `ssl_study.study.fingerprints`)
    version: ClassVar[int] = 1

    def settings_for(self, encoder: str, n_labels: int, recipe: Recipe) -> tuple[Recipe, int]:
        """The settings of this kind's fits from ``encoder`` on ``n_labels`` labels: the recipe and the budget factor
        (times the profile's ``min_fit_images`` and ``max_epochs``). The shared recipe at the profile's budget, unless
        a kind tunes its own (`ssl_study.compute.fits.tuned`)."""
        return recipe, 1

    def run(self, fit, data: FitData) -> tuple[object, dict, list | None]:
        """Train on ``data`` as ``fit`` (a `ssl_study.study.tasks.Fit`: epochs, batch size, seed, recipe) says; return
        the model (anything `ssl_study.compute.training.evaluate` scores), the training record (``history``,
        ``epochs``, ``seconds``; ``choice``: a setting chosen on the subset) and the head to keep (or None)."""
        raise NotImplementedError


FIT_KINDS: dict[str, type[FitKind]] = {}


def register(cls: type[FitKind]) -> type[FitKind]:
    """Class decorator: add a kind of fit to `FIT_KINDS` under its ``name``."""
    if not getattr(cls, "name", "").isidentifier():
        raise ValueError(f"a kind of fit needs a name that is an identifier: {cls!r}")
    FIT_KINDS[cls.name] = cls
    return cls


def frozen_kinds() -> tuple[str, ...]:
    """The kinds that train on frozen features (k-NN, logistic regression), in registry order."""
    return tuple(name for name, kind in FIT_KINDS.items() if kind.frozen)
