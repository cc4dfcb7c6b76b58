"""The fit cache: a small content-addressed store of plain data.

An entry is a task's result under its key (`ssl_study.study.keys`): ``<folder>/<kind>/<key>.json`` holds the task's
description and its result as JSON; arrays (trained weights, a probe's head, example images) go beside it in
``<key>.npz`` and are referred to from the JSON as ``{"__array__": "a0"}``. Nothing in the store runs code when it is
read: JSON, and ``.npz`` files loaded with ``allow_pickle=False``.

Every file is written atomically (a temporary file, then a rename), the arrays first and the JSON last, so an entry
whose JSON exists is complete; an interrupted write leaves at most a stray temporary file. An entry that cannot be read
back (a damaged or truncated file) counts as missing and is computed again; nothing deletes entries except `prune`.

Each entry records its content (``"content"``: the sha256 of its result and arrays, and each array's dtype and shape),
checked on every read: an entry edited by hand, or an array swapped for another, is a damaged entry -- named, and
computed again -- never a result served (`content_record`; ``tools/checksum_cache.py`` records it for entries written
before it existed).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

ARRAY = "__array__"  #: a JSON object {"__array__": name}: the array ``name`` of the entry's .npz file
ITEMS = "__items__"  #: a JSON object {"__items__": [[key, value], ...]}: a dict whose keys are not all strings


class DamagedEntry(ValueError):
    """An entry's files exist but cannot be read back, or do not hold what the entry recorded."""


def content_record(result_json, arrays: dict[str, np.ndarray]) -> dict:
    """What an entry's ``"content"`` records: the sha256 of its result (as canonical JSON) and of every array (name,
    dtype, shape and bytes), and each array's dtype and shape."""
    import hashlib

    digest = hashlib.sha256(json.dumps(result_json, sort_keys=True, allow_nan=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return {"sha256": digest.hexdigest(),
            "arrays": {name: [arrays[name].dtype.str, list(arrays[name].shape)] for name in sorted(arrays)}}


def _check_content(entry: dict, arrays: dict[str, np.ndarray], name: str) -> None:
    """Refuse (`DamagedEntry`, naming the file) an entry whose result or arrays are not the ones it recorded."""
    recorded = entry.get("content")
    if not isinstance(recorded, dict):
        raise DamagedEntry(f"{name} records no checksum of its content (run tools/checksum_cache.py once)")
    shapes = {k: [a.dtype.str, list(a.shape)] for k, a in sorted(arrays.items())}
    if shapes != recorded.get("arrays"):
        raise DamagedEntry(f"{name}: its arrays are not the ones it recorded (dtype or shape)")
    if content_record(entry["result"], arrays)["sha256"] != recorded.get("sha256"):
        raise DamagedEntry(f"{name}: its content does not match its checksum (edited after it was written)")


def _encode(value, arrays: dict[str, np.ndarray]):
    """``value`` as JSON-able data, its arrays moved into ``arrays``."""
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {ARRAY: name}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, arrays) for k, v in value.items()}
        return {ITEMS: [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a cache entry holds plain data only, not {type(value).__name__}")


def _decode(value, arrays):
    if isinstance(value, dict):
        if set(value) == {ARRAY}:
            return arrays[value[ARRAY]]
        if set(value) == {ITEMS}:
            return {_decode(k, arrays): _decode(v, arrays) for k, v in value[ITEMS]}
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _atomic(path: Path, write) -> None:
    """``write(temporary path)``, then rename it to ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone, or being replaced: not this prune's to delete


class Store:
    """The entries under ``folder``: ``put``, ``get``, ``has``, ``entries``, ``prune``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _paths(self, kind: str, key: str) -> tuple[Path, Path]:
        base = self.folder / kind / key
        return base.with_suffix(".json"), base.with_suffix(".npz")

    def has(self, kind: str, key: str) -> bool:
        """Whether the entry exists and reads back (a damaged one does not count)."""
        try:
            self.get(kind, key)
        except (KeyError, DamagedEntry):
            return False
        return True

    def put(self, kind: str, key: str, task: dict, result, machine: dict | None = None) -> None:
        """Write ``result`` (plain data and numpy arrays) under ``key``, with the task's description and the machine
        that computed it (not part of the key: see `ssl_study.study.keys.machine`)."""
        json_path, npz_path = self._paths(kind, key)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        entry = {"kind": kind, "key": key, "task": task, **({"machine": machine} if machine else {}),
                 "result": _encode(result, arrays)}
        entry["content"] = content_record(entry["result"], arrays)
        text = json.dumps(entry, indent=1, allow_nan=True) + "\n"
        if arrays:
            def write_arrays(tmp):
                with open(tmp, "wb") as fh:
                    np.savez(fh, **arrays)

            _atomic(npz_path, write_arrays)
        else:
            npz_path.unlink(missing_ok=True)
        _atomic(json_path, lambda tmp: Path(tmp).write_text(text))

    def get(self, kind: str, key: str):
        """The result stored under ``key``; `KeyError` where there is none, `DamagedEntry` where it cannot be read."""
        json_path, npz_path = self._paths(kind, key)
        if not json_path.exists():
            raise KeyError(key)
        try:
            entry = json.loads(json_path.read_text())
            if entry.get("key") != key:
                raise DamagedEntry(f"{json_path.name} holds another key")
            arrays = {}
            if npz_path.exists():
                with np.load(npz_path, allow_pickle=False) as z:
                    arrays = {name: z[name] for name in z.files}
            _check_content(entry, arrays, str(json_path.relative_to(self.folder)))
            return _decode(entry["result"], arrays)
        except DamagedEntry:
            raise
        except Exception as err:  # noqa: BLE001 -- any reading error: the entry is damaged
            raise DamagedEntry(f"{json_path.relative_to(self.folder)}: {type(err).__name__}") from err

    def entries(self, kind: str | None = None) -> list[tuple[str, str]]:
        """(kind, key) of every entry (of ``kind``)."""
        if kind:
            kinds = [kind]
        elif self.folder.exists():
            kinds = sorted(p.name for p in self.folder.iterdir() if p.is_dir())
        else:
            kinds = []
        return [(k, p.stem) for k in kinds for p in sorted((self.folder / k).glob("*.json"))]

    def entry(self, kind: str, key: str) -> dict:
        """The entry's record as stored (its task, the machine that computed it, its result without the arrays)."""
        return json.loads(self._paths(kind, key)[0].read_text())

    def task(self, kind: str, key: str) -> dict:
        """The description of the task stored under ``key``."""
        return self.entry(kind, key)["task"]

    def prune(self, keep: Iterable[tuple[str, str]], written_before: float | None = None) -> int:
        """Delete every entry not in ``keep`` ((kind, key) pairs) -- only those written before ``written_before`` (a
        time stamp) where given, so that a run never deletes what another run is writing -- and stray temporary files;
        returns the entries deleted."""
        keep = set(keep)
        removed = 0
        for kind, key in self.entries():
            json_path = self._paths(kind, key)[0]
            if written_before is not None and _mtime(json_path) >= written_before:
                continue
            if (kind, key) not in keep:
                for path in self._paths(kind, key):
                    path.unlink(missing_ok=True)
                removed += 1
        for stray in self.folder.glob("*/.*.tmp"):
            if written_before is None or _mtime(stray) < written_before:
                stray.unlink(missing_ok=True)
        return removed

    def clear(self) -> None:
        """Delete every entry (``--fresh``) -- its JSON and arrays, and stray temporary files -- and nothing else, also
        where the folder is a link to another (removing the link alone would leave every entry in place); a kind's
        folder left empty goes too."""
        for kind, key in self.entries():
            for path in self._paths(kind, key):
                path.unlink(missing_ok=True)
        for stray in self.folder.glob("*/.*.tmp"):
            stray.unlink(missing_ok=True)
        for folder in (p for p in self.folder.glob("*") if p.is_dir() and not p.is_symlink()):
            if not any(folder.iterdir()):
                folder.rmdir()

    def __len__(self) -> int:
        return len(self.entries())

