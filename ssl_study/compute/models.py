"""The models: the prescribed very simple CNN, its encoder (the CNN up to Flatten), the linear head of a probe, and
the augmenter that every pretext task and the supervised recipe use. Keras 3's backend-neutral API only (layers,
``keras.ops``, ``keras.random``), so the same code runs on TensorFlow or JAX."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import random
import threading
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..config import INPUT_SHAPE, N_CLASSES, AugmentConfig

# Keras is imported lazily inside the functions that need it, so that the data and split helpers (and their tests)
# load in a fraction of a second.


def import_keras():
    """Import Keras with the backend's C-level start-up banner (written to fd 2 before logging starts) silenced.

    Errors still raise as usual; only what the backend prints while loading is dropped.
    """
    import sys

    if "keras" in sys.modules:
        return _own_seeds(sys.modules["keras"])
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    # every fit builds a fresh model, so TensorFlow's "retracing" warnings say nothing here; errors still show
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return _own_seeds(keras)


class _ThreadSeeds(threading.local):
    """Where Keras draws the seed of every initialiser (and `SeedGenerator`) not given one: each thread's own
    generator, seeded by ``keras.utils.set_random_seed``. Keras draws them from Python's global `random`, which every
    thread of the process shares: on a Dask worker, the event loop draws from it too (``dask.sizeof`` samples the
    items of a task's result with ``random.sample``) while the next task builds its model, so a fit's initial weights
    depended on timing. A thread alone draws the same seeds as before."""

    def __init__(self) -> None:
        """An unseeded generator (seeded from the system, as Python's global `random` is at start-up)."""
        self.generator = random.Random()

    def seed(self, seed) -> None:
        """Seed Python's global `random` (as ``keras.utils.set_random_seed`` did) and this thread's generator."""
        random.seed(seed)  # as ``keras.utils.set_random_seed`` did
        self.generator = random.Random(seed)

    def randint(self, a: int, b: int) -> int:
        """A random integer in [a, b] from this thread's generator."""
        return self.generator.randint(a, b)


def _own_seeds(keras):
    """Make Keras draw its default seeds from `_ThreadSeeds` (once per process); returns ``keras``."""
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    if not isinstance(seed_generator.python_random, _ThreadSeeds):
        seed_generator.python_random = rng_utils.random = _ThreadSeeds()
    return keras


def build_encoder(name: str = "encoder"):
    """The CNN up to Flatten: Conv2D(64, 3x3, stride 2) -> MaxPool 2x2 -> Conv2D(32, 3x3) -> MaxPool 2x2 -> Flatten.

    Output: 288 features (3 x 3 x 32).
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE, name="image"),
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(32, 3, strides=1, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
        ],
        name=name,
    )


def build_classifier(encoder=None, name: str = "cnn"):
    """The prescribed CNN: `build_encoder` followed by Dense(10, softmax); 21,994 parameters."""
    import keras
    from keras import layers

    encoder = encoder if encoder is not None else build_encoder()
    return keras.Sequential(
        [keras.Input(INPUT_SHAPE, name="image"), encoder,
         layers.Dense(N_CLASSES, activation="softmax", name="softmax")],
        name=name,
    )


def build_linear_head(n_features: int = 288, name: str = "linear_probe"):
    """A linear classifier on encoder features: the Dense(10, softmax) of `build_classifier`, alone."""
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((n_features,), name="features"),
                             layers.Dense(N_CLASSES, activation="softmax", name="softmax")], name=name)


def encode(encoder, images: np.ndarray) -> np.ndarray:
    """The encoder's 288 features of every image (inference mode, large batches)."""
    return encoder.predict(images, batch_size=2048, verbose=0)


def architecture_fingerprint(model) -> str:
    """sha256 of a model's layer types, configurations (names and seeds aside) and weight shapes."""
    parts = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items() if k not in ("name", "seed")}
        parts.append([type(layer).__name__, config, [list(w.shape) for w in layer.weights]])
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def layer_table(model) -> pd.DataFrame:
    """One row per layer (nested models expanded): name, type, output shape, parameters."""
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            rows += layer_table(layer).assign(parent=layer.name).to_dict("records")
        else:
            rows.append({"layer": layer.name, "type": type(layer).__name__,
                         "output": tuple(layer.output.shape[1:]), "params": layer.count_params()})
    table = pd.DataFrame(rows)
    return table.fillna({"parent": ""}) if "parent" in table else table


# The augmenter: one layer that draws random views of a batch of images, on the device


def build_augmenter(cfg: AugmentConfig = AugmentConfig(), seed: int | None = None, always: bool = False,
                    name: str = "augment"):
    """One Keras layer that augments a whole batch on the device (`RandomViews`): in training only, or ``always``.

    Rotation, zoom, shift and flip are composed into **one** affine transform per image and applied in a single
    ``keras.ops.image.affine_transform`` call; blur is a per-image blend with one fixed Gaussian convolution; erasing
    is a broadcast mask. So a batch costs a handful of backend ops, however many augmentations are switched on.
    """
    return _random_views_class()(cfg, seed=seed, always=always, name=name)


def _blur_kernel(sigma: float = 1.2) -> np.ndarray:
    """The 5 x 5 Gaussian kernel of the strongest blur (weaker ones are blends of the image and this one), shaped
    for ``keras.ops.conv``."""
    g = np.exp(-0.5 * (np.arange(5) - 2) ** 2 / sigma**2)
    return (np.outer(g, g) / np.outer(g, g).sum()).astype("float32")[:, :, None, None]


def _affine(layer, x, n, c: AugmentConfig):
    """Rotation, zoom, flip and shift of every image of ``x`` as one affine transform each (drawn with
    ``layer.uniform``): input point = A (output point - centre) + centre - shift, A = rotation . zoom . flip."""
    from keras import ops

    h, w = INPUT_SHAPE[0], INPUT_SHAPE[1]
    angle = layer.uniform(n, -c.rotation, c.rotation) * 2 * np.pi
    scale = 1.0 / layer.uniform(n, 1 - c.zoom, 1 + c.zoom)
    flip = ops.where(layer.uniform(n) < c.flip_probability, -1.0, 1.0)
    tx = layer.uniform(n, -c.translation, c.translation) * w
    ty = layer.uniform(n, -c.translation, c.translation) * h
    cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
    a0, a1, b0, b1 = cos * flip, -sin, sin * flip, cos
    cx, cy = (w - 1) / 2, (h - 1) / 2
    zeros = ops.zeros_like(a0)
    transform = ops.stack([a0, a1, cx - a0 * cx - a1 * cy - tx, b0, b1, cy - b0 * cx - b1 * cy - ty,
                           zeros, zeros], axis=1)
    return ops.image.affine_transform(x, transform, interpolation="bilinear", fill_mode="constant")


def _blur(layer, x, n, c: AugmentConfig):
    """Each image blended with its blurred self (``layer.blur_kernel``), with probability ``c.blur_probability``, by
    a random weight."""
    from keras import ops

    blurred = ops.conv(x, ops.convert_to_tensor(layer.blur_kernel), padding="same")
    weight = layer.uniform(n) * ops.cast(layer.uniform(n) < c.blur_probability, "float32")
    weight = ops.reshape(weight, (-1, 1, 1, 1))
    return x + weight * (blurred - x)


def _erase(layer, x, n, c: AugmentConfig):
    """A random square of each image set to 0, with probability ``c.erase_probability``."""
    from keras import ops

    h, w = INPUT_SHAPE[0], INPUT_SHAPE[1]
    half = ops.reshape(ops.sqrt(layer.uniform(n, 0.02, 0.15)) * h / 2, (-1, 1, 1, 1))  # half a side
    centre_y = ops.reshape(layer.uniform(n, 0, h), (-1, 1, 1, 1))
    centre_x = ops.reshape(layer.uniform(n, 0, w), (-1, 1, 1, 1))
    rows = ops.reshape(ops.arange(h, dtype="float32"), (1, h, 1, 1))
    cols = ops.reshape(ops.arange(w, dtype="float32"), (1, 1, w, 1))
    square = ops.logical_and(ops.abs(rows - centre_y) < half, ops.abs(cols - centre_x) < half)
    erase = ops.reshape(layer.uniform(n) < c.erase_probability, (-1, 1, 1, 1))
    return ops.where(ops.logical_and(square, erase), 0.0, x)


@functools.cache
def _random_views_class() -> type:
    """The `RandomViews` layer class (made on first use, so that importing helpers does not import Keras)."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="ssl_study")
    class RandomViews(keras.layers.Layer):
        """Random affine (rotation, zoom, shift, flip), blur, erasing and noise of 28 x 28 x 1 images."""

        def __init__(self, cfg: AugmentConfig | dict = AugmentConfig(), seed: int | None = None, always: bool = False,
                     **kwargs):
            """The augmentations ``cfg``, drawn from ``seed``; applied in training only, or ``always``."""
            super().__init__(**kwargs)
            self.cfg = cfg if isinstance(cfg, AugmentConfig) else AugmentConfig(**cfg)
            self.seed, self.always = seed, always
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.blur_kernel = _blur_kernel()

        def uniform(self, n, low: float = 0.0, high: float = 1.0):
            """``n`` uniform draws in [low, high) from the layer's seed generator."""
            return keras.random.uniform((n,), low, high, seed=self.seed_generator)

        def call(self, x, training=None):
            """A random view of every image of the batch ``x`` (in training, or ``always``; else ``x`` itself)."""
            if not (training or self.always):
                return x
            c = self.cfg
            n = ops.shape(x)[0]
            x = _affine(self, x, n, c)
            if c.blur_probability > 0:
                x = _blur(self, x, n, c)
            if c.erase_probability > 0:
                x = _erase(self, x, n, c)
            if c.noise_stddev > 0:
                x = x + keras.random.normal(ops.shape(x), stddev=c.noise_stddev, seed=self.seed_generator)
            return x

        def compute_output_shape(self, input_shape):
            """The shape of the input: a view is an image of the same size."""
            return input_shape

        def get_config(self) -> dict:
            """The layer's configuration, for saving: the augmentations, the seed and ``always``."""
            return {**super().get_config(), "cfg": asdict(self.cfg), "seed": self.seed, "always": self.always}

    return RandomViews


def weights_fingerprint(weights: list) -> str:
    """sha256 of a list of weight arrays (shapes and values): checks that a saved encoder is the one its side-car names;
    never part of a key (its last bits depend on the processor that computed the weights)."""
    digest = hashlib.sha256()
    for array in weights:
        array = np.ascontiguousarray(array, dtype="float32")
        digest.update(str(array.shape).encode() + array.tobytes())
    return digest.hexdigest()


def rescaled_like(weights: list, reference: list) -> list:
    """The weight-scale control of issue 29 (ANALYSIS_PLAN_ADDENDUM.md, section 3): each kernel of ``weights`` (an
    untrained encoder's) rescaled to the Frobenius norm of the same kernel in ``reference`` (a pre-trained encoder's of
    the same seed), its direction kept; the biases kept as they are (an untrained encoder's are zero). The result has
    the pre-trained weights' scale and none of their learned directions."""
    scaled = []
    for array, like in zip(weights, reference, strict=True):
        array = np.asarray(array, dtype="float32")
        norm = float(np.linalg.norm(array))
        kernel = array.ndim > 1 and norm > 0
        scaled.append(array * np.float32(np.linalg.norm(like) / norm) if kernel else array.copy())
    return scaled
