"""The study's quick profile on a Dask cluster of separate processes gives the results of the loky run.

    MNIST_PNG=... .venv/bin/python tools/dask_cluster_check.py [--workers 2] [--out benchmarks/results]

Starts ``dask scheduler`` and ``--workers`` ``dask worker`` processes (one thread each) on this machine, as a user
would across machines, runs ``run_study.py --profile quick --no-publish`` twice from empty scratch fit caches -- once
on loky workers, once on that cluster (``SSL_BACKEND=dask``, ``SSL_DASK_SCHEDULER``) -- and compares every results
file of the two runs, every column but the wall-clock seconds. Writes ``dask_cluster.json`` and prints one line per
file; exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from ssl_study.config import ARTEFACTS_DIR, BACKEND_ENV, DASK_ENV, FIT_CACHE_ENV, JOBS_ENV, PROFILE_ENV, ROOT
from ssl_study.study.design import default_jobs

RESULTS = ("results_supervised.csv", "results_pretrained.csv", "results_sweep.csv", "gains.csv", "summary.csv")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_quick(env: dict, keep: Path) -> float:
    """``run_study.py --profile quick --no-publish`` in ``env``; its staged artefacts are moved to ``keep``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_study.py"), "--profile", "quick", "--no-publish"], env=env,
                   check=True, cwd=ROOT)
    shutil.rmtree(keep, ignore_errors=True)
    shutil.move(ARTEFACTS_DIR / ".run-quick" / "artefacts" / "quick", keep)
    return time.perf_counter() - start


def differences(a: Path, b: Path) -> dict[str, str]:
    """Per results file: ``equal`` or what differs (wall-clock seconds left out)."""
    verdict = {}
    for name in RESULTS:
        left, right = pd.read_csv(a / name), pd.read_csv(b / name)
        drop = [c for c in left.columns if "seconds" in c]
        left, right = left.drop(columns=drop), right.drop(columns=drop)
        if left.equals(right):
            verdict[name] = f"equal ({len(left)} rows)"
            continue
        differ = (left != right) & ~(left.isna() & right.isna())
        rows = left[differ.any(axis=1)]
        keys = [c for c in ("method", "amount", "seed") if c in rows.columns]
        shown = "; ".join(" ".join(str(v) for v in row) for row in rows[keys].itertuples(index=False))
        verdict[name] = f"DIFFERENT in {len(rows)} of {len(left)} rows: {shown}"
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=default_jobs())
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="dask-check-"))
    base = {**os.environ, PROFILE_ENV: "quick", JOBS_ENV: str(args.workers)}
    base.pop(BACKEND_ENV, None)
    loky_seconds = run_quick({**base, FIT_CACHE_ENV: str(scratch / "loky-cache")}, scratch / "loky")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    logs = open(scratch / "cluster.log", "w")
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--dashboard-address", ":0"], stdout=logs, stderr=logs, env=base)]
    try:
        time.sleep(5)
        processes += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                        "--no-dashboard", "--name", f"worker-{k}"], stdout=logs, stderr=logs,
                                       env=base) for k in range(args.workers)]
        from dask.distributed import Client

        with Client(address) as client:
            client.wait_for_workers(args.workers, timeout=120)
            workers = len(client.scheduler_info()["workers"])
        dask_seconds = run_quick({**base, FIT_CACHE_ENV: str(scratch / "dask-cache"), BACKEND_ENV: "dask",
                                  DASK_ENV: address}, scratch / "dask")
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        logs.close()
    verdict = differences(scratch / "loky", scratch / "dask")
    for name, text in verdict.items():
        print(f"{name}: {text}")
    record = {"finished": time.strftime("%Y-%m-%d %H:%M"), "workers": workers, "loky_seconds": round(loky_seconds),
              "dask_seconds": round(dask_seconds), "files": verdict,
              "command": "tools/dask_cluster_check.py (dask scheduler + dask worker processes, quick profile)"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dask_cluster.json").write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0 if all(v.startswith("equal") for v in verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
