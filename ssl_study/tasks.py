"""What a task is: one fit, pretext run or semi-supervised run, as a frozen dataclass that holds everything its result
depends on (the data's and the split's fingerprints, the identity of the encoder it starts from, method, label
amount, seed, settings), and the plan of a method's fits.

A task's key is made from these fields (`ssl_study.keys`); it is computed by `ssl_study.workers` and run, cached and
parallelised by `ssl_study.executor`. An encoder is named by its identity (`ssl_study.keys`: the key of the task that
made it), never by a hash of its weights, whose last bits depend on the processor that computed them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Profile, Recipe
from .methods import method_id
from .pretexts import PretextSettings
from .training import epochs_for

#: fits on frozen features (scikit-learn, no epochs), as opposed to the CNN's fits (``supervised``, ``probe``,
#: ``finetune``)
FROZEN_KINDS = ("knn", "logistic")


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
    data: str  #: fingerprint of the decoded MNIST images
    split: str  #: fingerprint of the split
    pretext: str | None = None
    encoder: str | None = None

    @property
    def encoder_name(self) -> str:
        """Where the CNN starts from (`ssl_study.methods`): ``none`` for the supervised fit, else ``pretext``."""
        return "none" if self.kind == "supervised" else self.pretext

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
    """One semi-supervised run (`ssl_study.semi`): method ``kind`` (``pseudolabel`` or ``fixmatch``) with
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
    settings: object
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


def plan_fits(kind: str, profile: Profile, n_labelled: int, data_fp: str, split_fp: str, recipe: Recipe = Recipe(),
              pretext: str | None = None, encoders: dict[int, str] | None = None,
              amounts: tuple[str, ...] | None = None, seeds: tuple[int, ...] | None = None) -> list[Fit]:
    """The fits of one method (``kind`` from the encoder of ``pretext``; ``supervised``: none) at every label amount
    (or those named in ``amounts``) under the seeds the profile's design asks for there (`Profile.seeds_of`), or under
    ``seeds`` where given (notebook 4's sweep); ``encoders``: seed -> identity of that seed's encoder, for every kind
    but ``supervised``."""
    fits = []
    encoder = "none" if kind == "supervised" else pretext
    for amount, n in profile.amounts(n_labelled):
        if amounts is not None and amount not in amounts:
            continue
        epochs = 0 if kind in FROZEN_KINDS else epochs_for(n, profile, recipe)[1]
        for seed in seeds if seeds is not None else profile.seeds_of(encoder, kind, amount):
            fits.append(Fit(kind, amount, n, seed, epochs, profile.batch_size, recipe, data_fp, split_fp, pretext,
                            encoders[seed] if encoders else None))
    return sorted(fits, key=lambda fit: (fit.seed, fit.n_labels))


def kind_of(task) -> str:
    """The kind of a task, as the cache and the keys name it: ``fit``, ``pretext`` or ``semi``."""
    return {Fit: "fit", PretextRun: "pretext", SemiRun: "semi"}[type(task)]
