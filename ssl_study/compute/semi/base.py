"""What a semi-supervised method is (`SemiMethod`), its registry (`SEMI_METHODS`, `register`), and the pseudo-labels
a method reports; the package's ``__init__`` says how to add one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, ClassVar, TypedDict

import numpy as np

from ...config import Recipe


@dataclass(frozen=True)
class SemiSettings:
    """What the settings of every semi-supervised method have (a method's own subclass this): ``threshold``, the
    confidence from which a pseudo-label counts as kept -- the report's coverage and pseudo-label accuracy are measured
    at it (`ssl_study.study.workers`)."""

    threshold: float = 0.9


class Round(TypedDict, total=False):
    """One report of a method's training (`SemiMethod.train`'s ``rounds``): the pseudo-label (``pseudo``) and the
    confidence (``confidence``, the top probability) of every unlabelled image, and the training step it was taken at
    (``step``; a round's number where absent)."""

    pseudo: np.ndarray
    confidence: np.ndarray
    step: int


class SemiMethod:
    """One semi-supervised method. Subclasses set the class attributes and implement `train` (and `scaled`, where
    their budget is not ``student_images``)."""

    name: ClassVar[str]  #: the registry key; a method's results are ``<name>`` from random weights,
    #: ``<pretext>_<name>`` from a pre-trained encoder
    title: ClassVar[str]  #: in prose, tables and figures
    line: ClassVar[tuple[str, str]] = ("--", "P")  #: its line style and marker in every figure
    Settings: ClassVar[type[SemiSettings]] = SemiSettings
    #: the version of what this unit computes: part of its runs' cache keys; bump it when the code it reaches
    #: changes what a run computes (``tests/test_keys.py`` says when: `ssl_study.study.fingerprints`)
    version: ClassVar[int] = 1

    def __init__(self, settings=None, **overrides):
        self.settings = replace(settings or self.Settings(), **overrides)

    def train(self, x_labelled: np.ndarray, y_labelled: np.ndarray, x_unlabelled: np.ndarray, seed: int, epochs: int,
              batch_size: int, recipe: Recipe = Recipe(), encoder_weights: list | None = None,
              watch: Callable | None = None) -> tuple[object, dict]:
        """Train the prescribed CNN from random weights or from ``encoder_weights`` on the labels and the unlabelled
        images (``epochs``, ``batch_size``, ``recipe``: the supervised fit's of the same labels, for the methods that
        use them). Returns the CNN and a record: ``seconds``, ``epochs``, and ``rounds``: a list of `Round` (the
        pseudo-labels and confidences of the unlabelled images at each report), with ``watch(model)`` where given."""
        raise NotImplementedError

    def scaled(self, factor: float):
        """The settings with the method's budget times ``factor`` (the quick profile's smoke test)."""
        return self.settings


SEMI_METHODS: dict[str, type[SemiMethod]] = {}


def register(cls: type[SemiMethod]) -> type[SemiMethod]:
    """Class decorator: add a semi-supervised method to `SEMI_METHODS` under its ``name``."""
    if not getattr(cls, "name", "").isidentifier():
        raise ValueError(f"a semi-supervised method needs a name that is an identifier: {cls!r}")
    if not issubclass(cls.Settings, SemiSettings):
        raise TypeError(f"the settings of {cls.__name__} must subclass SemiSettings (its threshold is reported)")
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
