"""Recompute a sample of the committed results on this machine and compare them with the cached ones (`make verify`).

    MNIST_PNG=... .venv/bin/python -m ssl_study.run.verify [--fits 12] [--jobs 2] [--seed 0] [--output FILE]

The sample is stratified: every kind of fit (training from scratch; the Siamese encoder under the recipe, probed,
probed then fine-tuned, under k-NN and logistic regression) at both primary amounts, then one pretext run and one run
of the cheaper semi-supervised method, each under a seed drawn at random (``--seed``); ``--fits 2`` is CI's short
version (training from scratch at the two primary amounts). Each task is computed again in a scratch fit cache by the
study's own executor (worker processes, one thread per fit, as ``run_study.py`` computes them) and compared with the
committed entry: its accuracy and how many of the test images it classifies otherwise (a pretext run: its held-out
score and whether its weights are the same bits).

Where the committed entries were computed on a processor with the same kernels (`ssl_study.study.keys.machine`), every
result is the same bits. Elsewhere gradient-trained results differ in their last bits, which a few hundred training
steps grow into a few differently classified test images: the table says how many, and the sentence says whether every
difference is within `TOLERANCE` (docs/running.md, *Other machines*, says how it was measured). Features computed
otherwise can also move a k-NN or logistic-regression fit by a near-tie (``benchmarks/results/verify_cache.txt``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..study.tasks import from_plain
from ..study import keys
from ..compute.artefacts import meta_path
from ..config import FIT_CACHE_ENV, HEADLINE_PRETEXT, OUTPUT_ENV, PRIMARY_AMOUNTS
from ..study.design import Profile
from ..study.profiles import PROFILES
from ..study.executor import run_tasks
from ..study.methods import encoder_label, label
from ..study.store import Store
from ..study.tasks import kind_of

#: the largest difference between a committed result and one recomputed on another processor that `make verify` still
#: calls a match: test accuracy in points, and the share of test images classified otherwise (derived from what was
#: measured across kernel settings: benchmarks/results/cross_cpu.md; about four and three times the largest differences)
TOLERANCE = {"points": 1.0, "changed": 0.04}
#: the sample's fit kinds, each from the headline pretext's encoder (training from scratch from none)
FIT_KINDS = ("supervised", "recipe", "probe", "finetune", "knn", "logistic")


def committed_paths(profile: Profile) -> dict:
    """The split file and every saved encoder (identity -> file, from their side-cars) of ``profile``'s artefacts."""
    encoders = {}
    for path in profile.artefacts.glob("encoder_*.weights.h5"):
        identity = json.loads(meta_path(path).read_text()).get("identity")
        if identity:
            encoders[identity] = str(path)
    return {"split": str(profile.artefacts / "split.npz"), "encoders": encoders}


def group(task) -> str:
    """The kind of entry a task is: ``fit:finetune:siamese``, ``pretext:siamese:all``, ``semi:fixmatch:random``."""
    name = type(task).__name__
    if name == "Fit":
        encoder = (task.pretext or "none").split("_u")[0] + ("(part)" if "_u" in (task.pretext or "") else "")
        return f"fit:{task.kind}:{encoder}"
    if name == "PretextRun":
        return f"pretext:{task.pretext}:{'part' if task.part else 'all'}"
    return f"semi:{task.kind}:{'pretrained' if task.encoder else 'random'}"


def sample(store: Store, fits: int, seed: int = 0) -> list[tuple[str, object, str]]:
    """(group, task, key) of the stratified sample: the first ``fits`` of `FIT_KINDS` x `PRIMARY_AMOUNTS` (kind by
    kind), then, where ``fits`` covers them all, one Siamese pretext run on all the unlabelled images and one run of
    the cheaper semi-supervised method (by its committed seconds); one seed drawn at random in each."""
    rng = np.random.default_rng(seed)
    entries = [(kind, key, from_plain(store.task(kind, key))) for kind, key in store.entries()
               if kind in ("fit", "pretext", "semi")]
    strata = [lambda t, k=k, a=a: type(t).__name__ == "Fit" and t.kind == k and t.amount == a and
              t.encoder_name == ("none" if k == "supervised" else HEADLINE_PRETEXT)
              for k in FIT_KINDS for a in PRIMARY_AMOUNTS][:fits]
    if fits >= len(FIT_KINDS) * len(PRIMARY_AMOUNTS):
        semi = [(store.get("semi", key)["row"]["seconds"], t.kind) for kind, key, t in entries if kind == "semi"]
        cheaper = min(semi)[1] if semi else None
        strata += [lambda t: type(t).__name__ == "PretextRun" and t.pretext == HEADLINE_PRETEXT and not t.part,
                   lambda t: type(t).__name__ == "SemiRun" and t.kind == cheaper]
    chosen = []
    for wanted in strata:
        matching = sorted(((key, task) for kind, key, task in entries if wanted(task)), key=lambda kt: kt[0])
        if matching:
            key, task = matching[rng.integers(len(matching))]
            chosen.append((group(task), task, key))
    return chosen


def compare(task, committed: dict, fresh: dict, n_test: int) -> dict:
    """One row of the table: the task, the committed and the recomputed score, how many test images are classified
    otherwise (a pretext run: whether its weights are the same bits), and whether the results are identical."""
    if type(task).__name__ == "PretextRun":
        same = all(np.array_equal(a, b) for a, b in zip(committed["weights"], fresh["weights"]))
        return {"task": f"{encoder_label(task.pretext)} pretext run", "amount": "all unlabelled", "seed": task.seed,
                "score": "held-out score", "committed": committed["val_score"], "recomputed": fresh["val_score"],
                "changed": 0 if same else None, "n_test": None, "identical": same}
    old, new = committed["row"], fresh["row"]
    bits = [np.unpackbits(r["correct"], count=n_test).astype(bool) for r in (committed, fresh)]
    changed = int((bits[0] != bits[1]).sum())
    name = label(task.encoder_name, task.kind)
    return {"task": name, "amount": task.amount, "seed": task.seed, "score": "test accuracy",
            "committed": old["test_accuracy"], "recomputed": new["test_accuracy"], "changed": changed,
            "n_test": n_test, "identical": changed == 0 and old["test_accuracy"] == new["test_accuracy"]}


def within_tolerance(row: dict) -> bool:
    """Whether a row's difference is within `TOLERANCE` (a pretext run: its held-out score within the points)."""
    points = 100 * abs(row["committed"] - row["recomputed"])
    if row["n_test"] is None:
        return points <= TOLERANCE["points"]
    return points <= TOLERANCE["points"] and row["changed"] <= TOLERANCE["changed"] * row["n_test"]


def verdict(rows: list[dict]) -> str:
    """One sentence: bit-identical, within the tolerance, or not."""
    if all(r["identical"] for r in rows):
        return (f"All {len(rows)} recomputed results are identical to the committed ones, bit for bit: this machine "
                "computes what the committed run computed.")
    worst = max(rows, key=lambda r: abs(r["committed"] - r["recomputed"]))
    if all(within_tolerance(r) for r in rows):
        return (f"{sum(r['identical'] for r in rows)} of {len(rows)} recomputed results are identical to the committed "
                f"ones; the others differ by at most {100 * abs(worst['committed'] - worst['recomputed']):.2f} points "
                f"and {max((r['changed'] or 0) for r in rows)} test images, within the tolerance of "
                f"{TOLERANCE['points']:.1f} points and {TOLERANCE['changed']:.0%} of the test images that another "
                "processor's kernels explain (docs/running.md, Other machines).")
    return ("Some recomputed results differ from the committed ones by more than another processor's kernels explain "
            f"({TOLERANCE['points']:.1f} points or {TOLERANCE['changed']:.0%} of the test images): the committed "
            "results are not what this code computes here.")


def machine_words(m: dict | None) -> str:
    """A machine record (`keys.machine`) in words: processor, instruction-set extensions, kernel settings."""
    if not m:
        return "not recorded"
    words = m["cpu"] + (f" (family {m['family']}, model {m['model']})" if m.get("family") else "")
    if "isa" in m:
        settings = ", ".join(f"{k}={v}" for k, v in m["settings"].items() if k.startswith(("TF_ENABLE", "ONEDNN")))
        words += f"; {' '.join(m['isa'])}; {settings or 'oneDNN as TensorFlow sets it'}"
    return words + (f"; {', '.join(m['blas'])}" if m.get("blas") else "")


def machine_line() -> str:
    """This machine in one line."""
    return f"{machine_words(keys.machine())}; {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = ["| task | amount | seed | score | committed | recomputed | test images classified otherwise |",
             "|---|---|---:|---|---:|---:|---:|"]
    for r in rows:
        changed = ("same weights" if r["changed"] == 0 else "other weights") if r["n_test"] is None else \
            f"{r['changed']:,} of {r['n_test']:,}"
        lines.append(f"| {r['task']} | {r['amount']} | {r['seed']} | {r['score']} | {r['committed']:.4%} | "
                     f"{r['recomputed']:.4%} | {changed} |")
    return "\n".join(lines)


def recompute(chosen: list, profile: Profile, jobs: int) -> list[dict]:
    """The results of the chosen tasks computed again, in a scratch fit cache (probes before their fine-tuning)."""
    tasks = [task for _, task, _ in chosen]
    stages = [[t for t in tasks if getattr(t, "kind", "") != "finetune"],
              [t for t in tasks if getattr(t, "kind", "") == "finetune"]]
    with tempfile.TemporaryDirectory() as scratch:
        saved = {name: os.environ.pop(name, None) for name in (FIT_CACHE_ENV, OUTPUT_ENV)}
        os.environ[FIT_CACHE_ENV] = scratch
        try:
            results = run_tasks([s for s in stages if s], profile, committed_paths(profile), jobs, desc="recomputed")
        finally:
            for name, value in saved.items():
                os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    order = [t for s in stages if s for t in s]
    by_key = {keys.task_key(kind_of(t), t): r for t, r in zip(order, results)}
    return [by_key[key] for _, _, key in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fits", type=int, default=len(FIT_KINDS) * len(PRIMARY_AMOUNTS),
                        help="fits of the stratified sample (all of them, the default, adds a pretext and a "
                             "semi-supervised run)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="draws the seed of each stratum's task")
    parser.add_argument("--output", type=Path, help="also write the table and the sentence to this Markdown file")
    args = parser.parse_args(argv)
    profile = PROFILES["full"]
    store = Store(profile.cache)
    chosen = sample(store, args.fits, args.seed)
    fresh = recompute(chosen, profile, args.jobs)
    with np.load(profile.artefacts / "split.npz") as split:
        n_test = len(split["test"])
    rows = [compare(task, store.get(kind_of(task), key), result, n_test)
            for (_, task, key), result in zip(chosen, fresh)]
    committed_on = sorted({machine_words(store.entry(kind_of(task), key).get("machine")) for _, task, key in chosen})
    text = (f"Recomputed on: {machine_line()}\n\nCommitted entries computed on: {'; '.join(committed_on)}\n\n"
            f"{table(rows)}\n\n{verdict(rows)}\n")
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0 if all(within_tolerance(r) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
