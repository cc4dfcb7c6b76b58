"""The data: the course's PNGs of a dataset (`ssl_study.config.Dataset`: MNIST, the assignment's, or Fashion-MNIST),
read from a folder or an archive, checked, decoded once and cached; the split into labelled / unlabelled / test sets;
and the nested label subsets of every label amount."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artefacts import ArtefactError, atomic_write, writable_folder
from .sources import (_MEMBER, MAX_PNG_BYTES, DataError, _without_reprs, is_data_member,  # noqa: F401
                      folder_signature, iter_source, source_fingerprint)
from ..config import CACHE_DIR, DATA_CACHE_ENV, DATA_DIR, DATASETS, N_CLASSES, ROOT, Dataset, get_dataset



@dataclass
class Mnist:
    """All 70,000 images pooled: ``images`` uint8 (n, 28, 28), ``labels`` uint8 (n,), ``origin``
    'training'/'testing'."""

    images: np.ndarray
    labels: np.ndarray
    origin: np.ndarray
    files: np.ndarray
    fingerprint: str  #: sha256 of the decoded images and labels: the same from a folder or an archive
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def where_to_put(dataset: Dataset) -> str:
    """Where a dataset's files go, in one sentence."""
    return (f"Put the course's {dataset.title} files at data/{dataset.folder}/ (folders training/<class>/*.png and "
            f"testing/<class>/*.png, one folder per class 0-9), or its archive at data/{dataset.folder}.tar.gz or "
            f"data/{dataset.folder}.zip, or set the environment variable {dataset.env} to the folder or archive. See "
            "data/README.md.")


WHERE_TO_PUT_DATA = where_to_put(DATASETS["mnist"])  #: MNIST's (the default dataset)


def find_source(source: str | Path | None = None, dataset: Dataset | None = None) -> Path:
    """The data source of ``dataset`` (default: `get_dataset`): ``source``, else its environment variable
    (``$MNIST_PNG``, ``$FASHION_PNG``), else the first of its `Dataset.sources` under ``data/``."""
    dataset = dataset or get_dataset()
    if source is None and os.environ.get(dataset.env):
        source = os.environ[dataset.env]
    if source is not None:
        path = Path(source).expanduser()
        try:
            found = path.exists()
        except OSError as err:  # a name too long for the file system, say
            raise DataError(f"{dataset.env} names a path this system cannot open ({err.strerror}): "
                            f"{ascii(str(path))[:120]}. {where_to_put(dataset)}") from None
        if not found:
            raise DataError(f"No {dataset.title} data at {path}. {where_to_put(dataset)}")
        return path.resolve()
    for name in dataset.sources:
        if (DATA_DIR / name).exists():
            return DATA_DIR / name
    raise DataError(f"No {dataset.title} data found under {DATA_DIR}. {where_to_put(dataset)}")


def decode_png(data: bytes, name: str) -> np.ndarray:
    """Decode one of the course's PNGs to a uint8 (28, 28) array.

    8-bit grayscale is used as it is; a palette, RGB or opaque RGBA image is converted to grayscale (ITU-R 601 luma,
    as Pillow's ``convert("L")``); an image with transparent pixels (whose picture depends on the background it is
    shown on), any other mode (16-bit, float) and any size but 28 x 28 are refused.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))  # reads the header only: the format and size are checked before decoding
        fmt = image.format
        if fmt == "PNG" and image.size == (28, 28):
            image.load()
    except UnidentifiedImageError:
        raise DataError(f"{name} is not an image (its bytes are no format Pillow knows); replace it with the course's "
                        "original file.") from None
    except Image.DecompressionBombError:
        raise DataError(f"{name} declares an enormous image (a decompression bomb?); the course's images are 28x28. "
                        "Replace it with the course's original file.") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"{name} is not a readable PNG ({_without_reprs(str(err))}); replace it with the course's "
                        "original file.") from None
    if fmt != "PNG":
        raise DataError(f"{name} is a {fmt} image, not a PNG; the course files are PNGs.")
    if image.size != (28, 28):
        raise DataError(f"{name} is {image.size[0]}x{image.size[1]} pixels; the course's images are 28x28. "
                        "Refusing it.")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        if (np.asarray(image.convert("RGBA"))[..., 3] < 255).any():  # what shows depends on the background
            raise DataError(f"{name} has transparent pixels (its picture may be in the alpha channel alone): the "
                            "course's images are opaque; save it again without transparency.")
    if image.mode in ("1", "P", "RGB", "RGBA", "LA", "PA"):
        image = image.convert("L")
    elif image.mode != "L":
        raise DataError(f"{name} has pixel mode {image.mode!r}; only 8-bit grayscale or colour PNGs are accepted.")
    return np.asarray(image, dtype=np.uint8)


def read_source(path: Path, dataset: Dataset | None = None) -> Mnist:
    """Decode every ``training|testing/<class>/*.png`` of a source of ``dataset`` (its classes 0-9), validating the
    layout as it goes."""
    dataset = dataset or get_dataset()
    records: list[tuple[str, str, int, np.ndarray]] = []
    class_dirs: set[str] = set()
    trees: dict[str, str] = {}  #: the part of a member's path before training/ or testing/ -> its first member
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
        trees.setdefault(name[:match.start()], name)
        if len(trees) > 1:  # the course's folders twice: a backup copied inside the tree, say
            first, second = list(trees.values())[:2]
            raise DataError(f"{path} holds the course's training/ and testing/ folders twice ({ascii(first)} and "
                            f"{ascii(second)}): keep one tree, and move the other out of it.")
        class_dirs.add(name.rsplit("/", 1)[0])
        where = f"{path}::{name}" if path.is_file() else str(path / name)
        if not re.fullmatch(r"[0-9]", label):
            raise DataError(f"{where}: class folder {label!r} is not a class number 0-9; move the file into its "
                            "class's folder.")
        if not filename.lower().endswith(".png"):
            raise DataError(f"{where} is not a .png file; remove it from the class folder.")
        records.append((f"{subset}/{label}/{filename}", subset, int(label), decode_png(data, where)))
    if not records:
        raise DataError(f"No PNG images found in {path}. {where_to_put(dataset)}")
    counts = Counter(key.rsplit("/", 1)[0] for key, *_ in records)
    for folder in sorted(class_dirs):
        tail = "/".join(folder.split("/")[-2:])
        if re.fullmatch(r"(training|testing)/[0-9]", tail) and counts[tail] == 0:
            raise DataError(f"Class folder {path}/{folder} holds no PNG images; "
                            "restore its files from the course data.")
    missing = sorted(set(range(10)) - {label for _, _, label, _ in records})
    if missing:
        raise DataError(f"{path} holds no images of {dataset.noun}(s) {missing}; restore them from the course data.")
    records.sort(key=lambda r: _natural_key(r[0]))
    images = np.stack([r[3] for r in records])
    labels = np.array([r[2] for r in records], dtype=np.uint8)
    origin = np.array([r[1] for r in records])
    check_complete(path, origin, labels, dataset)
    files = np.array([r[0] for r in records])
    check_no_copies(path, images, files)
    return Mnist(images=images, labels=labels, origin=origin, files=files,
                 fingerprint=data_fingerprint(images, labels), source=path.name)


def check_no_copies(path: Path, images: np.ndarray, files: np.ndarray) -> None:
    """Refuse a source in which an image is an exact copy of another (testing/ filled with copies of training/, a
    tree copied into itself): the split would put copies of test images among the labelled ones. The course's MNIST
    and Fashion-MNIST hold none; the check costs under a tenth of a second for their 70,000 images
    (benchmarks/results/loader_limits.md)."""
    rows = np.ascontiguousarray(images.reshape(len(images), -1))
    keys = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    if (counts > 1).any():
        twin = first[np.argmax(counts > 1)]
        copy = next(i for i in range(len(keys)) if keys[i] == keys[twin] and i != twin)
        raise DataError(f"{path} holds {int((counts - 1).sum()):,} images that are exact copies of others (such as "
                        f"{ascii(str(files[copy]))}, a copy of {ascii(str(files[twin]))}): remove the copies; the "
                        "split would put copies of test images among the labelled ones.")


MNIST_COUNTS = DATASETS["mnist"].counts  #: images per digit 0-9 in the course's MNIST, by folder


def check_complete(path: Path, origin: np.ndarray, labels: np.ndarray, dataset: Dataset | None = None) -> None:
    """Refuse a tree without its ``training/`` or ``testing/`` folder, or one in which a class's share of a folder is
    less than half or more than twice its share in the complete dataset (files lost in a copy, say).

    A smaller tree with the right shares (a course's sample, the tests' synthetic trees) is accepted: `load_mnist`
    says how many images it holds.
    """
    dataset = dataset or get_dataset()
    for folder, expected in dataset.counts.items():
        counts = np.bincount(labels[origin == folder], minlength=N_CLASSES)
        if counts.sum() == 0:
            raise DataError(f"{path} has no {folder}/ images: the study pools both of the course's folders, training/ "
                            f"and testing/ ({dataset.total:,} images). Restore {folder}/ from the course data.")
        share, usual = counts / counts.sum(), np.asarray(expected) / sum(expected)
        off = np.flatnonzero((share < usual / 2) | (share > usual * 2))
        if off.size:
            found = ", ".join(f"{dataset.noun} {d}: {counts[d]:,} of {counts.sum():,}" for d in off)
            raise DataError(f"{path}: {folder}/ holds far fewer or more images of some {dataset.plural} than the "
                            f"course's {dataset.title} ({found}; usually "
                            f"{', '.join(f'{usual[d]:.1%}' for d in off)}). Restore the folder from the course data.")


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


def data_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of decoded images and labels (in their canonical order)."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def load_mnist(source: str | Path | None = None, cache_dir: Path | None = None, verbose: bool = True,
               dataset: Dataset | None = None) -> Mnist:
    """All images of the course's PNG tree of ``dataset`` (default: `get_dataset`, MNIST unless ``$SSL_DATASET`` says
    otherwise), decoded once and cached in ``cache_dir`` (default: ``data/cache``, or ``$SSL_DATA_CACHE``).

    The cache is keyed by the sha256 of the source's content (`source_fingerprint`), so a changed source is decoded
    again, whatever its files' sizes and dates (a folder's is read back when no file of it has changed since:
    `_fingerprint`); an unreadable cache file (a disk that filled up, say) is decoded again too, with a note.
    """
    dataset = dataset or get_dataset()
    path = find_source(source, dataset)
    from_env = cache_dir is None and bool(os.environ.get(DATA_CACHE_ENV))
    cache_dir = Path(cache_dir or os.environ.get(DATA_CACHE_ENV) or CACHE_DIR)
    try:  # a file, or a place that cannot be written to: one sentence now, not a traceback after decoding
        writable_folder(cache_dir, "The decoded-data cache", DATA_CACHE_ENV if from_env else None)
    except ArtefactError as err:
        raise DataError(str(err)) from None
    cache = cache_dir / f"{dataset.name}-{_fingerprint(path, cache_dir / f'{dataset.name}-folder.json')[:20]}.npz"
    shown = cache.relative_to(ROOT) if cache.is_relative_to(ROOT) else cache
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                mnist = Mnist(images=z["images"], labels=z["labels"], origin=z["origin"], files=z["files"],
                              fingerprint=str(z["fingerprint"]), source=path.name)
            intact = data_fingerprint(mnist.images, mnist.labels) == mnist.fingerprint
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            intact = False
        if intact:
            if verbose:
                print(_loaded(mnist, dataset))
            return mnist
        print(f"The decoded-data cache {shown} is unreadable or corrupt: decoding the PNGs again and replacing it.")
    mnist = read_source(path, dataset)
    atomic_write(cache, lambda tmp: np.savez(tmp, images=mnist.images, labels=mnist.labels, origin=mnist.origin,
                                             files=mnist.files, fingerprint=np.array(mnist.fingerprint)))
    if verbose:
        print(_loaded(mnist, dataset))
    return mnist


#: how old (ns) a folder's newest file must be for its signature to stand for its content (`folder_signature`)
SETTLED_NS = 2_000_000_000


def _fingerprint(path: Path, index: Path) -> str:
    """`source_fingerprint` of a source; for a folder, read back from ``index`` when its files look to the file system
    as they did when it was computed (`folder_signature`: a stat of each file, no read), so that a start-up does not
    read and hash every image again. An archive is one file, hashed each time (a fraction of a second)."""
    if path.is_file():
        return source_fingerprint(path)
    signature, newest = folder_signature(path)
    try:
        known = json.loads(index.read_text())
        if known.get("signature") == signature and isinstance(known.get("fingerprint"), str):
            return known["fingerprint"]
    except (OSError, ValueError, AttributeError):
        pass  # none yet, or unreadable: computed again below
    fingerprint = source_fingerprint(path)
    if time.time_ns() - newest >= SETTLED_NS:  # a file changed within a clock tick could look unchanged: not recorded
        atomic_write(index, lambda tmp: tmp.write_text(json.dumps({"signature": signature,
                                                                   "fingerprint": fingerprint})))
    return fingerprint


def _loaded(mnist: Mnist, dataset: Dataset) -> str:
    """What a notebook says it loaded: the same words whether the PNGs were decoded now or read back decoded."""
    note = "" if len(mnist) == dataset.total else f" (not the {dataset.total:,} of the course's {dataset.title})"
    return f"{len(mnist):,} {dataset.title} images, decoded from the course's PNGs{note}"


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1], the models' input."""
    return (images.astype("float32") / 255.0)[..., None]
