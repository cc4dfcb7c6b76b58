"""How long ``make test`` takes on this machine (issue 30: at most ten minutes on a quiet two-core machine), as CI runs
it: a fresh clone of this repository's HEAD, its environment installed (``make setup``, not timed), then ``make test``
timed, ``runs`` times, each from a clean tree (no decoded data, no fit cache). The course's archives come from ``$MNIST_PNG`` and ``$FASHION_PNG``, as under ``.ci/run``.
Each run records its wall time, its exit status, pytest's count of passed tests and the load average of the minute
before it started (a machine busy with other work says so in the table).

    MNIST_PNG=... FASHION_PNG=... .venv/bin/python -m benchmarks.make_test --runs 3

Writes ``benchmarks/results/make_test.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import helpers

OUT = helpers.ROOT / "benchmarks" / "results" / "make_test"
LIMIT_S = 600  #: issue 30's bound


def one_run(repo: Path) -> dict:
    """``make test`` in ``repo`` as a fresh clone has it (everything git does not track removed but the environment:
    no decoded data, no fit cache), timed; its exit status and pytest's count of passed tests."""
    subprocess.run(["git", "clean", "-xdfq", "-e", ".venv"], cwd=repo, check=True)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=repo, capture_output=True, text=True, env={**os.environ, "CI": "true"})
    wall = time.perf_counter() - start
    passed = re.findall(r"(\d+) passed", done.stdout)
    return {"wall_s": round(wall, 1), "exit": done.returncode, "passed": int(passed[-1]) if passed else 0,
            "load_before": round(load, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--from-json", action="store_true", help="measure nothing: the table from the saved runs")
    args = parser.parse_args(argv)
    if args.from_json:
        write_table(json.loads(OUT.with_suffix(".json").read_text()))
        return
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=helpers.ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "--quiet", str(helpers.ROOT), str(repo)], check=True)
        subprocess.run(["make", "setup"], cwd=repo, check=True, capture_output=True)
        for _ in range(args.runs):
            runs.append(one_run(repo))
            print(runs[-1], flush=True)
    median = statistics.median(r["wall_s"] for r in runs)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "commit": commit, "cpus": os.cpu_count(), "runs": runs,
              "median_s": median, "limit_s": LIMIT_S}
    OUT.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    write_table(result)


def write_table(result: dict) -> None:
    """``make_test.md`` from the measured ``result`` (``--from-json``: from the saved one)."""
    runs, median = result["runs"], result["median_s"]
    rows = "\n".join(f"| {i} | {r['wall_s'] / 60:.2f} | {r['exit']} | {r['passed']} | {r['load_before']} |"
                     for i, r in enumerate(runs, 1))
    OUT.with_suffix(".md").write_text(
        f"Measured {result['date']} on commit {result['commit']} (`python -m benchmarks.make_test --runs "
        f"{len(runs)}`), {result['cpus']} CPUs, nothing else running: `make test` on a fresh clone, its environment "
        "installed first (not timed), each run from a clean tree (no decoded data, no fit cache).\n\n"
        "| run | minutes | exit | passed | load before |\n|---:|---:|---:|---:|---:|\n" + rows + "\n\n"
        f"Median: **{median / 60:.2f} minutes** ({'within' if median <= LIMIT_S else 'over'} the {LIMIT_S // 60} "
        "minutes of issue 30). The load before a run is the system's one-minute average when it starts, which holds "
        "the end of the run before it.\n")

if __name__ == "__main__":
    main()
