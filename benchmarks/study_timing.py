"""The timed runs of the study that `benchmark.py` makes: with ``--study``, the quick profile's notebooks; with
``--runs``, the study as a user runs it (each ``run_study.py --no-publish`` in a subprocess, with a fit cache in a
scratch folder, so that the committed notebooks, artefacts and fit cache are never touched).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ssl_study.compute.artefacts import file_sha256
from ssl_study.config import ARTEFACTS_DIR, NOTEBOOK_COMPARISON, ROOT
from ssl_study.study.executor import COMPUTED_FILE, count_cached, noted_keys
from ssl_study.report.publishing import stage_of

ROOT = ROOT

#: the runs ``--runs`` can measure: the full profile from an empty fit cache with two parallel jobs; again with nothing
#: changed, from a copy of the committed fit cache (``artefacts/full/cache``; ``--times``: several runs, each from a
#: fresh copy); after an edit to notebook 6 alone (on that copy); sequentially from an empty cache with a Ctrl-C at
#: about half-way, then the run that continues from the cache; whether that sequential run's results equal the
#: published ones; the quick profile from an empty cache; and the quick profile's Ctrl-C at about half-way, then its
#: continuation
RUNS = ("empty-jobs2", "unchanged", "only-06", "sequential-interrupted", "compare", "quick", "quick-interrupted")
COMMITTED_CACHE = ARTEFACTS_DIR / "full" / "cache"


def study_times() -> dict:
    """Run the quick profile of the study in a subprocess; read the full profile's recorded timings."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run_study.py"), "--profile", "quick"], check=True,
                   stdout=subprocess.DEVNULL)
    quick_wall = time.perf_counter() - start
    times = {"quick": json.loads((ARTEFACTS_DIR / "quick" / "timings.json").read_text())}
    times["quick"]["wall_seconds_with_startup"] = round(quick_wall, 1)
    full = ARTEFACTS_DIR / "full" / "timings.json"
    if full.exists():
        times["full"] = json.loads(full.read_text())
    return times


def compare_with_published() -> dict:
    """Whether the last run's staged results (``artefacts/.run-full``, e.g. of the sequential run from an empty cache)
    equal the published ones in every column but the seconds, and whether its encoders are byte-identical."""
    import pandas as pd

    staged, published = stage_of("full") / "artefacts" / "full", ARTEFACTS_DIR / "full"
    same = {}
    for name in ("results_supervised.csv", "results_pretrained.csv", "summary.csv", "gains.csv"):
        a, b = pd.read_csv(published / name), pd.read_csv(staged / name)
        same[name] = bool(a.drop(columns="seconds", errors="ignore").equals(b.drop(columns="seconds", errors="ignore")))
    for path in sorted(published.glob("encoder_*.weights.h5")):
        same[path.name] = file_sha256(path) == file_sha256(staged / path.name)
    return {"staged_from": json.loads((staged / "timings.json").read_text())["finished"], "equal": same,
            "all_equal": all(same.values())}


def study_processes() -> list[list[str]]:
    """The arguments of every ``run_study.py`` process running on this machine (read from /proc; none elsewhere)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = [a.decode(errors="replace") for a in cmdline.read_bytes().split(b"\0") if a]
        except OSError:  # the process ended meanwhile
            continue
        if any(a.endswith("run_study.py") for a in args):
            found.append(args)
    return found


def check_no_other_run(profile: str) -> None:
    """Refuse to start a run of ``profile`` while another is running: every run of a profile stages its files in the
    same folder (``artefacts/.run-<profile>``), which a new run empties."""
    for args in study_processes():
        other = args[args.index("--profile") + 1] if "--profile" in args[:-1] else os.environ.get("SSL_PROFILE", "full")
        if other == profile:
            raise RuntimeError(f"another run of the {profile} profile is running ({' '.join(args)}): it stages its "
                               f"files in {stage_of(profile).relative_to(ROOT)}, as this one would; wait for it to end")


def timed_run(cache: Path, *args: str, profile: str = "full", interrupt_after: float | None = None) -> dict:
    """Wall time of ``run_study.py --no-publish ARGS`` (a run of ``profile``) with the fit cache at ``cache``: entries
    in the cache before and after, and the tasks the run says it computed (its staging folder's list, complete for a
    run that ends; an interrupted run's in-flight stage is missing from it). With ``interrupt_after``, SIGINT to its
    whole process group after that many seconds (as Ctrl-C in a terminal does). A run that fails raises
    `RuntimeError`: its time measures nothing."""
    check_no_other_run(profile)
    env = {**os.environ, "SSL_FIT_CACHE": str(cache)}
    before = count_cached(cache)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "run_study.py"), "--no-publish", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=interrupt_after)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate()
    seconds = time.perf_counter() - start
    last = [line.strip() for line in output.splitlines() if line.startswith("[")][-1:]
    expected = (0, 130) if interrupt_after is not None else (0,)  # 130: interrupted; 0: it ended before the Ctrl-C
    if process.returncode not in expected:
        raise RuntimeError(f"run_study.py {' '.join(args)} failed (exit status {process.returncode}): nothing is "
                           "recorded. Its output ends:\n" + "\n".join(output.splitlines()[-15:]))
    return {"command": "run_study.py --no-publish " + " ".join(args), "date": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": round(seconds, 1), "returncode": process.returncode, "fits_before": before,
            "fits_after": count_cached(cache), "computed": len(noted_keys(stage_of(profile), COMPUTED_FILE)),
            "last_line": last[0] if last else ""}


def repeated_run(times: int, prepare: Callable[[], Path], *args: str, profile: str = "full") -> dict:
    """`timed_run` ``times`` times, each with the cache ``prepare()`` returns: the last run's record, its ``seconds``
    the median of all (each run's in ``runs_seconds``)."""
    runs = [timed_run(prepare(), *args, profile=profile) for _ in range(times)]
    seconds = [run["seconds"] for run in runs]
    return {**runs[-1], "seconds": round(float(np.median(seconds)), 1), "runs_seconds": seconds,
            "computed_each": [run["computed"] for run in runs]}


def interrupted_then_resumed(cache: Path, *args: str, profile: str, interrupt_after: float) -> dict:
    """From an empty fit cache at ``cache``: a run interrupted after ``interrupt_after`` seconds, then the run that
    continues from what it left in the cache."""
    shutil.rmtree(cache, ignore_errors=True)
    first = timed_run(cache, *args, profile=profile, interrupt_after=interrupt_after)
    resumed = timed_run(cache, *args, profile=profile)
    return {"interrupted": first, "resumed": resumed, "total_seconds": round(first["seconds"] + resumed["seconds"], 1)}


def study_runs(which: list[str], scratch: Path, interrupt_after: float | None, times: int = 1) -> dict:
    """The measurements named in ``which`` (see `RUNS`), in that order, each with its fit cache under ``scratch``;
    ``times``: runs of ``unchanged`` and ``only-06`` (the median is reported)."""
    results = {}
    parallel, committed = scratch / "cache-jobs2", scratch / "cache-committed"

    def committed_copy(fresh: bool) -> Path:
        """A copy of the committed fit cache (a fresh one with ``fresh``): the original is never written to."""
        if fresh or not committed.exists():
            shutil.rmtree(committed, ignore_errors=True)
            shutil.copytree(COMMITTED_CACHE, committed)
        return committed

    for name in which:
        print(f"[benchmark] {name} ...", flush=True)
        if name == "empty-jobs2":
            shutil.rmtree(parallel, ignore_errors=True)
            results[name] = timed_run(parallel, "--jobs", "2")
        elif name == "unchanged":
            results[name] = repeated_run(times, lambda: committed_copy(fresh=True), "--jobs", "2")
        elif name == "only-06":
            results[name] = repeated_run(times, lambda: committed_copy(fresh=False), "--jobs", "2", "--only",
                                         NOTEBOOK_COMPARISON)
        elif name == "quick":  # the CI profile, from an empty fit cache
            shutil.rmtree(scratch / "cache-quick", ignore_errors=True)
            results[name] = timed_run(scratch / "cache-quick", "--profile", "quick", profile="quick")
        elif name == "compare":
            results[name] = compare_with_published()
        elif name == "sequential-interrupted":
            results[name] = interrupted_then_resumed(scratch / "cache-sequential", "--jobs", "1", profile="full",
                                                     interrupt_after=interrupt_after)
        elif name == "quick-interrupted":
            results[name] = interrupted_then_resumed(scratch / "cache-quick-resume", "--profile", "quick",
                                                     profile="quick", interrupt_after=interrupt_after)
        print(f"[benchmark] {name}: {json.dumps(results[name])}", flush=True)
    return results


def default_interrupt(name: str, runs: dict) -> float | None:
    """Seconds before the Ctrl-C of ``name``, about half-way: the full profile with two jobs takes about half as long
    as the sequential run (``sequential-interrupted``); half of the quick profile's run from an empty cache
    (``quick-interrupted``). None for the other runs, or when the run it is derived from was never measured."""
    if name == "sequential-interrupted" and "empty-jobs2" in runs:
        return runs["empty-jobs2"]["seconds"]
    if name == "quick-interrupted" and "quick" in runs:
        return runs["quick"]["seconds"] / 2
    return None
