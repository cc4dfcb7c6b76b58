"""A (denoising) autoencoder: the encoder and a mirrored decoder reconstruct the clean image from a corrupted one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...config import INPUT_SHAPE, AugmentConfig
from ..models import build_augmenter, import_keras
from .base import Pretext, PretextSettings, register

#: the corruption of the denoising variant: Gaussian noise and a blanked square (no geometric change: the target is
#: the clean image in the same place)
DENOISING = AugmentConfig(rotation=0.0, zoom=0.0, translation=0.0, flip_probability=0.0, blur_probability=0.0,
                          noise_stddev=0.3, erase_probability=0.5)


@dataclass(frozen=True)
class AutoencoderSettings(PretextSettings):
    """Chosen on validation data (``experiments/results/pretexts_b.md``: the plain autoencoder over the denoising one
    (`DENOISING`), by the probed-then-fine-tuned accuracy at 10 labels per class; within one standard deviation)."""

    epochs: int = 64  #: the budget: 64 encoder passes per unlabelled image (one view)
    #: chosen at that length of 1.11e-4 to 3e-3 (experiments/results/pretexts_budget.md: all four within 0.31 points)
    learning_rate: float = 3.33e-4
    corrupt: AugmentConfig | None = None  #: None: a plain autoencoder; `DENOISING`: a denoising one


@register
class Autoencoder(Pretext):
    """The encoder's 288 features (3 x 3 x 32) are decoded back to 28 x 28 by transposed convolutions that mirror it;
    the target is the clean image (binary cross-entropy per pixel). With ``corrupt``, the input is a noisy,
    partly erased copy (a denoising autoencoder): the features must describe the digit, not copy the pixels."""

    name = "autoencoder"
    title = "Autoencoder (reconstruct the image)"
    label = "autoencoder"
    colour = "#9467bd"
    Settings = AutoencoderSettings
    version = 3  #: 2: the plan's budget of 64 encoder passes per unlabelled image (ANALYSIS_PLAN.md, section 3); 3: its
    #: learning rate chosen at that budget (experiments/results/pretexts_budget.md)
    loss = "binary_crossentropy"
    monitor = "mse"
    chance = None
    views = 1

    def build(self, encoder, seed: int):
        return build_autoencoder(encoder, self.settings.corrupt, seed)

    def targets(self, images: np.ndarray) -> np.ndarray:
        return images

    def examples(self, images: np.ndarray, seed: int) -> dict:
        keras = import_keras()
        keras.utils.set_random_seed(seed)
        noisy = (images if self.settings.corrupt is None else
                 keras.ops.convert_to_numpy(build_augmenter(self.settings.corrupt, seed=seed)(images, training=True)))
        pairs = np.clip(np.stack([noisy, images], axis=1).reshape(-1, *INPUT_SHAPE), 0, 1)
        return {"kind": "digits", "images": pairs, "titles": ["input", "target"] * len(images), "ncols": 10}

    def analyse(self, model, images: np.ndarray, labels: np.ndarray) -> dict:
        """Corrupted inputs and their reconstructions of eight images (for the figure of notebook 4), and the mean
        squared error per digit."""
        keras = import_keras()
        corrupt = model.get_layer("corrupt")
        keras.utils.set_random_seed(0)
        noisy = keras.ops.convert_to_numpy(corrupt(images[:8], training=True))
        restored = model.predict(images, batch_size=512, verbose=0)
        error = ((restored - images) ** 2).mean(axis=(1, 2, 3))
        return {"inputs": np.clip(noisy, 0, 1), "reconstructions": restored[:8], "targets": images[:8],
                "mse per digit": {int(d): float(error[labels == d].mean()) for d in np.unique(labels)}}


def build_decoder(n_features: int = 288, name: str = "decoder"):
    """288 features -> 3 x 3 x 32 -> 7 x 7 x 32 -> 14 x 14 x 32 -> 28 x 28 x 16 -> 28 x 28 x 1 (sigmoid): the encoder
    mirrored, lighter at full resolution (where a transposed convolution costs most)."""
    keras = import_keras()
    from keras import layers

    return keras.Sequential([
        keras.Input((n_features,)),
        layers.Reshape((3, 3, 32)),
        layers.Conv2DTranspose(32, 3, strides=2, padding="valid", activation="relu"),  # 3 -> 7
        layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),  # 7 -> 14
        layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),  # 14 -> 28
        layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
    ], name=name)


def build_autoencoder(encoder, corrupt: AugmentConfig | None = DENOISING, seed: int | None = None,
                      name: str = "autoencoder"):
    """Input: a batch of clean images; output: their reconstructions. With ``corrupt``, the input is first corrupted
    (always, at evaluation too: the held-out score is on corrupted inputs), the target stays the clean image."""
    keras = import_keras()
    from keras import layers

    images = keras.Input(INPUT_SHAPE, name="image")
    x = build_augmenter(corrupt, seed=seed, always=True, name="corrupt")(images) if corrupt else images
    if corrupt is None:
        x = layers.Identity(name="corrupt")(x)
    return keras.Model(images, build_decoder(encoder.output_shape[-1])(encoder(x)), name=name)
