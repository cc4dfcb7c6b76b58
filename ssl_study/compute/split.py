"""The split of the images into labelled, unlabelled and test parts, its fingerprint, and the nested label subsets
every method trains on.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from ..config import SPLIT_PROPORTIONS


SPLIT_NAMES = ("labelled", "unlabelled", "test")


def make_split(labels: np.ndarray, seed: int,
               proportions: Sequence[float] = SPLIT_PROPORTIONS) -> dict[str, np.ndarray]:
    """Seeded, stratified split of ``range(len(labels))`` into disjoint labelled / unlabelled / test index arrays."""
    from sklearn.model_selection import train_test_split

    if len(proportions) != 3 or not np.isclose(sum(proportions), 1.0) or min(proportions) <= 0:
        raise ValueError(f"proportions must be three positive numbers summing to 1, got {proportions}")
    n = len(labels)
    n_labelled, n_unlabelled = round(proportions[0] * n), round(proportions[1] * n)
    index = np.arange(n)
    rest, test = train_test_split(index, test_size=n - n_labelled - n_unlabelled, stratify=labels, random_state=seed)
    labelled, unlabelled = train_test_split(rest, train_size=n_labelled, stratify=labels[rest], random_state=seed + 1)
    return {"labelled": np.sort(labelled), "unlabelled": np.sort(unlabelled), "test": np.sort(test)}


def split_fingerprint(split: dict[str, np.ndarray]) -> str:
    """sha256 of the split's index arrays."""
    digest = hashlib.sha256()
    for name in SPLIT_NAMES:
        digest.update(name.encode() + np.asarray(split[name], dtype=np.int64).tobytes())
    return digest.hexdigest()


def nested_subsets(labels: np.ndarray, sizes: Sequence[int], seed: int) -> list[np.ndarray]:
    """Nested, stratified, seeded subsets of ``range(len(labels))`` of the given sizes, drawn without replacement.

    Each class is shuffled and its members are spread evenly along one global order, so that every prefix of that
    order holds each class in proportion (within one image); subset k is the first ``sizes[k]`` of the order, hence
    the subsets are nested.
    """
    rng = np.random.default_rng(seed)
    position = np.empty(len(labels))
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        position[members] = (np.arange(len(members)) + rng.random()) / len(members)
    order = np.lexsort((rng.random(len(labels)), position))
    return [np.sort(order[:n]) for n in sizes]


def train_val_split(index: np.ndarray, labels: np.ndarray, val_fraction: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation split of a label subset (``labels`` are those of ``index``): the selection
    experiments' hold-out (``experiments/``). The study's own fits train on every label of a subset."""
    from sklearn.model_selection import train_test_split

    n_val = max(int(round(val_fraction * len(index))), len(np.unique(labels)))
    train, val = train_test_split(index, test_size=n_val, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(val)
