"""The assignment's pretext task: a Siamese network says whether two augmented views come from the same image."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...config import INPUT_SHAPE, AugmentConfig
from ..models import build_augmenter, import_keras
from .base import Pretext, PretextSettings, register


@dataclass(frozen=True)
class SiameseSettings(PretextSettings):
    """Chosen on validation data: no flips (experiments/results/pretext.md); the length is the budget's, 64 encoder
    passes per unlabelled image (ANALYSIS_PLAN.md, section 3), and the learning rate was chosen at that length
    (experiments/results/siamese_lr.md)."""

    epochs: int = 32
    learning_rate: float = 3e-3
    augment: AugmentConfig = field(default_factory=AugmentConfig)  #: rotation, zoom, shift, blur, erasing, noise
    head_units: int = 64


@register
class Siamese(Pretext):
    """Two views of each image in a batch, both through the one shared encoder; a small head on |e_a - e_b| scores a
    positive pair (two views of image i, target 1) and a negative pair (view a of image i with view b of image i-1 of
    the shuffled batch, target 0)."""

    name = "siamese"
    title = "Siamese (same image?)"
    label = "Siamese"
    colour = "#1f77b4"
    Settings = SiameseSettings
    version = 2  #: 2: the plan's budget of 64 encoder passes per unlabelled image (ANALYSIS_PLAN.md, section 3)
    loss = "binary_crossentropy"
    monitor = "binary_accuracy"
    chance = 0.5
    views = 2

    def build(self, encoder, seed: int):
        return build_siamese(encoder, self.settings.augment, seed, self.settings.head_units)

    def targets(self, images: np.ndarray) -> np.ndarray:
        return pretext_targets(len(images))

    def check_batches(self, n_images: int) -> None:
        check_pretext_batches(n_images, self.settings.batch_size)

    def examples(self, images: np.ndarray, seed: int) -> dict:
        augmenter = build_augmenter(self.settings.augment, seed=seed)
        a, b, target = example_pairs(images, augmenter, seed)
        return {"kind": "pairs", "a": a, "b": b, "target": target}

    def analyse(self, model, images: np.ndarray, labels: np.ndarray) -> dict:
        """Error rates of the trained network on positive pairs and on negative pairs split by whether the two images
        show the same digit (labels read for this analysis only): a task that only learns "same digit?" would fail
        on the same-digit negatives."""
        keras = import_keras()
        keras.utils.set_random_seed(0)
        same, different = model.predict(images, batch_size=len(images), verbose=0).T  # one batch: partner i - 1
        same_digit = labels == np.roll(labels, 1)
        return {"pair errors": {"positive pairs": float(np.mean(same < 0.5)),
                                "negative pairs, same digit": float(np.mean(different[same_digit] >= 0.5)),
                                "negative pairs, different digits": float(np.mean(different[~same_digit] >= 0.5))},
                "same-digit negatives": int(same_digit.sum())}


def pretext_targets(n_images: int) -> np.ndarray:
    """Targets of `build_siamese` for ``n_images`` images: ``[1, 0]`` per image (its positive and its negative pair)."""
    return np.tile(np.array([[1.0, 0.0]], dtype="float32"), (n_images, 1))


def build_siamese(encoder, augment: AugmentConfig = AugmentConfig(), seed: int | None = None, head_units: int = 64,
                  name: str = "siamese"):
    """The Siamese pretext network. Input: a batch of B images; output: B x 2 probabilities of "same image".

    Each image is augmented twice, independently (views ``a`` and ``b``), and both views go through the **one**
    shared encoder. The head compares features through |e_a - e_b|: column 0 scores the positive pair (two views of
    image i, target 1), column 1 a negative pair (view ``a`` of image i with view ``b`` of image i-1 in the shuffled
    batch, target 0). So B images give B positive and B negative pairs, balanced, drawn afresh every batch, all on
    the device; every encoded view serves in two pairs. A batch must hold at least two images (a batch of one would
    pair an image with itself as a "negative"): see `check_pretext_batches`. The augmentation (``augment``, seeded
    with ``seed``) stays active at evaluation too, so the held-out accuracy is measured on random pairs of held-out
    images.
    """
    keras = import_keras()
    from keras import layers, ops

    augmenter = build_augmenter(augment, seed=seed, always=True)
    images = keras.Input(INPUT_SHAPE, name="image")
    view_a, view_b = augmenter(images), augmenter(images)
    e_a, e_b = encoder(view_a), encoder(view_b)
    e_other = layers.Lambda(lambda t: ops.roll(t, 1, axis=0), name="previous_image")(e_b)
    distance = layers.Lambda(lambda t: ops.abs(t[0] - t[1]), name="abs_diff")
    head = keras.Sequential([keras.Input((encoder.output_shape[-1],)), layers.Dense(head_units, activation="relu"),
                             layers.Dense(1, activation="sigmoid")], name="head")
    same = head(distance([e_a, e_b]))
    different = head(distance([e_a, e_other]))
    return keras.Model(images, layers.Concatenate(name="same_image")([same, different]), name=name)


def check_pretext_batches(n_images: int, batch_size: int) -> None:
    """Refuse a pretext set whose last batch would hold a single image (its negative pair would be itself)."""
    if n_images % batch_size == 1 or n_images < 2:
        raise ValueError(f"{n_images} images in batches of {batch_size} leave a batch of one image: "
                         "drop an image or change the batch size")


def example_pairs(images: np.ndarray, augmenter, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs `build_siamese` makes from ``images`` (for figures): views ``a``, ``b`` and targets, positives and
    negatives interleaved."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    a = keras.ops.convert_to_numpy(augmenter(images, training=True))
    b = keras.ops.convert_to_numpy(augmenter(images, training=True))
    first = np.stack([a, a], axis=1).reshape(-1, *INPUT_SHAPE)
    second = np.stack([b, np.roll(b, 1, axis=0)], axis=1).reshape(-1, *INPUT_SHAPE)
    return np.clip(first, 0, 1), np.clip(second, 0, 1), pretext_targets(len(images)).reshape(-1)
