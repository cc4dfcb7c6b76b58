"""One-off (issue 28): re-key the committed fit cache for the versions of the kinds of fit, computing nothing.

    .venv/bin/python tools/rekey_fits.py [--profile full]

Up to this change every fit's key held one version for all six kinds of fit (``VERSIONS["fit"]``). Now each kind is a
unit (`ssl_study.compute.fits`) whose own version enters its fits' keys besides (``unit_version``; a fine-tuning's key
holds its probe's version too, ``after_version``), so that a change of one kind's code re-keys its fits and those
that start from them alone. What each fit computes is unchanged, so every fit entry is moved to its new
key with its result as it is. Every old key is checked first (its task and the old key material give it); pretext and
semi-supervised keys are unchanged (checked too). Afterwards ``run_study.py`` computes nothing, and every results file
it writes is byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from ssl_study.study.tasks import from_plain
from ssl_study.study import keys
from ssl_study.study.profiles import PROFILES
from ssl_study.study.store import Store


def old_key(task, env: dict) -> str:
    """A fit's key before this change: the fit kind's version alone."""
    material = {"kind": "fit", "version": keys.VERSIONS["fit"], "task": keys.plain(task), "environment": env}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def rekey(store: Store, env: dict) -> int:
    """Move every fit entry of ``store`` to its new key; returns how many moved."""
    moves = []
    for _, key in store.entries("fit"):
        task = from_plain(store.task("fit", key))
        if old_key(task, env) != key:
            raise SystemExit(f"fit/{key}: its task and the old key material do not give its key; nothing moved")
        moves.append((key, keys.task_key("fit", task, env)))
    for key, new_key in moves:
        json_path, npz_path = store._paths("fit", key)
        new_json, new_npz = store._paths("fit", new_key)
        entry = json.loads(json_path.read_text())
        entry["key"] = new_key
        if npz_path.exists():
            npz_path.rename(new_npz)
        new_json.write_text(json.dumps(entry, indent=1, allow_nan=True) + "\n")
        json_path.unlink()
    return len(moves)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="full", choices=PROFILES)
    args = parser.parse_args(argv)
    store, env = Store(PROFILES[args.profile].cache), keys.environment()
    for kind in ("pretext", "semi"):
        for _, key in store.entries(kind):
            if keys.task_key(kind, from_plain(store.task(kind, key)), env) != key:
                raise SystemExit(f"{kind}/{key}: its key changed, which this tool does not expect; nothing moved")
    print(f"{args.profile}: {rekey(store, env)} fit entries moved to their new keys; pretext and semi-supervised "
          "entries checked, unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
