"""The micro-benchmarks of training that `benchmark.py` runs by default (1-3 of its docstring): supervised images/s
through the project's path against bare ``model.fit`` calls, the Siamese pretext's pairs/s against a straightforward
Keras implementation, and the bottleneck (the CNN's arithmetic per image against this machine's matrix-multiply rate).
"""

from __future__ import annotations

import math
import os
import platform
import resource
import time
from typing import Callable

import numpy as np

from ssl_study.compute.data import load_mnist, to_model_input
from ssl_study.compute.models import build_classifier, build_encoder, import_keras
from ssl_study.compute.pretexts import get_pretext, pretrain
from ssl_study.compute.training import train_supervised
from ssl_study.config import Recipe, STEPS_PER_EXECUTION
from ssl_study.study.design import training_budget
from ssl_study.study.profiles import PROFILES, get_profile
from ssl_study.study.inputs import load_split

keras = import_keras()
BATCH = 128  #: the batch of every supervised fit (the profiles' ``batch_size``)
HELD_OUT = 256  #: unlabelled images the project's pretext scores after each epoch, as in notebook 4


def machine() -> str:
    """This machine, in words."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def labelled_and_unlabelled(images: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full split's labelled images and labels, and its unlabelled images, as model inputs (with ``images``, the
    first that many of each)."""
    mnist = load_mnist(verbose=False)
    split = load_split(get_profile("full"), mnist)
    labelled, unlabelled = split["labelled"][:images], split["unlabelled"][:images]
    x = to_model_input(mnist.images)
    return x[labelled], mnist.labels[labelled].astype("int32"), x[unlabelled]


def epoch_set(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images one epoch of `fit_classifier` goes through: ``x`` itself, or repeated where it holds fewer
    than the recipe's ``min_epoch_images``."""
    repeats = math.ceil(Recipe().min_epoch_images / len(x))
    return (np.concatenate([x] * repeats), np.concatenate([y] * repeats)) if repeats > 1 else (x, y)


def project_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Images/s of one supervised fit through the project's path (`train_supervised`: the CNN built under seed
    0, then `fit_classifier` on every image given: augmentation, cosine schedule, ``steps_per_execution``);
    the fit alone is timed."""
    _, fit = train_supervised(x, y, epochs, BATCH, seed=0)
    return len(epoch_set(x, y)[0]) * fit["epochs"] / fit["seconds"]


def bare_fit(x: np.ndarray, y: np.ndarray, epochs: int, steps_per_execution: int = 1) -> float:
    """Images/s of a bare ``model.fit`` on in-memory arrays: same model, batch and images per epoch, no augmentation,
    constant learning rate."""
    x, y = epoch_set(x, y)
    model = build_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    return len(x) * epochs / (time.perf_counter() - start)


def held_out(n: int) -> int:
    """How many of ``n`` unlabelled images the project's pretext holds out for its score: `HELD_OUT`, fewer (a
    quarter) in a smoke run on few images."""
    return min(HELD_OUT, n // 4)


def project_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of the project's pretext training (`pretrain` of the Siamese task: pairs made and augmented in
    the model; a batch of B images is 2B pairs). The held-out images are scored after each epoch, as in notebook 4."""
    keras.utils.set_random_seed(0)
    n_val = held_out(len(x))
    run = pretrain(get_pretext("siamese"), build_encoder(), x[n_val:], x[:n_val], 0, epochs)
    return 2 * (len(x) - n_val) * epochs / run["seconds"]


def straightforward_pretext(x: np.ndarray, epochs: int) -> float:
    """Pairs/s of a straightforward Siamese pretext: augmentation layers in a two-input model, batch 128."""
    from keras import layers

    keras.utils.set_random_seed(0)
    augment = keras.Sequential([
        layers.RandomFlip("horizontal"), layers.RandomRotation(0.08), layers.RandomZoom(0.15),
        layers.RandomTranslation(0.12, 0.12), layers.RandomGaussianBlur(factor=1.0, sigma=(0.1, 1.2),
                                                                         value_range=(0, 1)),
        layers.GaussianNoise(0.08),
    ])
    encoder = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(),
    ])
    a, b = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    ea, eb = encoder(augment(a)), encoder(augment(b))
    d = layers.Lambda(lambda t: keras.ops.abs(t[0] - t[1]))([ea, eb])
    model = keras.Model([a, b], layers.Dense(1, activation="sigmoid")(layers.Dense(64, activation="relu")(d)))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):  # fresh pairs every epoch, materialised as arrays
        first = rng.integers(0, len(x), len(x))
        same = rng.random(len(x)) < 0.5
        second = np.where(same, first, (first + rng.integers(1, len(x), len(x))) % len(x))
        model.fit([x[first], x[second]], same.astype("float32"), batch_size=128, epochs=1, verbose=0)
    return len(x) * epochs / (time.perf_counter() - start)


def train_flops_per_image() -> float:
    """Floating-point operations of one training step per image: forward, plus twice the forward for the backward
    pass of every layer except the first convolution's input gradient (nothing upstream needs it)."""
    conv1 = 14 * 14 * 64 * 3 * 3 * 1  # multiply-adds of each layer's forward pass
    conv2 = 7 * 7 * 32 * 3 * 3 * 64
    dense = 288 * 10
    forward = 2 * (conv1 + conv2 + dense)
    return forward + 2 * 2 * (conv2 + dense) + 2 * conv1


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate through numpy (BLAS), best of ``repeats``."""
    a = np.random.default_rng(0).random((n, n), dtype="float32")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def profile_fit(x: np.ndarray, y: np.ndarray, epochs: int) -> dict:
    """cProfile of one fit through the project's path: the share of its wall time spent inside the backend's compiled
    functions (TensorFlow's C++ runtime executing the training steps) rather than in Python."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    project_fit(x, y, epochs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    inside = sum(tt for (_, _, name), (_, _, tt, _, _) in stats.stats.items()
                 if "_pywrap_tfe" in name or "TFE_Py" in name)
    return {"seconds": stats.total_tt, "inside_compiled_steps": inside / stats.total_tt}


def full_profile_fits(images_per_s: float) -> dict:
    """What the full profile's supervised fits and Siamese fine-tunings (every label amount, more seeds at the primary
    amounts, as notebooks 2 and 5 plan them) cost at ``images_per_s``: fits, images they see, minutes."""
    profile = PROFILES["full"]
    budget = training_budget(profile, 28_000)
    seeds = budget["amount"].map(lambda amount: len(profile.seeds_of("none", "supervised", amount)))
    images = int(2 * (budget["images seen"] * seeds).sum())  # supervised + fine-tuned: the same plan
    return {"fits": int(2 * seeds.sum()), "images_seen": images, "minutes_at_bare_fit_rate": images / images_per_s / 60}


def device() -> str:
    """The accelerator Keras computes on, in words (``CPU`` when there is none)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return ", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus) or "CPU"
    if backend == "jax":
        import jax

        return ", ".join(d.device_kind for d in jax.devices())
    return backend


def interleaved(*functions: Callable[[], float], repeats: int) -> list[list[float]]:
    """Run the ``functions`` in turn, ``repeats`` rounds (after one untimed warm-up of each); their runs."""
    for f in functions:
        f()
    runs: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for f, r in zip(functions, runs):
            r.append(f())
    return runs


def measure(x_lab: np.ndarray, y_lab: np.ndarray, x_unl: np.ndarray, epochs: int, repeats: int) -> dict:
    """The throughput and bottleneck measurements (1-3 of the module's docstring) on these images: medians of
    ``repeats`` runs of ``epochs`` epochs (the pretexts: one epoch)."""
    fit_project, fit_bare, fit_bare_steps = interleaved(
        lambda: project_fit(x_lab, y_lab, epochs), lambda: bare_fit(x_lab, y_lab, epochs),
        lambda: bare_fit(x_lab, y_lab, epochs, STEPS_PER_EXECUTION), repeats=repeats)
    pre_project, pre_plain = interleaved(lambda: project_pretext(x_unl, 1), lambda: straightforward_pretext(x_unl, 1),
                                         repeats=repeats)
    med = lambda runs: float(np.median(runs))  # noqa: E731
    return {
        "machine": machine(),
        "backend": keras.backend.backend(),
        "device": device(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "repeats": repeats,
        "epochs": epochs,
        "images": {"labelled": len(x_lab), "unlabelled": len(x_unl)},
        "supervised_images_per_s": {"project": med(fit_project), "bare_fit": med(fit_bare),
                                    "ratio": med(fit_project) / med(fit_bare),
                                    "bare_fit_steps_per_execution": med(fit_bare_steps),
                                    "ratio_to_that": med(fit_project) / med(fit_bare_steps),
                                    "runs": {"project": fit_project, "bare_fit": fit_bare,
                                             "bare_fit_steps_per_execution": fit_bare_steps}},
        "pretext_pairs_per_s": {"project": med(pre_project), "straightforward": med(pre_plain),
                                "ratio": med(pre_project) / med(pre_plain),
                                # views (encoder passes): 1 per pair in the project, 2 per pair in the reference
                                "views_per_s": {"project": med(pre_project), "straightforward": 2 * med(pre_plain)},
                                "views_ratio": med(pre_project) / (2 * med(pre_plain)),
                                "runs": {"project": pre_project, "straightforward": pre_plain}},
        "bottleneck": {"train_mflop_per_image": train_flops_per_image() / 1e6,
                       "bare_fit_gflops": med(fit_bare) * train_flops_per_image() / 1e9,
                       "matmul_gflops": matmul_gflops(),
                       "profile_of_project_fit": profile_fit(x_lab, y_lab, epochs) if keras.backend.backend()
                       == "tensorflow" else None,
                       "full_profile_fits": full_profile_fits(med(fit_bare))},
        "peak_memory_mb_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }

