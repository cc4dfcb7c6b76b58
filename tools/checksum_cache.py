"""Record the checksum of every fit-cache entry written before entries carried one (issue 31), computing nothing.

    .venv/bin/python tools/checksum_cache.py [--profile full] [--check]

An entry now records its content (`ssl_study.study.store.content_record`: the sha256 of its result and arrays, each
array's dtype and shape), checked on every read, so that an entry edited by hand is named and computed again instead of
served. This adds the record to every entry of a profile's fit cache that has none, from the files as they are (run it
on a cache you trust: the committed one, after a clean run), leaves alone those that have one, and reports those whose
record does not match them. ``--check`` changes nothing: it counts the entries without a record and those that do not
match, and exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ssl_study.study.profiles import PROFILES
from ssl_study.study.store import DamagedEntry, Store, _atomic, content_record


def record(store: Store, kind: str, key: str, check: bool) -> str:
    """``added``, ``kept`` or ``damaged`` for one entry (``check``: write nothing)."""
    json_path, npz_path = store._paths(kind, key)
    try:
        entry = json.loads(json_path.read_text())
        arrays = {}
        if npz_path.exists():
            with np.load(npz_path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
    except Exception:  # noqa: BLE001 -- any file that cannot be read: damaged, computed again by the next run
        return "damaged"
    if "content" in entry:
        try:
            store.get(kind, key)
        except DamagedEntry:
            return "damaged"
        return "kept"
    if not check:
        entry["content"] = content_record(entry["result"], arrays)
        text = json.dumps(entry, indent=1, allow_nan=True) + "\n"
        _atomic(json_path, lambda tmp: open(tmp, "w").write(text))
    return "added"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="full", choices=sorted(PROFILES))
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if an entry has no good record")
    args = parser.parse_args()
    store = Store(PROFILES[args.profile].cache)
    counts = {"added": 0, "kept": 0, "damaged": 0}
    for kind, key in store.entries():
        counts[record(store, kind, key, args.check)] += 1
    verb = "without a record" if args.check else "given a record"
    print(f"{store.folder}: {counts['added']} entries {verb}, {counts['kept']} with a matching one, "
          f"{counts['damaged']} whose record does not match (damaged: computed again by the next run)")
    return 1 if args.check and (counts["added"] or counts["damaged"]) else 0


if __name__ == "__main__":
    sys.exit(main())
