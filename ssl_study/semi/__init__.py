"""Semi-supervised learning on the same CNN: the unlabelled set used as a teacher's pupil, not only as pre-training data.

A method is one unit, as a pretext task is (`ssl_study.pretexts`): a subclass of `SemiMethod` in a module of its own in
this folder -- its settings, how it trains the CNN on the labels and the unlabelled images, how its budget scales --
registered with `register` and one import line at the end of this file. Notebooks 5 and 6, the runner, the
experiments and the tests discover it through `SEMI_METHODS`:

* ``pseudolabel`` (`pseudolabel.PseudoLabel`): teacher -> student pseudo-labelling, the course material's scheme;
* ``fixmatch`` (`fixmatch.FixMatch`): FixMatch-style consistency between a weak and a strong view (Sohn et al., 2020).

No method is given the unlabelled images' labels: `SemiMethod.train` returns, with the trained CNN, the pseudo-labels
and confidences of each round, and the caller (`ssl_study.workers`) scores those against the true labels for the
report only. They use the backend-neutral Keras 3 API, so they run on TensorFlow or JAX.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, ClassVar

import numpy as np

from ..config import Recipe


class SemiMethod:
    """One semi-supervised method. Subclasses set the class attributes and implement `train` (and `scaled`, where
    their budget is not ``student_images``)."""

    name: ClassVar[str]  #: the registry key; a method's results are ``<name>`` from random weights, ``<pretext>_<name>``
    #: from a pre-trained encoder
    title: ClassVar[str]  #: in prose, tables and figures
    line: ClassVar[tuple[str, str]] = ("--", "P")  #: its line style and marker in every figure
    Settings: ClassVar[type]
    #: the version of what this unit computes: part of its runs' cache keys; bump it when the module's code changes
    #: what a run computes (``tests/test_keys.py`` says when, see `ssl_study.keys`)
    version: ClassVar[int] = 1

    def __init__(self, settings=None, **overrides):
        self.settings = replace(settings or self.Settings(), **overrides)

    def train(self, x_labelled: np.ndarray, y_labelled: np.ndarray, x_unlabelled: np.ndarray, seed: int, epochs: int,
              batch_size: int, recipe: Recipe = Recipe(), encoder_weights: list | None = None,
              watch: Callable | None = None) -> tuple[object, dict]:
        """Train the prescribed CNN from random weights or from ``encoder_weights`` on the labels and the unlabelled
        images (``epochs``, ``batch_size``, ``recipe``: the supervised fit's of the same labels, for the methods that
        use them). Returns the CNN and a record: ``seconds``, ``epochs``, and ``rounds``: per report, the pseudo-labels
        (``pseudo``) and confidences (``confidence``) of the unlabelled images, with ``watch(model)`` where given."""
        raise NotImplementedError

    def scaled(self, factor: float):
        """The settings with the method's budget times ``factor`` (the quick profile's smoke test)."""
        return self.settings


SEMI_METHODS: dict[str, type[SemiMethod]] = {}


def register(cls: type[SemiMethod]) -> type[SemiMethod]:
    """Class decorator: add a semi-supervised method to `SEMI_METHODS` under its ``name``."""
    if not getattr(cls, "name", "").isidentifier():
        raise ValueError(f"a semi-supervised method needs a name that is an identifier: {cls!r}")
    SEMI_METHODS[cls.name] = cls
    return cls


def get_semi(name: str, settings=None) -> SemiMethod:
    """The registered semi-supervised method ``name`` with ``settings`` (default: its own)."""
    if name not in SEMI_METHODS:
        raise KeyError(f"no semi-supervised method {name!r}; registered: {sorted(SEMI_METHODS)}")
    return SEMI_METHODS[name](settings)


def predict_pseudo_labels(model, x_unlabelled: np.ndarray) -> dict:
    """The model's pseudo-labels of the unlabelled images and its confidence (top probability) in each."""
    probabilities = model.predict(x_unlabelled, batch_size=2048, verbose=0)
    return {"pseudo": probabilities.argmax(1).astype("int8"), "confidence": probabilities.max(1).astype("float32")}


# The registry: one line per method.
from . import pseudolabel  # noqa: E402,F401
from . import fixmatch  # noqa: E402,F401
from .fixmatch import FixMatch, FixMatchSettings, consistency_loss  # noqa: E402,F401
from .pseudolabel import PseudoLabel, PseudoLabelSettings  # noqa: E402,F401

from .. import plugins  # noqa: E402  (units registered outside the package: $SSL_UNITS)

plugins.load()
