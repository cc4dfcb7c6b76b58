"""What a start-up costs to recognise a course folder it has decoded before (issue 31): reading and hashing every PNG
(`source_fingerprint`, what every start did) against a stat of every file checked against the recorded signature
(`data._fingerprint` with its index in place, what a start does now), on the course's 70,000 MNIST PNGs unpacked into
a temporary folder. Medians of five runs of each, alternated in one process: warm (the files in the page cache) and,
where the system lets this process empty its caches (``/proc/sys/vm/drop_caches``, as root), then cold; the ratios are
measured in that run.

    MNIST_PNG=... .venv/bin/python -m benchmarks.startup_fingerprint

Writes ``benchmarks/results/startup_fingerprint.{json,md}``.
"""

from __future__ import annotations

import json
import os
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import helpers
from ssl_study.compute import data, sources

OUT = helpers.ROOT / "benchmarks" / "results" / "startup_fingerprint"
RUNS = 5
DROP = Path("/proc/sys/vm/drop_caches")


def can_drop() -> bool:
    """Whether this process may empty the system's page, dentry and inode caches."""
    return DROP.exists() and os.access(DROP, os.W_OK)


def drop_caches() -> None:
    os.sync()
    DROP.write_text("3\n")


def main() -> None:
    archive = data.find_source()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (folder,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        index = Path(tmp) / "index.json"
        data.SETTLED_NS = 0  # the files were just unpacked; a reader's are older than the two seconds asked
        expected = data._fingerprint(folder, index)  # records the index (and warms the page cache)
        ways = {"read and hash every file": lambda: sources.source_fingerprint(folder),
                "stat every file, index read back": lambda: data._fingerprint(folder, index)}
        timings = {f"{name}, {state}": [] for state in ("warm", "cold")[:1 + can_drop()] for name in ways}
        for state in ("warm", "cold")[:1 + can_drop()]:  # warm first: a cold run leaves the caches empty
            for _ in range(RUNS):
                for name, way in ways.items():
                    if state == "cold":
                        drop_caches()
                    start = time.perf_counter()
                    assert way() == expected
                    timings[f"{name}, {state}"].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    files = sum(1 for _ in sources.iter_source(archive) if _[1] is not None)
    states = sorted({name.rsplit(", ", 1)[1] for name in timings}, reverse=True)
    ratios = {state: medians[f"read and hash every file, {state}"] / medians[f"stat every file, index read back, {state}"]
              for state in states}
    result = {"files": files, "runs": RUNS, "median_s": medians, "runs_s": timings, "ratio": ratios}
    OUT.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"Recognising the course's {files:,} MNIST PNGs, unpacked into a folder, at a start-up "
             f"(`benchmarks/startup_fingerprint.py`; medians of {RUNS} runs, alternated; cold: the system's caches "
             "emptied before each):", "",
             "| how | seconds |", "|:--|--:|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in medians.items()]
    lines += ["", "The stat check is " + " and ".join(f"{ratio:.1f} times faster {state}" for state, ratio in ratios.items())
              + " in this run."]
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
