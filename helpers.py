"""Helpers for the study "does self-supervised pre-training help a very simple CNN when labels are scarce?".

Every notebook in ``notebooks/`` imports this module; nothing here depends on the working directory.
Sections: paths and profiles · artefacts · data · split · models · pretext · training · evaluation · plots.

The code uses Keras 3's backend-neutral API (layers, ``keras.ops``, ``keras.random``), so the same notebooks run
with ``KERAS_BACKEND=tensorflow`` (the default) or ``jax``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import re
import tarfile
import time
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

# Keras is imported lazily inside the functions that need it, so that the data and split helpers (and their tests)
# load in a fraction of a second.

# ======================================================================================================================
# Paths and profiles
# ======================================================================================================================

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
CACHE_DIR = DATA_DIR / "cache"
ARTEFACTS_DIR = ROOT / "artefacts"
FIGURES_DIR = ROOT / "figures"
NOTEBOOKS_DIR = ROOT / "notebooks"

DATA_ENV = "MNIST_PNG"  #: environment variable: path of the course's ``mnist_png`` folder or archive
PROFILE_ENV = "SSL_PROFILE"  #: environment variable: ``full`` (default, the committed run) or ``quick`` (CI)
DEFAULT_SOURCES = ("mnist_png", "mnist_png.tar.gz", "mnist_png.tgz", "mnist_png.tar", "mnist_png.zip")

NOTEBOOK_SPLIT = "01_split.ipynb"
NOTEBOOK_SUPERVISED = "02_supervised_baseline.ipynb"
NOTEBOOK_ENCODER = "03_encoder.ipynb"
NOTEBOOK_PRETEXT = "04_siamese_pretext.ipynb"
NOTEBOOK_FINETUNE = "05_finetune.ipynb"
NOTEBOOK_COMPARISON = "06_comparison.ipynb"


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the committed ``full`` run and the ``quick`` CI run.

    The split is the same in both profiles; only the amount of training differs.
    """

    name: str
    fractions: tuple[float, ...]  #: fractions of the labelled set to train on ...
    per_class: tuple[int, ...]  #: ... and amounts of k labels per class (k x 10 images), the low-label regime
    seeds: tuple[int, ...]  #: each seed draws its own subsets, initialisation, augmentation and pretext run
    epochs_at_full: int  #: passes over the label subset in one supervised fit; small subsets get more (`epochs_for`)
    min_fit_images: int  #: ... so that every fit sees at least this many images
    max_epochs: int  #: cap on the epochs of one supervised fit
    pretext_epochs: int  #: epochs of the Siamese pretext task
    pretext_images: int | None  #: unlabelled images used by the pretext task (None: all of them)
    batch_size: int = 128
    pretext_batch_size: int = 128  #: images per pretext batch, i.e. 256 pairs

    def amounts(self, n_labelled: int) -> list[tuple[str, int]]:
        """The label amounts as ``(name, number of images)``, smallest first: ``("10/class", 100)``, ``("1%", 280)``."""
        amounts = [(f"{k}/class", k * N_CLASSES) for k in self.per_class]
        amounts += [(f"{f:.0%}", int(round(f * n_labelled))) for f in self.fractions]
        return sorted(amounts, key=lambda a: a[1])

    @property
    def artefacts(self) -> Path:
        """Folder of this profile's artefacts (split, weights, histories, results)."""
        return ARTEFACTS_DIR / self.name

    @property
    def figures(self) -> Path:
        """Folder of this profile's figures: ``figures/`` for the full run, apart for any other profile."""
        return FIGURES_DIR if self.name == "full" else self.artefacts / "figures"


PROFILES: dict[str, Profile] = {
    "full": Profile(
        name="full",
        fractions=(0.01, 0.05) + tuple(round(0.1 * k, 1) for k in range(1, 11)),
        per_class=(10,),
        seeds=(0, 1, 2),
        epochs_at_full=20,  # chosen on validation data: experiments/results/recipe.md
        min_fit_images=80_000,
        max_epochs=40,
        pretext_epochs=8,
        pretext_images=None,
    ),
    "quick": Profile(
        name="quick",
        fractions=(0.1,),
        per_class=(10,),
        seeds=(0,),
        epochs_at_full=1,
        min_fit_images=0,
        max_epochs=1,
        pretext_epochs=1,
        pretext_images=2_000,
    ),
}


def import_keras():
    """Import Keras with the backend's C-level start-up banner (written to fd 2 before logging starts) silenced.

    Errors still raise as usual; only what the backend prints while loading is dropped.
    """
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"]
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
    return keras


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else the one named by ``$SSL_PROFILE``, else ``full``."""
    name = name or os.environ.get(PROFILE_ENV, "full")
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}: set {PROFILE_ENV} to one of {sorted(PROFILES)}.")
    profile = PROFILES[name]
    profile.artefacts.mkdir(parents=True, exist_ok=True)
    profile.figures.mkdir(parents=True, exist_ok=True)
    return profile


# ======================================================================================================================
# Artefacts: every file a notebook writes gets a JSON side-car that says what it was made from
# ======================================================================================================================


class ArtefactError(RuntimeError):
    """An artefact that a notebook needs is missing or was made from other inputs."""


def meta_path(path: Path) -> Path:
    """The JSON side-car of an artefact: ``encoder.weights.h5`` -> ``encoder.weights.h5.meta.json``."""
    return path.with_name(path.name + ".meta.json")


def write_meta(path: Path, **meta: object) -> dict:
    """Write the side-car of ``path`` (adds the file's own sha256) and return the metadata."""
    meta = {**meta, "sha256": file_sha256(path), "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    meta_path(path).write_text(json.dumps(meta, indent=2, default=_json_default))
    return meta


def read_meta(path: Path, notebook: str, **expected: object) -> dict:
    """Read the side-car of ``path``, refusing a missing, modified or stale artefact.

    ``expected`` holds metadata that must match (e.g. the split's fingerprint); the error names ``notebook``,
    the notebook that makes the artefact.
    """
    fix = f"run notebooks/{notebook} first (same profile)."
    if not path.exists() or not meta_path(path).exists():
        raise ArtefactError(f"{path.relative_to(ROOT)} is missing: {fix}")
    meta = json.loads(meta_path(path).read_text())
    if meta.get("sha256") != file_sha256(path):
        raise ArtefactError(f"{path.relative_to(ROOT)} was changed after notebooks/{notebook} wrote it: {fix}")
    for key, value in expected.items():
        if meta.get(key) != value:
            raise ArtefactError(
                f"{path.relative_to(ROOT)} is stale: its {key} is {meta.get(key)!r}, expected {value!r}; "
                f"re-{fix}"
            )
    return meta


def save_json(obj: object, path: Path, **meta: object) -> Path:
    """Write ``obj`` as JSON with a side-car of ``meta``."""
    path.write_text(json.dumps(obj, default=_json_default))
    write_meta(path, **meta)
    return path


def load_json(path: Path, notebook: str, **expected: object) -> object:
    """Read a JSON artefact written by `save_json`, refusing it if missing, modified or stale (see `read_meta`)."""
    read_meta(path, notebook, **expected)
    return json.loads(path.read_text())


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


# ======================================================================================================================
# Data: the course's MNIST PNGs, read from a folder or an archive, decoded once and cached
# ======================================================================================================================


class DataError(ValueError):
    """The course data is missing or malformed; the message names the file and the fix."""


@dataclass
class Mnist:
    """All 70,000 images pooled: ``images`` uint8 (n, 28, 28), ``labels`` uint8 (n,), ``origin`` 'training'/'testing'."""

    images: np.ndarray
    labels: np.ndarray
    origin: np.ndarray
    files: np.ndarray
    fingerprint: str  #: sha256 of the decoded images and labels: the same from a folder or an archive
    source: str

    def __len__(self) -> int:
        return len(self.labels)


WHERE_TO_PUT_DATA = (
    "Put the course's MNIST files at data/mnist_png/ (folders training/<digit>/*.png and testing/<digit>/*.png), "
    "or its archive at data/mnist_png.tar.gz or data/mnist_png.zip, or set the environment variable "
    f"{DATA_ENV} to the folder or archive. See data/README.md."
)
_MEMBER = re.compile(r"(?:^|/)(training|testing)/([^/]+)/([^/]+)$")


def find_source(source: str | Path | None = None) -> Path:
    """The data source: ``source``, else ``$MNIST_PNG``, else the first of `DEFAULT_SOURCES` under ``data/``."""
    if source is None and os.environ.get(DATA_ENV):
        source = os.environ[DATA_ENV]
    if source is not None:
        path = Path(source).expanduser()
        if not path.exists():
            raise DataError(f"No MNIST data at {path}. {WHERE_TO_PUT_DATA}")
        return path.resolve()
    for name in DEFAULT_SOURCES:
        if (DATA_DIR / name).exists():
            return DATA_DIR / name
    raise DataError(f"No MNIST data found under {DATA_DIR}. {WHERE_TO_PUT_DATA}")


def source_fingerprint(path: Path) -> str:
    """Cheap fingerprint of a source: an archive's bytes, or a folder's file names, sizes and modification times."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _check_member_name(name: str, source: Path) -> str:
    """Normalise an archive member's name, refusing one that would leave the archive's folder."""
    clean = name.replace("\\", "/")
    parts = clean.split("/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in parts:
        raise DataError(
            f"Archive {source} holds the member {name!r}, whose path leaves the archive's folder; refusing to read "
            "it. Re-pack the course files as mnist_png/{training,testing}/<digit>/*.png."
        )
    return "/".join(p for p in parts if p not in ("", "."))


def iter_source(path: Path) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``(relative path, bytes)`` of each file in a folder or archive, and ``(path, None)`` for folders."""
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            rel = file.relative_to(path).as_posix()
            yield (rel, None) if file.is_dir() else (rel, file.read_bytes())
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = _check_member_name(info.filename, path)
                yield (name, None) if info.is_dir() else (name, archive.read(info))
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive:
                name = _check_member_name(member.name, path)
                if member.isdir():
                    yield name, None
                elif member.isfile():
                    yield name, archive.extractfile(member).read()
                else:
                    raise DataError(f"Archive {path} holds {member.name!r}, which is a link or device, not a file.")
    else:
        raise DataError(f"{path} is neither a folder nor a .tar(.gz) or .zip archive. {WHERE_TO_PUT_DATA}")


def decode_png(data: bytes, name: str) -> np.ndarray:
    """Decode one MNIST PNG to a uint8 (28, 28) array.

    8-bit grayscale is used as it is; a palette, RGB or RGBA image is converted to grayscale (ITU-R 601 luma, as
    Pillow's ``convert("L")``); any other mode (16-bit, float) and any size but 28 x 28 are refused.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        fmt = image.format
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{name} is not a readable PNG ({err}); replace it with the course's original file.") from err
    if fmt != "PNG":
        raise DataError(f"{name} is a {fmt} image, not a PNG; the course files are PNGs.")
    if image.size != (28, 28):
        raise DataError(f"{name} is {image.size[0]}x{image.size[1]} pixels; MNIST images are 28x28. Refusing it.")
    if image.mode in ("1", "P", "RGB", "RGBA", "LA"):
        image = image.convert("L")
    elif image.mode != "L":
        raise DataError(f"{name} has pixel mode {image.mode!r}; only 8-bit grayscale or colour PNGs are accepted.")
    return np.asarray(image, dtype=np.uint8)


def read_source(path: Path) -> Mnist:
    """Decode every ``training|testing/<digit>/*.png`` of a source, validating the layout as it goes."""
    records: list[tuple[str, str, int, np.ndarray]] = []
    class_dirs: set[str] = set()
    for name, data in iter_source(path):
        parts = name.split("/")
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue  # hidden files and macOS resource forks
        if data is None:
            if len(parts) >= 2 and parts[-2] in ("training", "testing"):
                class_dirs.add(name)
            continue
        match = _MEMBER.search(name)
        if match is None:
            continue  # files outside training/ and testing/ (a README, say) are not data
        subset, label, filename = match.groups()
        class_dirs.add(name.rsplit("/", 1)[0])
        where = f"{path}::{name}" if path.is_file() else str(path / name)
        if not re.fullmatch(r"[0-9]", label):
            raise DataError(f"{where}: class folder {label!r} is not a digit 0-9; move the file into its digit folder.")
        if not filename.lower().endswith(".png"):
            raise DataError(f"{where} is not a .png file; remove it from the class folder.")
        records.append((f"{subset}/{label}/{filename}", subset, int(label), decode_png(data, where)))
    if not records:
        raise DataError(f"No PNG images found in {path}. {WHERE_TO_PUT_DATA}")
    counts = Counter(key.rsplit("/", 1)[0] for key, *_ in records)
    for folder in sorted(class_dirs):
        tail = "/".join(folder.split("/")[-2:])
        if re.fullmatch(r"(training|testing)/[0-9]", tail) and counts[tail] == 0:
            raise DataError(f"Class folder {path}/{folder} holds no PNG images; restore its files from the course data.")
    missing = sorted(set(range(10)) - {label for _, _, label, _ in records})
    if missing:
        raise DataError(f"{path} holds no images of digit(s) {missing}; restore them from the course data.")
    records.sort(key=lambda r: _natural_key(r[0]))
    images = np.stack([r[3] for r in records])
    labels = np.array([r[2] for r in records], dtype=np.uint8)
    return Mnist(
        images=images,
        labels=labels,
        origin=np.array([r[1] for r in records]),
        files=np.array([r[0] for r in records]),
        fingerprint=data_fingerprint(images, labels),
        source=str(path),
    )


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


def data_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of decoded images and labels (in their canonical order)."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def load_mnist(source: str | Path | None = None, cache_dir: Path = CACHE_DIR, verbose: bool = True) -> Mnist:
    """All MNIST images of the course's PNG tree, decoded once and cached in ``data/cache``.

    The cache is keyed by the source's fingerprint, so a changed source is decoded again.
    """
    path = find_source(source)
    cache = cache_dir / f"mnist-{source_fingerprint(path)[:20]}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            mnist = Mnist(
                images=z["images"], labels=z["labels"], origin=z["origin"], files=z["files"],
                fingerprint=str(z["fingerprint"]), source=str(path),
            )
        if data_fingerprint(mnist.images, mnist.labels) == mnist.fingerprint:
            if verbose:
                print(f"Loaded {len(mnist):,} images from the cache {cache.relative_to(ROOT) if cache.is_relative_to(ROOT) else cache}")
            return mnist
    start = time.perf_counter()
    mnist = read_source(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, images=mnist.images, labels=mnist.labels, origin=mnist.origin, files=mnist.files,
             fingerprint=np.array(mnist.fingerprint))
    tmp.replace(cache)
    if verbose:
        print(f"Decoded {len(mnist):,} PNGs from {path} in {time.perf_counter() - start:.1f} s; cached in {cache}")
    return mnist


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1], the models' input."""
    return (images.astype("float32") / 255.0)[..., None]


# ======================================================================================================================
# Split: labelled 40 % / unlabelled 40 % / test 20 %, and nested label subsets
# ======================================================================================================================

SPLIT_NAMES = ("labelled", "unlabelled", "test")


def make_split(labels: np.ndarray, seed: int, proportions: Sequence[float] = (0.4, 0.4, 0.2)) -> dict[str, np.ndarray]:
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


def save_split(split: dict[str, np.ndarray], profile: Profile, mnist: Mnist, seed: int,
               proportions: Sequence[float]) -> Path:
    """Save the split (``split.npz`` + side-car with seed, proportions, sizes and the data's fingerprint)."""
    path = profile.artefacts / "split.npz"
    np.savez(path, **{k: np.asarray(split[k], dtype=np.int32) for k in SPLIT_NAMES})
    write_meta(path, seed=seed, proportions=list(proportions), sizes={k: len(split[k]) for k in SPLIT_NAMES},
               data_fingerprint=mnist.fingerprint, split_fingerprint=split_fingerprint(split), source=mnist.source)
    return path


def load_split(profile: Profile, mnist: Mnist) -> dict[str, np.ndarray]:
    """The split saved by 01_split, refused if it was made from other data."""
    path = profile.artefacts / "split.npz"
    read_meta(path, NOTEBOOK_SPLIT, data_fingerprint=mnist.fingerprint)
    with np.load(path) as z:
        return {k: z[k] for k in SPLIT_NAMES}


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
    """Stratified train/validation split of a label subset (``labels`` are those of ``index``)."""
    from sklearn.model_selection import train_test_split

    n_val = max(int(round(val_fraction * len(index))), len(np.unique(labels)))
    train, val = train_test_split(index, test_size=n_val, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(val)


# ======================================================================================================================
# Models: the prescribed CNN, its encoder, and the Siamese network
# ======================================================================================================================

INPUT_SHAPE = (28, 28, 1)
N_CLASSES = 10


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
        [keras.Input(INPUT_SHAPE, name="image"), encoder, layers.Dense(N_CLASSES, activation="softmax", name="softmax")],
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
    return pd.DataFrame(rows)


# ======================================================================================================================
# Pretext: augmentations, pairs, and the Siamese network
# ======================================================================================================================


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of the random augmentations of one view (all drawn independently per image)."""

    rotation: float = 0.08  #: fraction of a full turn (0.08 ~ +-29 degrees)
    zoom: float = 0.15  #: scale factor drawn from [1 - zoom, 1 + zoom]
    translation: float = 0.12  #: shift, as a fraction of the image side, in each direction
    flip_probability: float = 0.0  #: probability of a left-right mirror (off: a mirrored digit is another shape;
    #: chosen on validation data, see experiments/results/pretext.md)
    blur_probability: float = 0.5  #: probability of a blur: a random blend of the image and its sigma-1.2 Gaussian blur
    noise_stddev: float = 0.08  #: additive Gaussian noise
    erase_probability: float = 0.3  #: probability of blanking a random square (2-15 % of the image, less where it
    #: crosses the border)


def build_augmenter(cfg: AugmentConfig = AugmentConfig(), seed: int | None = None, always: bool = False,
                    name: str = "augment"):
    """One Keras layer that augments a whole batch on the device (`RandomViews`): in training only, or ``always``.

    Rotation, zoom, shift and flip are composed into **one** affine transform per image and applied in a single
    ``keras.ops.image.affine_transform`` call; blur is a per-image blend with one fixed Gaussian convolution; erasing
    is a broadcast mask. So a batch costs a handful of backend ops, however many augmentations are switched on.
    """
    return _random_views_class()(cfg, seed=seed, always=always, name=name)


@functools.cache
def _random_views_class():
    """The `RandomViews` layer class (made on first use, so that importing helpers does not import Keras)."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="ssl_study")
    class RandomViews(keras.layers.Layer):
        """Random affine (rotation, zoom, shift, flip), blur, erasing and noise of 28 x 28 x 1 images."""

        def __init__(self, cfg: AugmentConfig | dict = AugmentConfig(), seed: int | None = None, always: bool = False,
                     **kwargs):
            super().__init__(**kwargs)
            self.cfg = cfg if isinstance(cfg, AugmentConfig) else AugmentConfig(**cfg)
            self.seed, self.always = seed, always
            self.seed_generator = keras.random.SeedGenerator(seed)
            sigma = 1.2  # the strongest blur; weaker ones are blends of the image and this one
            g = np.exp(-0.5 * (np.arange(5) - 2) ** 2 / sigma**2)
            self.blur_kernel = (np.outer(g, g) / np.outer(g, g).sum()).astype("float32")[:, :, None, None]

        def uniform(self, n, low=0.0, high=1.0):
            return keras.random.uniform((n,), low, high, seed=self.seed_generator)

        def call(self, x, training=None):
            if not (training or self.always):
                return x
            c = self.cfg
            n = ops.shape(x)[0]
            h, w = INPUT_SHAPE[0], INPUT_SHAPE[1]
            # affine: input point = A (output point - centre) + centre - shift, A = rotation . zoom . flip
            angle = self.uniform(n, -c.rotation, c.rotation) * 2 * np.pi
            scale = 1.0 / self.uniform(n, 1 - c.zoom, 1 + c.zoom)
            flip = ops.where(self.uniform(n) < c.flip_probability, -1.0, 1.0)
            tx = self.uniform(n, -c.translation, c.translation) * w
            ty = self.uniform(n, -c.translation, c.translation) * h
            cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
            a0, a1, b0, b1 = cos * flip, -sin, sin * flip, cos
            cx, cy = (w - 1) / 2, (h - 1) / 2
            zeros = ops.zeros_like(a0)
            transform = ops.stack([a0, a1, cx - a0 * cx - a1 * cy - tx, b0, b1, cy - b0 * cx - b1 * cy - ty,
                                   zeros, zeros], axis=1)
            x = ops.image.affine_transform(x, transform, interpolation="bilinear", fill_mode="constant")
            if c.blur_probability > 0:
                blurred = ops.conv(x, ops.convert_to_tensor(self.blur_kernel), padding="same")
                weight = self.uniform(n) * ops.cast(self.uniform(n) < c.blur_probability, "float32")
                weight = ops.reshape(weight, (-1, 1, 1, 1))
                x = x + weight * (blurred - x)
            if c.erase_probability > 0:
                half = ops.reshape(ops.sqrt(self.uniform(n, 0.02, 0.15)) * h / 2, (-1, 1, 1, 1))  # half a side
                centre_y = ops.reshape(self.uniform(n, 0, h), (-1, 1, 1, 1))
                centre_x = ops.reshape(self.uniform(n, 0, w), (-1, 1, 1, 1))
                rows = ops.reshape(ops.arange(h, dtype="float32"), (1, h, 1, 1))
                cols = ops.reshape(ops.arange(w, dtype="float32"), (1, 1, w, 1))
                square = ops.logical_and(ops.abs(rows - centre_y) < half, ops.abs(cols - centre_x) < half)
                erase = ops.reshape(self.uniform(n) < c.erase_probability, (-1, 1, 1, 1))
                x = ops.where(ops.logical_and(square, erase), 0.0, x)
            if c.noise_stddev > 0:
                x = x + keras.random.normal(ops.shape(x), stddev=c.noise_stddev, seed=self.seed_generator)
            return x

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "cfg": asdict(self.cfg), "seed": self.seed, "always": self.always}

    return RandomViews


def encoder_weights(profile: Profile, stage: str, seed: int) -> Path:
    """Path of an encoder's weights: ``stage`` is ``init`` (notebook 3) or ``siamese`` (notebook 4)."""
    return profile.artefacts / f"encoder_{stage}_seed{seed}.weights.h5"


def pretext_pool(split: dict[str, np.ndarray], n_images: int | None, seed: int) -> np.ndarray:
    """The images of the pretext task: a seeded random order of the **unlabelled** indices (the first ``n_images``)."""
    return np.random.default_rng(seed).permutation(split["unlabelled"])[:n_images]


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
    pair an image with itself as a "negative"): see `check_pretext_batches`. The augmentation (``augment``, seeded with ``seed``) stays
    active at evaluation too, so the validation accuracy is measured on random pairs of held-out images.
    """
    import keras
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
    import keras

    keras.utils.set_random_seed(seed)
    a = keras.ops.convert_to_numpy(augmenter(images, training=True))
    b = keras.ops.convert_to_numpy(augmenter(images, training=True))
    first = np.stack([a, a], axis=1).reshape(-1, *INPUT_SHAPE)
    second = np.stack([b, np.roll(b, 1, axis=0)], axis=1).reshape(-1, *INPUT_SHAPE)
    return np.clip(first, 0, 1), np.clip(second, 0, 1), pretext_targets(len(images)).reshape(-1)


# ======================================================================================================================
# Training
# ======================================================================================================================


@dataclass(frozen=True)
class Recipe:
    """The supervised training recipe, shared by the baseline (02) and the fine-tuning (05) so they stay comparable."""

    learning_rate: float = 6e-3
    val_fraction: float = 0.1
    patience: int = 8
    min_epoch_images: int = 2560  #: a small subset is repeated so that one epoch holds at least this many images
    #: light augmentation of the images: random shifts (8 % of the side) and rotations (+-11 degrees), nothing else
    augment: AugmentConfig = AugmentConfig(rotation=0.03, zoom=0.0, translation=0.08, flip_probability=0.0,
                                           blur_probability=0.0, noise_stddev=0.0, erase_probability=0.0)


STEPS_PER_EXECUTION = 16  #: training batches per call of the compiled step: less Python per batch (see benchmarks/)
VALIDATION_BATCH = 4096  #: validate in as few, large batches as possible: it is a forward pass only


def epochs_for(n_train: int, profile: Profile, recipe: Recipe = Recipe()) -> tuple[int, int]:
    """``(repeats, epochs)`` of one supervised fit on ``n_train`` images.

    Every fit makes ``profile.epochs_at_full`` passes over its subset, but sees at least ``profile.min_fit_images``
    images in all (up to ``profile.max_epochs`` epochs): small subsets need more passes to converge, large ones are
    near their ceiling after a dozen. A subset smaller than ``recipe.min_epoch_images`` is repeated within an epoch,
    so that an epoch (one validation and early-stopping check) holds enough optimisation steps.
    """
    repeats = int(np.ceil(recipe.min_epoch_images / n_train))
    epoch_images = repeats * n_train
    epochs = max(int(np.ceil(profile.epochs_at_full / repeats)), int(np.ceil(profile.min_fit_images / epoch_images)))
    return repeats, int(min(profile.max_epochs, epochs))


def training_budget(profile: Profile, n_labelled: int, recipe: Recipe = Recipe()) -> pd.DataFrame:
    """Per label amount: labels, training images (after the validation hold-out), repeats, epochs, images seen."""
    rows = []
    for amount, n in profile.amounts(n_labelled):
        n_train = n - max(int(round(recipe.val_fraction * n)), N_CLASSES)
        repeats, epochs = epochs_for(n_train, profile, recipe)
        rows.append({"amount": amount, "labels": n, "train": n_train, "repeats": repeats, "epochs": epochs,
                     "images seen": repeats * n_train * epochs})
    return pd.DataFrame(rows)


def fit_classifier(model, x_train, y_train, x_val, y_val, epochs: int, batch_size: int, seed: int,
                   recipe: Recipe = Recipe()) -> dict:
    """Train ``model`` in place with the shared recipe; return its history, best epoch and seconds.

    Adam with a cosine-decaying learning rate, light random shifts/rotations, and the weights of the epoch with the
    best validation loss in the second half of the schedule restored at the end (early stopping with a patience).
    A subset smaller than ``recipe.min_epoch_images`` is repeated within an epoch (each repeat augmented afresh), so
    that tiny subsets still get enough optimisation steps. Features (2-D input, for a linear probe) are not augmented.
    """
    import keras

    keras.utils.set_random_seed(seed)
    repeats = int(np.ceil(recipe.min_epoch_images / len(x_train)))
    if repeats > 1:  # a small subset: repeat it within the epoch
        x_train, y_train = np.concatenate([x_train] * repeats), np.concatenate([y_train] * repeats)
    if x_train.ndim == 4:  # images: light augmentation, one affine transform per image, on the device
        augment = build_augmenter(recipe.augment, seed=seed, name="light_augment")
        trainer = keras.Sequential([keras.Input(INPUT_SHAPE), augment, model], name="trainer")
    else:  # features (a linear probe on a frozen encoder's cached output): nothing to augment
        trainer = model
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps, alpha=0.01)
    # several steps per call of the compiled training function: less Python overhead per batch
    trainer.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"],
                    steps_per_execution=STEPS_PER_EXECUTION)
    # early stopping only looks at the second half of the schedule: a tiny validation set (10 images at 10 labels per
    # class) is too noisy to stop on in the first epochs, where the learning rate is still high
    stop = keras.callbacks.EarlyStopping("val_loss", patience=recipe.patience, restore_best_weights=True,
                                         start_from_epoch=epochs // 2)
    start = time.perf_counter()
    history = trainer.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
                          validation_batch_size=VALIDATION_BATCH, callbacks=[stop], verbose=0)
    seconds = time.perf_counter() - start
    best = epochs // 2 + int(np.argmin(history.history["val_loss"][epochs // 2:])) + 1
    return {"history": history.history, "epochs": len(history.history["loss"]), "best_epoch": best,
            "seconds": seconds}


def run_label_amounts(method: str, make_model, data: dict | Callable[[int], dict], profile: Profile,
                      recipe: Recipe = Recipe(), weights: dict | None = None, verbose: bool = True
                      ) -> tuple[pd.DataFrame, dict, dict]:
    """Train ``make_model(seed, amount)`` on every label amount and seed of ``profile``; evaluate each on the test set.

    ``data`` holds ``x_labelled, y_labelled, x_test, y_test`` (images, or features for a linear probe), or is a
    function of the seed that returns them (each seed's own pre-trained encoder gives its own features). For each seed
    the subsets are nested and stratified (`nested_subsets`), the model is initialised under that seed, and validation
    data come from the subset itself. Returns the tidy results table, the histories keyed ``"amount/seed"``, and the
    test confusion matrices of the smallest and the largest amount, keyed the same way. If ``weights`` is a dict, each
    trained model's weights are put in it under the same keys.
    """
    from sklearn.metrics import confusion_matrix

    import keras

    data_for = data if callable(data) else (lambda seed: data)
    rows, histories, confusions = [], {}, {}
    for seed in profile.seeds:
        data = data_for(seed)
        n_full = len(data["y_labelled"])
        amounts = profile.amounts(n_full)
        subsets = nested_subsets(data["y_labelled"], [n for _, n in amounts], seed)
        for (amount, n), subset in zip(amounts, subsets):
            train, val = train_val_split(subset, data["y_labelled"][subset], recipe.val_fraction, seed)
            keras.utils.set_random_seed(seed)
            model = make_model(seed, amount)
            epochs = epochs_for(len(train), profile, recipe)[1]
            fit = fit_classifier(model, data["x_labelled"][train], data["y_labelled"][train],
                                 data["x_labelled"][val], data["y_labelled"][val],
                                 epochs, profile.batch_size, seed, recipe)
            scores = evaluate(model, data["x_test"], data["y_test"])
            rows.append({"method": method, "amount": amount, "fraction": n / n_full, "n_labels": n, "seed": seed,
                         "test_accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
                         "epochs": fit["epochs"], "best_epoch": fit["best_epoch"], "seconds": round(fit["seconds"], 2)})
            histories[f"{amount}/{seed}"] = fit["history"]
            if weights is not None:
                weights[f"{amount}/{seed}"] = model.get_weights()
            if (amount, n) in (amounts[0], amounts[-1]):
                confusions[f"{amount}/{seed}"] = confusion_matrix(data["y_test"], scores["predicted"]).tolist()
            if verbose:
                r = rows[-1]
                print(f"{method:>18} | {amount:>8} ({n:>6,} labels) seed {seed}: accuracy {r['test_accuracy']:.4f}, "
                      f"macro-F1 {r['macro_f1']:.4f}, {r['epochs']} epochs in {r['seconds']:.0f} s")
    return pd.DataFrame(rows), histories, confusions


# ======================================================================================================================
# Evaluation and results
# ======================================================================================================================

RESULT_COLUMNS = ["method", "amount", "fraction", "n_labels", "seed", "test_accuracy", "macro_f1", "epochs", "best_epoch",
                  "seconds"]


def evaluate(model, x: np.ndarray, y: np.ndarray) -> dict:
    """Test accuracy, macro-F1 and the predictions of a classifier."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = np.argmax(model.predict(x, batch_size=1024, verbose=0), axis=1)
    return {"accuracy": float(accuracy_score(y, predicted)), "macro_f1": float(f1_score(y, predicted, average="macro")),
            "predicted": predicted}


def save_results(results: pd.DataFrame, profile: Profile, split_fp: str, notebook: str) -> Path:
    """Put one method's rows into the tidy ``results.csv`` of the profile, replacing that method's earlier rows."""
    path = profile.artefacts / "results.csv"
    methods = set(results["method"])
    table = results[RESULT_COLUMNS]
    if path.exists() and meta_path(path).exists():
        old = pd.read_csv(path)
        meta = json.loads(meta_path(path).read_text())
        if meta.get("split_fingerprint") == split_fp:
            table = pd.concat([old[~old["method"].isin(methods)], table], ignore_index=True)
            made_by = {m: nb for m, nb in meta.get("made_by", {}).items() if m not in methods}
        else:
            made_by = {}
    else:
        made_by = {}
    made_by.update({m: notebook for m in methods})
    table = table.sort_values(["method", "n_labels", "seed"]).reset_index(drop=True)
    table.to_csv(path, index=False)
    write_meta(path, split_fingerprint=split_fp, made_by=made_by)
    return path


def load_results(profile: Profile, split_fp: str, methods: dict[str, str]) -> pd.DataFrame:
    """The results table, refusing it unless every ``method`` (-> the notebook that makes it) is there and current."""
    path = profile.artefacts / "results.csv"
    read_meta(path, next(iter(methods.values())), split_fingerprint=split_fp)
    table = pd.read_csv(path)
    for method, notebook in methods.items():
        if method not in set(table["method"]):
            raise ArtefactError(f"{path.relative_to(ROOT)} has no rows of {method!r}: run notebooks/{notebook} first.")
    return table


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its two-sided Student-t confidence interval (NaN half-width for fewer than 2 values)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half)


def summary_table(results: pd.DataFrame, metric: str = "test_accuracy") -> pd.DataFrame:
    """Per method and label amount: mean of ``metric`` over seeds, its 95 % CI half-width, number of seeds."""
    rows = []
    for (method, n, amount), group in results.groupby(["method", "n_labels", "amount"], sort=True):
        mean, half = mean_ci(group[metric])
        rows.append({"method": method, "amount": amount, "n_labels": n, "mean": mean, "ci95": half,
                     "seeds": len(group), "seconds": group["seconds"].mean()})
    return pd.DataFrame(rows)


def paired_gain(results: pd.DataFrame, baseline: str, other: str, metric: str = "test_accuracy") -> pd.DataFrame:
    """Per label amount: mean paired difference ``other - baseline`` (same seed, same subset) in percentage points,
    its 95 % CI, the paired t-test's p-value, and whether the CI excludes zero."""
    from scipy import stats

    wide = results.pivot_table(index=["n_labels", "amount", "seed"], columns="method", values=metric)
    rows = []
    for (n, amount), group in wide.groupby(level=["n_labels", "amount"], sort=True):
        diff = 100 * (group[other] - group[baseline]).dropna().to_numpy()
        mean, half = mean_ci(diff)
        p = float(stats.ttest_rel(group[other], group[baseline]).pvalue) if len(diff) > 1 else float("nan")
        rows.append({"amount": amount, "n_labels": n, "method": other, "gain": mean, "ci_low": mean - half,
                     "ci_high": mean + half, "p_value": p, "pairs": len(diff),
                     "significant": bool(len(diff) > 1 and (mean - half > 0 or mean + half < 0))})
    gains = pd.DataFrame(rows)
    gains["p_holm"] = holm(gains["p_value"].to_numpy())
    return gains


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for testing several label amounts at once (NaN stays NaN).

    Testing 13 amounts at the 5 % level, about one in 20 true ties comes out "significant" by chance; a Holm-adjusted
    p-value below 0.05 keeps the chance of any false "significant" among them below 5 %.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[k]))
        adjusted[k] = running
    return adjusted


def summary_markdown(summary: pd.DataFrame, gains: pd.DataFrame, baseline: str) -> str:
    """One table: mean test accuracy +- 95 % CI per method and amount, and each method's gain over ``baseline``."""
    def cell(mean, half):
        return f"{mean:.2%}" + ("" if np.isnan(half) else f" ± {100 * half:.2f}")

    table = summary.assign(text=[cell(m, h) for m, h in zip(summary["mean"], summary["ci95"])])
    shown = table.pivot(index=["n_labels", "amount"], columns="method", values="text")
    shown = shown[[baseline] + [m for m in shown.columns if m != baseline]]
    for method, group in gains.groupby("method"):
        text = [f"{g:+.2f} [{lo:+.2f}, {hi:+.2f}]{' *' if sig else ''}" if not np.isnan(lo) else f"{g:+.2f}"
                for g, lo, hi, sig in zip(group["gain"], group["ci_low"], group["ci_high"], group["significant"])]
        shown[f"gain {method} (points)"] = pd.Series(text, index=pd.MultiIndex.from_frame(group[["n_labels", "amount"]]))
    shown = shown.reset_index().rename(columns={"n_labels": "labelled images", "amount": "amount"})
    shown["labelled images"] = shown["labelled images"].map("{:,}".format)
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def helps_below(gains: pd.DataFrame) -> str:
    """In words, computed from ``gains`` (one method): where the gain is significantly positive or negative."""
    up = gains[gains["significant"] & (gains["gain"] > 0)]
    down = gains[gains["significant"] & (gains["gain"] < 0)]
    method = gains["method"].iloc[0]
    if gains["pairs"].max() < 2:
        return f"{method}: one seed per amount, so no difference can be called significant."
    text = f"{method}: significantly better than supervised at "
    text += ", ".join(f"{a} ({g:+.2f} points)" for a, g in zip(up["amount"], up["gain"])) if len(up) else "no amount"
    contiguous = 0
    for significant_gain in (gains["significant"] & (gains["gain"] > 0)).to_numpy():
        if not significant_gain:
            break
        contiguous += 1
    if contiguous:
        text += (f"; it helps at every amount up to {gains['amount'].iloc[contiguous - 1]} "
                 f"({gains['n_labels'].iloc[contiguous - 1]:,} labels)")
    text += "; significantly worse at "
    text += ", ".join(f"{a} ({g:+.2f} points)" for a, g in zip(down["amount"], down["gain"])) if len(down) else "no amount"
    if "p_holm" in gains and len(gains) > 1:
        held = gains[gains["p_holm"] < 0.05]
        text += (f". Corrected for testing {len(gains)} amounts (Holm, 5 %), the differences that remain are at "
                 + (", ".join(f"{a} ({g:+.2f})" for a, g in zip(held["amount"], held["gain"])) if len(held) else
                    "no amount"))
    return text + "."


def per_class_accuracy(confusions: dict[str, list]) -> pd.Series:
    """Accuracy per digit from confusion matrices summed over runs."""
    total = np.sum([np.asarray(c) for c in confusions.values()], axis=0)
    return pd.Series(np.diag(total) / total.sum(axis=1), index=pd.RangeIndex(10, name="digit"))


# ======================================================================================================================
# Plots
# ======================================================================================================================


def savefig(fig, profile: Profile, name: str) -> Path:
    """Save a figure as PNG in the profile's figure folder and return its path."""
    path = profile.figures / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_digits(images: np.ndarray, titles: Sequence[str], ncols: int = 10, size: float = 1.1):
    """A grid of digits with titles."""
    import matplotlib.pyplot as plt

    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0, vmax=1 if image.dtype != np.uint8 else 255)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_pairs(view_a: np.ndarray, view_b: np.ndarray, target: np.ndarray, n: int = 8):
    """Example pairs of the pretext task: two rows per pair column, titled by the target."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, n, figsize=(n * 1.1, 2.6))
    for k in range(n):
        for row, view in enumerate((view_a, view_b)):
            axes[row, k].imshow(np.squeeze(view[k]), cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].axis("off")
        axes[0, k].set_title("same (1)" if target[k] == 1 else "different (0)", fontsize=8)
    fig.tight_layout()
    return fig


def method_colours(methods) -> dict:
    """One colour per method, by the methods' sorted names, so that a method keeps its colour across figures."""
    import seaborn as sns

    methods = sorted(set(methods))
    return dict(zip(methods, sns.color_palette(n_colors=len(methods))))


def plot_accuracy_vs_labels(summary: pd.DataFrame, title: str):
    """Mean test accuracy against labelled images (log axis), one line per method, with its 95 % CI band."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    palette = method_colours(summary["method"].unique())
    for method, group in summary.groupby("method"):
        ax.plot(group["n_labels"], group["mean"], "o-", color=palette[method], label=method)
        band = group["ci95"].fillna(0)
        ax.fill_between(group["n_labels"], group["mean"] - band, group["mean"] + band, color=palette[method], alpha=0.2)
    ax.set_xscale("log")
    ax.set(xlabel="labelled training images (log scale)", ylabel="test accuracy", title=title)
    ax.legend(title="method (band: 95 % CI over seeds)")
    fig.tight_layout()
    return fig


def plot_gains(gains: pd.DataFrame):
    """Paired gain over the supervised baseline per label amount, with 95 % CIs, one series per method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    methods = sorted(gains["method"].unique())
    palette = method_colours([*methods, "supervised"])
    for k, method in enumerate(methods):
        group, colour = gains[gains["method"] == method], palette[method]
        x = group["n_labels"] * (1.06 ** (k - (len(methods) - 1) / 2))  # side by side on the log axis
        err = np.vstack([group["gain"] - group["ci_low"], group["ci_high"] - group["gain"]])
        ax.errorbar(x, group["gain"], yerr=np.nan_to_num(err), fmt="o-", capsize=3, color=colour, label=method)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="labelled training images (log scale)", ylabel="gain over supervised (points)",
           title="Gain of pre-training (paired by seed), with 95 % CI")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusions(confusions: dict[str, dict[str, list]], amounts: Sequence[str]):
    """Confusion matrices (test set, summed over seeds) per method (rows) at the given amounts (columns)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    methods = list(confusions)
    fig, axes = plt.subplots(len(methods), len(amounts), figsize=(4.6 * len(amounts), 4.2 * len(methods)),
                             squeeze=False)
    for row, method in enumerate(methods):
        for col, amount in enumerate(amounts):
            runs = [np.asarray(c) for key, c in confusions[method].items() if key.rsplit("/", 1)[0] == amount]
            total = np.sum(runs, axis=0)
            share = total / total.sum(axis=1, keepdims=True)
            sns.heatmap(share, ax=axes[row, col], cmap="Blues", vmin=0, vmax=0.1, cbar=False, square=True,
                        annot=np.where(share >= 0.005, np.round(100 * share).astype(int).astype(str), ""), fmt="",
                        annot_kws={"fontsize": 7})
            axes[row, col].set(title=f"{method}, {amount}", xlabel="predicted", ylabel="true")
    fig.suptitle("Confusions in % of each true digit (diagonal off the colour scale)", y=1.0)
    fig.tight_layout()
    return fig


def cost_seconds(results: pd.DataFrame, pretext_seconds: dict[int, float], pretrained: Sequence[str],
                 head_from: dict[str, str] | None = None) -> pd.Series:
    """Training seconds each model of ``results`` cost in all: its own fit; plus its seed's pretext run
    (``pretext_seconds``: seed -> seconds) for the ``pretrained`` methods; plus, for a method whose head started from
    another method's fit of the same amount and seed (``head_from``: method -> that method), that fit too. (The
    probe's one feature pass per seed, a few seconds, is not counted.)"""
    extra = np.where(results["method"].isin(pretrained), results["seed"].map(pretext_seconds), 0.0)
    cost = results["seconds"] + extra
    if cost.isna().any():
        raise ValueError("a pre-trained run's seed has no pretext seconds")
    for method, source in (head_from or {}).items():
        rows = results["method"] == method
        own = results[results["method"] == source].set_index(["amount", "seed"])["seconds"]
        added = own.reindex(pd.MultiIndex.from_frame(results.loc[rows, ["amount", "seed"]])).to_numpy()
        if np.isnan(added).any():
            raise ValueError(f"some {method} runs have no {source} run of the same amount and seed")
        cost[rows] += added
    return cost


def plot_time_to_accuracy(results: pd.DataFrame, cost: pd.Series):
    """Mean test accuracy against the training seconds it cost (``cost``, one per row; log axis)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    means = results.assign(total_seconds=cost).groupby(["method", "n_labels"], as_index=False)[
        ["total_seconds", "test_accuracy"]].mean()
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    sns.lineplot(data=means, x="total_seconds", y="test_accuracy", hue="method", style="method", markers=True,
                 dashes=False, sort=False, ax=ax)
    ax.set_xscale("log")
    ax.set(xlabel="training seconds per model, pre-training included (log scale)", ylabel="mean test accuracy",
           title="Time to accuracy (points: label amounts)")
    fig.tight_layout()
    return fig


def plot_history(history: dict, metrics: Sequence[str], title: str):
    """Training curves: one panel per metric, training and validation."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", label="held-out")
        ax.set(xlabel="epoch", ylabel=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def config_dict(obj) -> dict:
    """A dataclass (profile, recipe, augmentation) as a plain dict, for metadata."""
    return asdict(obj)
