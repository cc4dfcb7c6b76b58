"""Rotation prediction (RotNet, Gidaris et al., ICLR 2018): by which of 0, 90, 180, 270 degrees was an image turned?"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...config import INPUT_SHAPE, AugmentConfig
from ..models import build_augmenter, import_keras
from .base import Pretext, PretextSettings, register

#: a light augmentation before the rotation (shifts, zoom, small tilts), so that the task cannot be solved from a
#: digit's exact position; no flips (a flip and a rotation together can mimic another rotation)
ROTATION_AUGMENT = AugmentConfig(rotation=0.02, zoom=0.1, translation=0.1, flip_probability=0.0, blur_probability=0.0,
                                 noise_stddev=0.0, erase_probability=0.0)


@dataclass(frozen=True)
class RotationSettings(PretextSettings):
    """Chosen on validation data (``experiments/results/pretexts_a.md``: a light augmentation before the rotations
    rather than none, by the probed-then-fine-tuned accuracy at 10 labels per class)."""

    epochs: int = 16  #: the budget: 64 encoder passes per unlabelled image (four rotations)
    batch_size: int = 64  #: images per batch; each is seen in its four rotations, so 256 encoder inputs
    learning_rate: float = 9e-3  #: chosen at the budget's length of 3.3e-4 to 2.7e-2 (pretexts_budget.md)
    augment: AugmentConfig = field(default_factory=lambda: ROTATION_AUGMENT)
    head_units: int = 128  #: hidden units of the head (0: a linear head)


@register
class Rotation(Pretext):
    """Every image of a batch in all four rotations (0, 90, 180, 270 degrees), all through the encoder; a small head
    names the rotation of each. The targets are the same for every image, ``[0, 1, 2, 3]``: the model makes the four
    rotated copies itself, in that order. Ambiguous for digits that look alike when turned; `analyse` measures which."""

    name = "rotation"
    title = "Rotation (which way up?)"
    label = "rotation"
    colour = "#ff7f0e"
    Settings = RotationSettings
    version = 3  #: 2: the plan's budget of 64 encoder passes per unlabelled image (ANALYSIS_PLAN.md, section 3); 3: its
    #: learning rate chosen at that budget (experiments/results/pretexts_budget.md)
    loss = "sparse_categorical_crossentropy"
    monitor = "sparse_categorical_accuracy"
    chance = 0.25
    views = 4

    def build(self, encoder, seed: int):
        return build_rotation(encoder, self.settings.augment, seed, self.settings.head_units)

    def targets(self, images: np.ndarray) -> np.ndarray:
        return rotation_targets(len(images))

    def examples(self, images: np.ndarray, seed: int) -> dict:
        keras = import_keras()
        rotated = keras.ops.convert_to_numpy(rotate_all(keras.ops.convert_to_tensor(images[:4])))
        return {"kind": "digits", "images": rotated.reshape(-1, *INPUT_SHAPE),
                "titles": [f"{90 * k}°" for _ in range(4) for k in range(4)], "ncols": 8}

    def analyse(self, model, images: np.ndarray, labels: np.ndarray) -> dict:
        """Rotation accuracy per digit: for which digits the task is ambiguous (labels read for this only)."""
        predicted = np.argmax(model.predict(images, batch_size=512, verbose=0), axis=-1)
        correct = (predicted == rotation_targets(len(images))).mean(axis=1)
        return {"rotation accuracy per digit": {int(d): float(correct[labels == d].mean()) for d in np.unique(labels)}}


def rotation_targets(n_images: int) -> np.ndarray:
    """Targets of `build_rotation` for ``n_images`` images: ``[0, 1, 2, 3]`` (quarter turns) per image."""
    return np.tile(np.arange(4, dtype="int32"), (n_images, 1))


def rotate_all(x):
    """A batch (B, 28, 28, 1) -> (B, 4, 28, 28, 1): each image turned by 0, 1, 2 and 3 quarter turns anticlockwise."""
    from keras import ops

    def quarter(t):  # one quarter turn anticlockwise: transpose, then flip upside down
        return ops.flip(ops.transpose(t, (0, 2, 1, 3)), axis=1)

    turns = [x]
    for _ in range(3):
        turns.append(quarter(turns[-1]))
    return ops.stack(turns, axis=1)


def build_rotation(encoder, augment: AugmentConfig = ROTATION_AUGMENT, seed: int | None = None, head_units: int = 128,
                   name: str = "rotation"):
    """The rotation network. Input: a batch of B images; output: B x 4 x 4 probabilities, row k for the copy turned
    by k quarter turns. Each image is augmented once (``augment``), then turned four ways; the 4B copies go through
    the encoder and the head. The augmentation stays active at evaluation too (held-out scores on random views)."""
    keras = import_keras()
    from keras import layers, ops

    augmenter = build_augmenter(augment, seed=seed, always=True)
    images = keras.Input(INPUT_SHAPE, name="image")
    # output shapes given explicitly: JAX cannot infer them through a reshape of the batch axis
    turned = layers.Lambda(rotate_all, output_shape=(4, *INPUT_SHAPE), name="rotate_all")(augmenter(images))
    flat = layers.Lambda(lambda t: ops.reshape(t, (-1, *INPUT_SHAPE)), output_shape=INPUT_SHAPE, name="copies")(turned)
    hidden = [layers.Dense(head_units, activation="relu")] if head_units else []
    head = keras.Sequential([keras.Input((encoder.output_shape[-1],)), *hidden, layers.Dense(4, activation="softmax")],
                            name="head")
    scores = head(encoder(flat))
    per_image = layers.Lambda(lambda t: ops.reshape(t, (-1, 4, 4)), output_shape=(4, 4), name="per_image")(scores)
    return keras.Model(images, per_image, name=name)
