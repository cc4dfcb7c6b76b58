"""What every notebook after the first starts from: the data and notebook 1's split (saved, checked against each
other), and the encoders notebooks 3 and 4 save (their files, side-cars and identities).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..compute.artefacts import ArtefactError, atomic_write, meta_path, read_meta, write_meta
from ..compute.data import Mnist, load_mnist, to_model_input
from ..compute.models import architecture_fingerprint, build_encoder, weights_fingerprint
from ..compute.split import SPLIT_NAMES, split_fingerprint
from ..config import NOTEBOOK_ENCODER, NOTEBOOK_PRETEXT, NOTEBOOK_SPLIT
from . import keys
from .design import Profile


def save_split(split: dict[str, np.ndarray], profile: Profile, mnist: Mnist, seed: int,
               proportions: Sequence[float]) -> Path:
    """Save the split (``split.npz``, which also holds the data's fingerprint, so that every artefact made from the
    split changes lineage when the data changes) with a side-car: seed, proportions, sizes, data source."""
    path = profile.artefacts / "split.npz"
    arrays = {k: np.asarray(split[k], dtype=np.int32) for k in SPLIT_NAMES}
    atomic_write(path, lambda tmp: np.savez(tmp, data_fingerprint=np.array(mnist.fingerprint), **arrays))
    write_meta(path, NOTEBOOK_SPLIT, data_fingerprint=mnist.fingerprint, seed=seed, proportions=list(proportions),
               sizes={k: len(split[k]) for k in SPLIT_NAMES}, split_fingerprint=split_fingerprint(split),
               source=mnist.source)
    return path


def load_split(profile: Profile, mnist: Mnist) -> dict[str, np.ndarray]:
    """The split saved by 01_split, refused if it was made from other data."""
    path = profile.artefacts / "split.npz"
    read_meta(path, NOTEBOOK_SPLIT, data_fingerprint=mnist.fingerprint)
    with np.load(path) as z:
        return {k: z[k] for k in SPLIT_NAMES}


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
    it by: `ssl_study.study.keys`), its architecture and weights fingerprint (to refuse an edited file), and
    ``meta``."""
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


# ----------------------------------------------------------------------------------------------------------------------
# Pretext runs
# ----------------------------------------------------------------------------------------------------------------------


def initial_encoders(inputs: Inputs) -> dict[int, Path]:
    """The initial encoder of each seed (notebook 3), checked: seed -> file."""
    paths = {seed: encoder_weights(inputs.profile, "init", seed) for seed in inputs.profile.all_seeds}
    for seed, path in paths.items():
        check_encoder(path, NOTEBOOK_ENCODER)
    return paths
