"""Recompute a sample of the fit cache's entries from empty and compare them with the cached ones, exactly.

    MNIST_PNG=... .venv/bin/python tools/verify_cache.py [--per-kind 2] [--jobs 2] [--seed 0]

Draws, per kind of entry (supervised, probe, fine-tuning, k-NN and logistic regression fits on each kind of encoder;
pretext runs on all and on part of the unlabelled set; each semi-supervised method; t-SNE maps are left out),
``--per-kind`` entries of the full profile's committed cache, computes their tasks again in a scratch cache with the
study's own executor (worker processes, as ``run_study.py`` does), and compares every value of the two results except
wall-clock seconds. Prints one line per entry and exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

from ssl_study.study.tasks import from_plain
from ssl_study.study import keys
from ssl_study.study.profiles import PROFILES
from ssl_study.study.executor import run_tasks
from ssl_study.study.store import Store
from ssl_study.study.tasks import kind_of
from ssl_study.run.verify import committed_paths, group

TIMES = {"seconds"}  #: wall-clock fields, the only ones allowed to differ


def differences(a, b, where: str = "") -> list[str]:
    """Where two results differ (wall-clock seconds excepted)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{where}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a if k not in TIMES for d in differences(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return [] if np.array_equal(a, b, equal_nan=True) else [f"{where}: arrays differ"]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--groups", nargs="*", help="only these groups (prefixes, e.g. fit:supervised semi:)")
    parser.add_argument("--max-labels", type=int, default=None, help="only fits of at most this many labels")
    parser.add_argument("--keys", nargs="*", help="recompute these entries (key prefixes) instead of a sample")
    args = parser.parse_args(argv)
    profile = PROFILES["full"]
    committed = Store(profile.cache)
    env = keys.environment()
    by_group: dict[str, list] = {}
    for kind, key in committed.entries():
        if kind == "tsne":
            continue
        task = from_plain(committed.task(kind, key))
        assert keys.task_key(kind, task, env) == key, f"{kind}/{key}: its task does not give its key"
        if args.max_labels and getattr(task, "n_labels", 0) > args.max_labels:
            continue
        by_group.setdefault(group(task), []).append((task, key))
    rng = np.random.default_rng(args.seed)
    sample = []
    for name in sorted(by_group):
        chosen = rng.choice(len(by_group[name]), min(args.per_kind, len(by_group[name])), replace=False)
        if args.keys:
            sample += [(name, task, key) for task, key in by_group[name] if key.startswith(tuple(args.keys))]
        elif not args.groups or any(name.startswith(g) for g in args.groups):
            sample += [(name, *by_group[name][i]) for i in sorted(chosen)]
    paths = committed_paths(profile)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["SSL_FIT_CACHE"] = scratch
        os.environ.pop("SSL_OUTPUT", None)
        tasks = [task for _, task, _ in sample]
        # a fine-tuning reads its probe from the cache: the probes first, as the notebooks' stages do
        stages = [[t for t in tasks if getattr(t, "kind", "") != "finetune"],
                  [t for t in tasks if getattr(t, "kind", "") == "finetune"]]
        results = run_tasks([s for s in stages if s], profile, paths, args.jobs, desc="recomputed")
        ordered = [t for s in stages if s for t in s]
        fresh = {keys.task_key(kind_of(t), t, env): r for t, r in zip(ordered, results)}
    failures = 0
    for name, task, key in sample:
        diff = differences(committed.get(kind_of(task), key), fresh[key])
        failures += bool(diff)
        print(f"{'same' if not diff else 'DIFFERENT'}  {name:34s} {key[:12]}  {'; '.join(diff[:3])}")
    print(f"{len(sample) - failures} of {len(sample)} recomputed entries equal their cached ones exactly "
          "(wall-clock seconds excepted)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
