"""What a pretext task is (`Pretext`, its `PretextSettings`), its registry (`PRETEXTS`, `register`), the pretext
images and the k-NN monitor, and `pretrain`, which trains any of them; the package's ``__init__`` says how to add
one."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from ...config import choices
from ..models import import_keras


@dataclass(frozen=True)
class PretextSettings:
    """What every pretext task has; a task's own settings subclass this, with defaults chosen on validation data."""

    epochs: int = 8
    batch_size: int = 128  #: images per batch
    learning_rate: float = 1e-3  #: Adam
    val_fraction: float = 0.1  #: of the pretext images, held out to measure the task's own score


class Pretext:
    """One self-supervised task on the encoder. Subclasses set the class attributes and implement `build` and
    `targets`; `check_batches` and `examples` are optional."""

    name: ClassVar[str]  #: the registry key, and the prefix of the methods' names (``siamese_finetune``)
    title: ClassVar[str]  #: in prose and figure titles: what the task asks ("Siamese (same image?)")
    label: ClassVar[str | None] = None  #: the encoder's short name in tables and legends ("Siamese"; None: ``name``)
    colour: ClassVar[str | None] = None  #: the encoder's colour in every figure (None: one from a fixed palette)
    Settings: ClassVar[type[PretextSettings]] = PretextSettings
    loss: ClassVar[object] = "binary_crossentropy"
    monitor: ClassVar[str] = "binary_accuracy"  #: the metric of the training curves and the held-out score
    chance: ClassVar[float | None] = None  #: the monitor's value for a model that learned nothing, if it has one
    views: ClassVar[int] = 1  #: encoder passes per unlabelled image in a training step (for the compute budget)
    #: the version of what this unit computes: part of its pretext runs' cache keys; bump it when the code
    #: it reaches changes what a run computes (``tests/test_keys.py`` says when: `ssl_study.study.fingerprints`)
    version: ClassVar[int] = 1

    def __init__(self, settings: PretextSettings | None = None, **overrides):
        self.settings = replace(settings or self.Settings(), **overrides)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings})"

    def build(self, encoder, seed: int):
        """The Keras model trained on this task: it takes a batch of images and outputs what `targets` holds."""
        raise NotImplementedError

    def targets(self, images: np.ndarray) -> np.ndarray:
        """The targets of a batch of images (for tasks whose targets are made inside the model: a constant)."""
        raise NotImplementedError

    def check_batches(self, n_images: int) -> None:
        """Refuse a number of images the task cannot batch (a Siamese batch of one image has no negative pair)."""

    def examples(self, images: np.ndarray, seed: int) -> dict | None:
        """What the task learns from, for a few images, as plain data that the report draws by ``kind``
        (`ssl_study.report.views`): ``{"kind": "digits", "images", "titles", "ncols"}`` or ``{"kind": "pairs", "a",
        "b", "target"}``; None: nothing to show."""
        return None

    def analyse(self, model, images: np.ndarray, labels: np.ndarray) -> dict:
        """Task-specific diagnostics of the trained network ``model`` (from `build`) on labelled images, computed
        after training and kept with the run (labels are read for this analysis only, never for training)."""
        return {}


PRETEXTS: dict[str, type[Pretext]] = {}


def register(cls: type[Pretext]) -> type[Pretext]:
    """Class decorator: add a pretext task to `PRETEXTS` under its ``name``."""
    if not getattr(cls, "name", "").isidentifier() or cls.name in ("init", "supervised"):
        raise ValueError(f"a pretext needs a name that is an identifier other than init and supervised: {cls!r}")
    PRETEXTS[cls.name] = cls
    return cls


def get_pretext(name: str, **overrides) -> Pretext:
    """The registered pretext task ``name`` with its settings chosen for the dataset of the run (its defaults, chosen
    on MNIST, where `Choices.pretext_settings` says nothing else), or ``overrides`` of them."""
    if name not in PRETEXTS:
        raise KeyError(f"no pretext task {name!r}; registered: {sorted(PRETEXTS)}")
    return PRETEXTS[name](**{**choices().pretext_settings.get(name, {}), **overrides})


def pretext_indices(unlabelled: np.ndarray, n_images: int | None, val_fraction: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The pretext's training and held-out images: a seeded random order of the **unlabelled** indices (the first
    ``n_images``), of which the first ``val_fraction`` are held out."""
    pool = np.random.default_rng(seed).permutation(unlabelled)[:n_images]
    n_val = int(val_fraction * len(pool))
    return pool[n_val:], pool[:n_val]


MONITOR_IMAGES = 1000  #: labelled images in each half of the kNN monitor's slice (reference and query)


def monitor_slice(n_labelled: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions in the labelled set of the kNN monitor's reference and query images: a fixed random draw of
    2 x `MONITOR_IMAGES` (the same for every pretext and seed, so the curves are comparable); half the labelled set
    each where it is smaller."""
    n = min(MONITOR_IMAGES, n_labelled // 2)
    order = np.random.default_rng(seed).permutation(n_labelled)
    return order[:n], order[n:2 * n]


def knn_monitor(encoder, monitor: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], k: int = 5) -> float:
    """Accuracy of a cosine ``k``-nearest-neighbour classifier on the encoder's features: ``monitor`` is (reference
    images, their labels, query images, their labels), a fixed labelled slice used to watch pre-training only."""
    from sklearn.neighbors import KNeighborsClassifier

    from ..models import encode

    x_ref, y_ref, x_query, y_query = monitor
    knn = KNeighborsClassifier(k, metric="cosine", algorithm="brute").fit(encode(encoder, x_ref), y_ref)
    return float(knn.score(encode(encoder, x_query), y_query))


def pretrain(pretext: Pretext, encoder, x_train: np.ndarray, x_val: np.ndarray, seed: int,
             epochs: int | None = None, monitor: tuple | None = None) -> dict:
    """Train ``encoder`` in place on ``pretext`` (Adam with a cosine-decaying learning rate, the task's batch size and
    epochs unless ``epochs`` is given), scoring the task on the held-out images after every epoch.

    ``monitor`` (optional, see `knn_monitor`): a labelled slice on which the frozen encoder's 5-NN accuracy is measured
    before training and after every epoch (``history["knn"]``), to see whether the task keeps teaching features that
    tell digits apart. Labels are read for that measurement only. Returns the history, the held-out score of the last
    epoch, the kNN accuracy before training, the epochs, the seconds of training (the kNN measurements excluded) and
    the trained network (`Pretext.build`'s model, for `Pretext.analyse`)."""
    keras = import_keras()
    settings = pretext.settings
    epochs = epochs or settings.epochs
    pretext.check_batches(len(x_train))
    pretext.check_batches(len(x_val))
    keras.utils.set_random_seed(seed)
    model = pretext.build(encoder, seed)
    steps = epochs * int(np.ceil(len(x_train) / settings.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, decay_steps=steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule), pretext.loss, metrics=[pretext.monitor])
    callbacks, knn, spent = [], [], []
    if monitor is not None:
        class KnnMonitor(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                start = time.perf_counter()
                knn.append(knn_monitor(encoder, monitor))
                spent.append(time.perf_counter() - start)
        callbacks.append(KnnMonitor())
    knn_before = knn_monitor(encoder, monitor) if monitor is not None else None
    start = time.perf_counter()
    history = model.fit(x_train, pretext.targets(x_train), batch_size=settings.batch_size, epochs=epochs,
                        validation_data=(x_val, pretext.targets(x_val)), callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start - sum(spent)
    history = {**history.history, **({"knn": knn} if knn else {})}
    return {"history": history, "val_score": float(history[f"val_{pretext.monitor}"][-1]), "knn_before": knn_before,
            "epochs": epochs, "seconds": seconds, "images_seen": epochs * len(x_train) * pretext.views, "model": model}
