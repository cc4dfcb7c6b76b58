"""Why a fit differs in its last bits on another processor, and what a portable path costs: bits and speed.

    MNIST_PNG=... .venv/bin/python benchmarks/cross_cpu.py [--repeats 2]
    .venv/bin/python benchmarks/cross_cpu.py --from-json      # the table again from cross_cpu.json

TensorFlow picks its CPU kernels at run time: its oneDNN operations (``TF_ENABLE_ONEDNN_OPTS``) are on by default only
on processors with AVX-512 VNNI, BF16 or AMX, and oneDNN -- whose matrix products the other kernels call too -- picks
its code from the processor's instruction-set extensions (``ONEDNN_MAX_CPU_ISA`` caps them). Another processor runs
other code, whose sums round otherwise in their last bits, and a few hundred training steps grow those bits into a few
differently classified test images. This benchmark recomputes committed fits (`FITS`: training from scratch and the
Siamese encoder under the recipe, at 10 labels per class) in subprocesses under each kernel setting of `SETTINGS` --
the default; oneDNN capped at AVX2; oneDNN's operations off; both, which is what an AVX2 processor runs by default --
each ``--repeats`` times, and compares each result with the committed entry: accuracy, test images classified
otherwise, whether the bits repeat, and the fit's own training seconds (medians). It writes
``benchmarks/results/cross_cpu.{json,md}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SETTINGS = {
    "default (oneDNN, dispatched on this processor)": {},
    "oneDNN capped at AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "oneDNN operations off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "oneDNN operations off, capped at AVX2 (an AVX2 processor's default)": {"TF_ENABLE_ONEDNN_OPTS": "0",
                                                                           "ONEDNN_MAX_CPU_ISA": "AVX2"},
}
#: (method, amount, seed) of the committed fits recomputed; the first is the one issue 27 recomputed on an AVX2 machine
FITS = (("supervised", "10/class", 0), ("siamese_recipe", "10/class", 3))


def child() -> None:
    """In a subprocess under one setting: recompute `FITS` one after the other, print their results as JSON."""
    import numpy as np

    from ssl_study.study import keys
    from ssl_study.study.profiles import PROFILES
    from ssl_study.study.store import Store
    from ssl_study.run.verify import recompute

    profile = PROFILES["full"]
    store = Store(profile.cache)
    chosen = []
    for kind, key in store.entries("fit"):
        task = keys.from_plain(store.task(kind, key))
        if (task.method, task.amount, task.seed) in FITS:
            chosen.append((task.method, task, key))
    chosen.sort(key=lambda c: FITS.index((c[1].method, c[1].amount, c[1].seed)))
    out = []
    for (method, task, key), fresh in zip(chosen, recompute(chosen, profile, jobs=1)):
        old = store.get("fit", key)
        n_test = 14_000
        bits = [np.unpackbits(r["correct"], count=n_test) for r in (old, fresh)]
        out.append({"fit": f"{method} {task.amount} seed {task.seed}", "committed": old["row"]["test_accuracy"],
                    "recomputed": fresh["row"]["test_accuracy"], "changed": int((bits[0] != bits[1]).sum()),
                    "bits": hashlib.sha256(fresh["correct"].tobytes()).hexdigest()[:16],
                    "seconds": fresh["row"]["seconds"]})
    print(json.dumps({"machine": keys.machine(), "fits": out}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--from-json", action="store_true", help="write the table again from cross_cpu.json")
    args = parser.parse_args(argv)
    if args.child:
        child()
        return 0
    if args.from_json:
        write(json.loads((RESULTS / "cross_cpu.json").read_text()))
        return 0
    runs: dict[str, list] = {name: [] for name in SETTINGS}
    machine = None
    for repeat in range(args.repeats):
        for name, setting in SETTINGS.items():  # interleaved, so that a noisy minute touches every setting alike
            env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA")}
            done = subprocess.run([sys.executable, __file__, "--child"], env={**env, **setting}, cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            record = json.loads(done.stdout.strip().splitlines()[-1])
            machine = machine or {k: v for k, v in record["machine"].items() if k != "settings"}
            runs[name].append(record["fits"])
            print(f"repeat {repeat + 1}, {name}: " + "; ".join(f"{f['fit']} {f['recomputed']:.4%} "
                                                              f"({f['changed']} changed, {f['seconds']:.1f} s)"
                                                              for f in record["fits"]), flush=True)
    rows = []
    for name, repeats in runs.items():
        for i, fit in enumerate(repeats[0]):
            rows.append({"setting": name, "fit": fit["fit"], "committed": fit["committed"],
                         "recomputed": fit["recomputed"], "changed": fit["changed"],
                         "repeatable": len({r[i]["bits"] for r in repeats}) == 1, "bits": fit["bits"],
                         "seconds": statistics.median(r[i]["seconds"] for r in repeats)})
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine, "repeats": args.repeats, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cross_cpu.json").write_text(json.dumps(record, indent=1) + "\n")
    write(record)
    return 0


def write(record: dict) -> None:
    """``cross_cpu.md``: the record as a table."""
    machine, rows = record["machine"], record["rows"]
    base = {r["fit"]: r["seconds"] for r in rows if r["setting"] == rows[0]["setting"]}
    lines = [f"Measured {record['date']} on {machine['cpu']} (family {machine['family']}, model {machine['model']}; "
             f"{' '.join(machine['isa'])}), {machine['versions']}; `benchmarks/cross_cpu.py --repeats "
             f"{record['repeats']}` (each fit recomputed in a subprocess per setting and repeat, one thread).", "",
             "| setting | fit | committed | recomputed | test images classified otherwise | same bits on repeat | "
             "bits (sha256 of its predictions) | training seconds (median) | time vs default |",
             "|---|---|---:|---:|---:|---|---|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['fit']} | {r['committed']:.4%} | {r['recomputed']:.4%} | "
                     f"{r['changed']} of 14,000 | {'yes' if r['repeatable'] else 'no'} | `{r['bits']}` | "
                     f"{r['seconds']:.1f} | {r['seconds'] / base[r['fit']]:.2f} |")
    (RESULTS / "cross_cpu.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
