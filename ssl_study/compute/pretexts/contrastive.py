"""Contrastive learning with the NT-Xent loss (SimCLR, Chen et al., ICML 2020): find the other view of each image
among every view in the batch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...config import INPUT_SHAPE, AugmentConfig
from ..models import build_augmenter, import_keras
from .base import Pretext, PretextSettings, register


@dataclass(frozen=True)
class ContrastiveSettings(PretextSettings):
    """Chosen on validation data (``experiments/results/pretexts_b.md``: temperature 0.1 of 0.1 / 0.2 / 0.5, by the
    probed-then-fine-tuned accuracy at 10 labels per class; the three were within one standard deviation)."""

    epochs: int = 32  #: the budget: 64 encoder passes per unlabelled image (two views)
    batch_size: int = 256  #: images per batch: 2 x 256 views, each with 510 negatives
    learning_rate: float = 6e-3  #: chosen at the budget's length of 6.7e-4 to 1.8e-2 (pretexts_budget.md)
    temperature: float = 0.1  #: of the cosine similarities
    augment: AugmentConfig = field(default_factory=AugmentConfig)  #: the Siamese task's views
    projection: tuple[int, ...] = (256, 128)  #: the projection head (thrown away after pre-training)


@register
class Contrastive(Pretext):
    """Two augmented views of each image through the encoder and a projection head; the NT-Xent loss asks each view
    to pick its partner out of the 2B - 1 other views of the batch by cosine similarity / temperature. The model
    outputs, for each view, the logits of its partner first and of the others after, so the target is 0 for every
    view and the monitor is the top-1 accuracy of finding the partner."""

    name = "contrastive"
    title = "Contrastive (NT-Xent)"
    label = "contrastive"
    colour = "#2ca02c"
    Settings = ContrastiveSettings
    version = 3  #: 2: the plan's budget of 64 encoder passes per unlabelled image (ANALYSIS_PLAN.md, section 3); 3: its
    #: learning rate chosen at that budget (experiments/results/pretexts_budget.md)
    loss = None  # set in __init__: cross-entropy from logits
    monitor = "sparse_categorical_accuracy"
    chance = None  # 1 / (2B - 1): depends on the batch
    views = 2

    def __init__(self, settings=None, **overrides):
        super().__init__(settings, **overrides)
        self.loss = import_keras().losses.SparseCategoricalCrossentropy(from_logits=True)

    def build(self, encoder, seed: int):
        s = self.settings
        return build_contrastive(encoder, s.augment, seed, s.projection, s.temperature)

    def targets(self, images: np.ndarray) -> np.ndarray:
        return np.zeros((len(images), 2), dtype="int32")

    def check_batches(self, n_images: int) -> None:
        if n_images % self.settings.batch_size == 1 or n_images < 2:
            raise ValueError(f"{n_images} images in batches of {self.settings.batch_size} leave a batch of one image, "
                             "which has no negative: drop an image or change the batch size")

    def examples(self, images: np.ndarray, seed: int) -> dict:
        keras = import_keras()
        augmenter = build_augmenter(self.settings.augment, seed=seed)
        keras.utils.set_random_seed(seed)
        a = keras.ops.convert_to_numpy(augmenter(images, training=True))
        b = keras.ops.convert_to_numpy(augmenter(images, training=True))
        views = np.clip(np.stack([a, b], axis=1).reshape(-1, *INPUT_SHAPE), 0, 1)
        return {"kind": "digits", "images": views, "ncols": 10,
                "titles": [f"image {i + 1}, view {v}" for i in range(len(images)) for v in "ab"]}


def nt_xent_logits(z_a, z_b, temperature: float):
    """NT-Xent logits of two batches of projections (B x d each, row i of both from image i).

    Returns (B, 2, 2B + 1): for view a of image i (row [i, 0]) the logit of its partner b_i **first**, then of every
    b_j and every a_j, with b_i (already first) and a_i (the view itself) masked to -1e9, so 2B - 1 candidates; and
    the same for view b (row [i, 1]). The logits are cosine similarities / ``temperature``; cross-entropy with target
    0 is the NT-Xent loss.
    """
    from keras import ops

    z_a = z_a / ops.maximum(ops.norm(z_a, axis=1, keepdims=True), 1e-8)
    z_b = z_b / ops.maximum(ops.norm(z_b, axis=1, keepdims=True), 1e-8)
    ab = ops.matmul(z_a, ops.transpose(z_b)) / temperature  # positives on the diagonal
    aa = ops.matmul(z_a, ops.transpose(z_a)) / temperature
    bb = ops.matmul(z_b, ops.transpose(z_b)) / temperature
    eye = ops.eye(ops.shape(ab)[0], dtype=ab.dtype)
    masked = -1e9 * eye
    positive = ops.expand_dims(ops.diagonal(ab), 1)
    row_a = ops.concatenate([positive, ab * (1 - eye) + masked, aa * (1 - eye) + masked], axis=1)
    ba = ops.transpose(ab)
    row_b = ops.concatenate([positive, ba * (1 - eye) + masked, bb * (1 - eye) + masked], axis=1)
    return ops.stack([row_a, row_b], axis=1)


def build_contrastive(encoder, augment: AugmentConfig = AugmentConfig(), seed: int | None = None,
                      projection: tuple[int, ...] = (256, 128), temperature: float = 0.2, name: str = "contrastive"):
    """The SimCLR network. Input: a batch of B images; output: the (B, 2, 2B + 1) logits of `nt_xent_logits`. Each image
    is augmented twice; both views go through the one encoder and the projection head (ReLU between its layers,
    linear output). The augmentation stays active at evaluation too."""
    keras = import_keras()
    from keras import layers

    augmenter = build_augmenter(augment, seed=seed, always=True)
    images = keras.Input(INPUT_SHAPE, name="image")
    layers_ = [layers.Dense(u, activation="relu") for u in projection[:-1]] + [layers.Dense(projection[-1])]
    head = keras.Sequential([keras.Input((encoder.output_shape[-1],)), *layers_], name="projection")
    z_a, z_b = head(encoder(augmenter(images))), head(encoder(augmenter(images)))
    logits = layers.Lambda(lambda t: nt_xent_logits(t[0], t[1], temperature), output_shape=(2, None),
                           name="nt_xent_logits")([z_a, z_b])  # 2B + 1 logits per view: the batch decides
    return keras.Model(images, logits, name=name)
