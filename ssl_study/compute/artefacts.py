"""Artefacts that know their inputs.

Every artefact a notebook writes (not the figures) gets a JSON side-car, ``<file>.meta.json``, that records the notebook
that wrote it, the file's own sha256, the fingerprint of the decoded MNIST images it was made from, and the sha256 of
each artefact it was made from (``inputs``, by file name: all of a profile's artefacts live in one folder). A notebook
reads an artefact through `read_meta`, which refuses it, naming the notebook to re-run, when it is missing, was edited,
was made from other data, or was made from an input that has since been replaced. Every write is atomic: a temporary
file, then a rename, so an interrupted run never leaves half a file (figures are written directly).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..config import NOTEBOOK_SPLIT


class ArtefactError(RuntimeError):
    """An artefact that a notebook needs is missing, edited, or made from other inputs; the message says what to run."""


def meta_path(path: Path) -> Path:
    """The JSON side-car of an artefact: ``encoder.weights.h5`` -> ``encoder.weights.h5.meta.json``."""
    return path.with_name(path.name + ".meta.json")


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def writable_folder(folder: Path, what: str, variable: str | None = None) -> Path:
    """``folder``, refused in one sentence (`ArtefactError`) where it is a file, could not be made (a file in its path,
    or no right to write where it would go) or cannot be written to -- checked at start-up, before any work would be
    lost to it, and making nothing. ``what`` names it for a reader ("The fit cache"); ``variable``: the environment
    variable that pointed there, if one did."""
    where = f"{what} ({variable}={folder})" if variable else f"{what} ({folder})"
    fix = f"point {variable} at a folder you can write to, or unset it" if variable else "make it writable"
    try:
        exists, is_dir, dangling = folder.exists(), folder.is_dir(), folder.is_symlink() and not folder.exists()
        existing = next(p for p in (folder, *folder.parents) if p.exists())
    except OSError as err:  # a name too long for the file system, say
        raise ArtefactError(f"{what} ({variable or 'its path'}) cannot be opened ({err.strerror}): {fix}.") from None
    if dangling:
        raise ArtefactError(f"{where} is a link to a folder that does not exist: {fix}.")
    if exists and not is_dir:
        raise ArtefactError(f"{where} is a file, not a folder: {fix}.")
    if not existing.is_dir():
        raise ArtefactError(f"{where} cannot be made ({existing.name} in its path is a file): {fix}.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ArtefactError(f"{where} {'is not writable' if existing == folder else 'cannot be made'}: {fix}.")
    return folder


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary path)``, then rename the temporary file to ``path`` (same folder, so the rename is
    atomic): a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.tmp", suffix="".join(path.suffixes))
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return value.name
    raise TypeError(f"not JSON serialisable: {type(value)}")


def write_meta(path: Path, notebook: str, inputs: Iterable[Path] = (), data_fingerprint: str | None = None,
               **meta: object) -> dict:
    """Write the side-car of ``path``: who wrote it, from what (``inputs``: artefacts of the same folder; the data's
    fingerprint), anything else in ``meta``, and the file's own sha256."""
    meta = {"notebook": notebook, "data_fingerprint": data_fingerprint,
            "inputs": {Path(p).name: file_sha256(Path(p)) for p in inputs}, **meta,
            "sha256": file_sha256(path)}
    text = json.dumps(meta, indent=2, default=_json_default)
    atomic_write(meta_path(path), lambda tmp: tmp.write_text(text))
    return meta


def read_meta(path: Path, notebook: str, data_fingerprint: str | None = None, **expected: object) -> dict:
    """Read the side-car of ``path`` (made by ``notebook``), refusing the artefact if it is missing, was changed after
    it was written, was made from other data than ``data_fingerprint``, or from an input artefact that has since been
    replaced; ``expected`` holds further metadata that must match (an architecture, a seed)."""
    name, fix = path.name, f"run notebooks/{notebook} (same profile)"
    if not path.exists() or not meta_path(path).exists():
        raise ArtefactError(f"{name} is missing from {path.parent}: {fix}.")
    try:
        meta = json.loads(meta_path(path).read_text())
        meta["sha256"], meta["inputs"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise ArtefactError(f"The side-car {meta_path(path).name} is unreadable ({type(err).__name__}): delete "
                            f"{name} and its side-car, and {fix}.") from None
    if meta["sha256"] != file_sha256(path):
        raise ArtefactError(f"{name} was changed after notebooks/{notebook} wrote it: re-{fix}.")
    if data_fingerprint is not None and meta.get("data_fingerprint") != data_fingerprint:
        raise ArtefactError(f"{name} was made from other MNIST images than the ones in use now: re-run "
                            f"notebooks/{NOTEBOOK_SPLIT} and every notebook after it (same profile).")
    for source, sha in meta["inputs"].items():
        current = path.parent / source
        if not current.exists() or file_sha256(current) != sha:
            raise ArtefactError(f"{name} was made from an earlier {source} than the one in {path.parent}: re-{fix}.")
    for key, value in expected.items():
        if meta.get(key) != value:
            raise ArtefactError(f"{name} is stale: its {key} is {meta.get(key)!r}, expected {value!r}; re-{fix}.")
    return meta


def save_json(obj: object, path: Path, notebook: str, inputs: Iterable[Path] = (), data_fingerprint: str | None = None,
              **meta: object) -> Path:
    """Write ``obj`` as JSON, atomically, with its side-car (see `write_meta`)."""
    text = json.dumps(obj, default=_json_default)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    write_meta(path, notebook, inputs, data_fingerprint, **meta)
    return path


def load_json(path: Path, notebook: str, data_fingerprint: str | None = None, **expected: object) -> object:
    """Read a JSON artefact written by `save_json`, refusing it if missing, modified or stale (see `read_meta`)."""
    read_meta(path, notebook, data_fingerprint, **expected)
    return json.loads(path.read_text())


def save_table(table: pd.DataFrame, path: Path, notebook: str, inputs: Iterable[Path] = (),
               data_fingerprint: str | None = None, **meta: object) -> Path:
    """Write a table as CSV (or Markdown, for a ``.md`` path), atomically, with its side-car."""
    if path.suffix == ".md":
        atomic_write(path, lambda tmp: tmp.write_text(table.to_markdown(index=False, disable_numparse=True) + "\n"))
    else:
        atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    write_meta(path, notebook, inputs, data_fingerprint, **meta)
    return path


def save_arrays(arrays: dict[str, np.ndarray], path: Path, notebook: str, inputs: Iterable[Path] = (),
                data_fingerprint: str | None = None, **meta: object) -> Path:
    """Write plain numeric arrays as a compressed ``.npz`` (no object arrays: read back without pickle), atomically,
    with its side-car."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as file:
            np.savez_compressed(file, **arrays)

    atomic_write(path, write)
    write_meta(path, notebook, inputs, data_fingerprint, **meta)
    return path


def load_arrays(path: Path, notebook: str, data_fingerprint: str | None = None, **expected: object) -> dict:
    """The arrays `save_arrays` wrote, refused as `read_meta` refuses a stale or edited file (never unpickled)."""
    read_meta(path, notebook, data_fingerprint, **expected)
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_text(text: str, path: Path, notebook: str, inputs: Iterable[Path] = (), data_fingerprint: str | None = None,
              **meta: object) -> Path:
    """Write a text artefact (a Markdown table for the README, say), atomically, with its side-car."""
    atomic_write(path, lambda tmp: tmp.write_text(text))
    write_meta(path, notebook, inputs, data_fingerprint, **meta)
    return path


def load_table(path: Path, notebook: str, data_fingerprint: str | None = None, **expected: object) -> pd.DataFrame:
    """Read a CSV artefact written by `save_table`, refusing it if missing, modified or stale (see `read_meta`)."""
    read_meta(path, notebook, data_fingerprint, **expected)
    return pd.read_csv(path)
