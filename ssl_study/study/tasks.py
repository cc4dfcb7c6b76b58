"""What a task is: one fit, pretext run or semi-supervised run, as a frozen dataclass that holds everything its result
depends on (the data's and the split's fingerprints, the identity of the encoder it starts from, method, label
amount, seed, settings), and the plan of a method's fits.

A task's key is made from these fields (`ssl_study.study.keys`); it is computed by `ssl_study.study.workers` and run,
cached and parallelised by `ssl_study.study.executor`. An encoder is named by its identity (`ssl_study.study.keys`: the
key of the task that made it), never by a hash of its weights, whose last bits depend on the processor that computed
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compute.fits import FIT_KINDS
from ..compute.semi import SEMI_METHODS, SemiSettings
from ..config import AugmentConfig, Recipe
from .ids import method_id
from ..compute.pretexts import PRETEXTS, PretextSettings



@dataclass(frozen=True)
class Fit:
    """One classifier fit on one label subset: ``kind`` is ``supervised`` (random weights), ``recipe`` (the supervised
    recipe from the encoder of ``pretext`` with the identity ``encoder`` and the baseline's random
    Dense layer: only the encoder's initial weights differ from ``supervised``), ``probe`` or ``finetune`` (a linear
    probe on that encoder, and the fine-tuning that starts from the probe), or ``knn`` or
    ``logistic`` on that encoder's frozen features (``pretext`` ``pixels`` and no encoder: on the raw pixels). The
    ``random`` encoder is the untrained one of notebook 3, the control of every pretext."""

    kind: str
    amount: str
    n_labels: int
    seed: int
    epochs: int
    batch_size: int
    recipe: Recipe
    data: str  #: fingerprint of the decoded images (of the dataset: MNIST or Fashion-MNIST)
    split: str  #: fingerprint of the split
    pretext: str | None = None
    encoder: str | None = None

    @property
    def encoder_name(self) -> str:
        """Where the CNN starts from (`ssl_study.study.methods`): ``none`` for the supervised fit, else ``pretext``."""
        return self.pretext if FIT_KINDS[self.kind].encoder else "none"

    @property
    def method(self) -> str:
        """The method's id in the results: ``supervised``, ``siamese_probe``, ``siamese_finetune``, ..."""
        return method_id(self.encoder_name, self.kind)


@dataclass(frozen=True)
class PretextRun:
    """One pretext run: task ``pretext`` with ``settings``, from the initial encoder with identity ``init``, on the
    first ``images`` of the seed's order of the unlabelled images (`pretext_indices`; None: all of them). A run on
    part of them (notebook 4's sweep, ``part``: the parts of one seed are nested) repeats its training images
    ``repeats`` times per epoch, so that it sees as many images as the run on all of them (the amount of unlabelled
    data is the variable, not the amount of training), and skips the task's diagnostics."""

    pretext: str
    settings: PretextSettings
    seed: int
    epochs: int
    images: int | None
    init: str
    data: str
    split: str
    repeats: int = 1
    part: bool = False


@dataclass(frozen=True)
class SemiRun:
    """One semi-supervised run (`ssl_study.compute.semi`): method ``kind`` (``pseudolabel`` or ``fixmatch``) with
    ``settings`` on one label subset and the whole unlabelled set, from random weights or from the encoder of
    ``pretext`` with the identity ``encoder``; ``epochs``: the teacher's (pseudo-labelling), as a supervised fit;
    ``images``: the unlabelled images it uses, the first of the seed's order of them (None: all, in the split's
    order)."""

    kind: str
    amount: str
    n_labels: int
    seed: int
    epochs: int
    batch_size: int
    recipe: Recipe
    settings: SemiSettings
    data: str
    split: str
    pretext: str | None = None
    encoder: str | None = None
    images: int | None = None

    @property
    def encoder_name(self) -> str:
        """Where the CNN starts from: ``none`` (random weights) or ``pretext``."""
        return self.pretext or "none"

    @property
    def method(self) -> str:
        """``pseudolabel`` or ``fixmatch`` from random weights, ``<pretext>_<kind>`` from a pre-trained encoder."""
        return method_id(self.encoder_name, self.kind)


def kind_of(task) -> str:
    """The kind of a task, as the cache and the keys name it: ``fit``, ``pretext`` or ``semi``."""
    return {Fit: "fit", PretextRun: "pretext", SemiRun: "semi"}[type(task)]


def dataclasses_by_name() -> dict[str, type]:
    """The dataclasses a task is made of, by class name: the tasks, the recipe, the augmentation, and the settings of
    every registered unit."""
    units = {cls.Settings for registry in (FIT_KINDS, PRETEXTS, SEMI_METHODS) for cls in registry.values()} - {Recipe}
    return {cls.__name__: cls for cls in (Fit, PretextRun, SemiRun, Recipe, AugmentConfig, *units)}


def from_plain(value, classes: dict[str, type] | None = None):
    """The task (or settings) that `plain` described: the inverse of `plain` (lists of a dataclass become tuples)."""
    classes = classes or dataclasses_by_name()
    if isinstance(value, dict) and "__class__" in value:
        return classes[value["__class__"]](**{k: from_plain(v, classes) for k, v in value.items() if k != "__class__"})
    if isinstance(value, list):
        return tuple(from_plain(v, classes) for v in value)
    return value
