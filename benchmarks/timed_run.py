"""The full profile's wall time, measured even when the run is interrupted and resumed from the fit cache.

    MNIST_PNG=... .venv/bin/python benchmarks/timed_run.py -- --fresh # the first part: from an empty fit cache
    MNIST_PNG=... .venv/bin/python benchmarks/timed_run.py            # a later part: resumes from the fit cache
    .venv/bin/python benchmarks/timed_run.py --report                 # only rewrite the summary
    MNIST_PNG=... .venv/bin/python benchmarks/timed_run.py --log addendum_run  # a later run, logged apart (issue 29)

Runs ``run_study.py --jobs 2`` (more arguments after ``--`` go to it) and appends one line per part to
``benchmarks/results/confirmatory_run.jsonl``: when it started and ended, its wall seconds, its exit status, the commit
it ran, and the runner's last line (how many tasks it computed). A part that is stopped (Ctrl-C, the end of a session)
still records the seconds it ran; a part killed outright (the machine going away) is recorded by the next part from
its heartbeat (``.confirmatory_run.heartbeat``, rewritten every 30 seconds). ``confirmatory_run.md`` sums the parts: the
wall time the run cost in all, against the budget of 240 minutes with two jobs.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time

import pandas as pd

import helpers

RESULTS = helpers.ROOT / "benchmarks" / "results"
LOG = RESULTS / "confirmatory_run.jsonl"  #: the log of the run being timed (``--log``: another name)
REPORT = LOG.with_suffix(".md")
HEARTBEAT = LOG.with_name(".confirmatory_run.heartbeat")
BUDGET_MINUTES = 240


def use_log(name: str) -> None:
    """Time the run under ``name`` (``confirmatory_run``; ``addendum_run``: the addendum's new fits, issue 29): its log,
    summary and heartbeat."""
    global LOG, REPORT, HEARTBEAT
    LOG = RESULTS / f"{name}.jsonl"
    REPORT, HEARTBEAT = LOG.with_suffix(".md"), LOG.with_name(f".{name}.heartbeat")


def report() -> str:
    """The summary of the logged parts, written to ``confirmatory_run.md``."""
    parts = pd.DataFrame([json.loads(line) for line in LOG.read_text().splitlines() if line.strip()])
    parts["minutes"] = parts["wall_s"] / 60
    total = parts["minutes"].sum()
    text = (f"The full profile's run ({LOG.stem.replace('_', ' ')}), timed by `benchmarks/timed_run.py` in {len(parts)} part"
            f"{'s' if len(parts) != 1 else ''} (a part ends when the run finishes or is stopped; the next resumes from "
            f"the fit cache): **{total:.0f} minutes** of wall time in all with two jobs on this 2-core machine, "
            f"against a budget of {BUDGET_MINUTES}.\n\n"
            + parts[["started", "ended", "commit", "exit", "minutes", "last_line"]].to_markdown(
                index=False, floatfmt=".1f") + "\n")
    REPORT.write_text(text)
    return text


def _log(entry: dict) -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as log:
        log.write(json.dumps(entry) + "\n")


def _recover_killed_part() -> None:
    """Log the part whose heartbeat is still there: it was killed before it could log itself."""
    if HEARTBEAT.exists():
        beat = json.loads(HEARTBEAT.read_text())
        _log({**beat["entry"], "ended": beat["last"], "wall_s": beat["wall_s"], "exit": "killed",
              "last_line": beat["entry"].get("last_line", "")})
        HEARTBEAT.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", action="store_true", help="only rewrite the summary from the log")
    parser.add_argument("--log", default="confirmatory_run", help="the name of the log and summary in results/")
    parser.add_argument("rest", nargs="*", help="more arguments for run_study.py (after --)")
    args = parser.parse_args()
    use_log(args.log)
    if not args.report:
        import threading

        _recover_killed_part()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=helpers.ROOT).stdout.strip()
        started, start = time.strftime("%Y-%m-%d %H:%M"), time.perf_counter()
        process = subprocess.Popen([sys.executable, str(helpers.ROOT / "run_study.py"), "--jobs", "2", *args.rest],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=helpers.ROOT)
        last = ""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(30):
                HEARTBEAT.write_text(json.dumps({"entry": {"started": started, "commit": commit, "last_line": last},
                                                 "last": time.strftime("%Y-%m-%d %H:%M"),
                                                 "wall_s": round(time.perf_counter() - start, 1)}))

        threading.Thread(target=beat, daemon=True).start()
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                last = line.strip() or last
            code = process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            code = process.wait()
        finally:
            stop.set()
            _log({"started": started, "ended": time.strftime("%Y-%m-%d %H:%M"), "commit": commit,
                  "wall_s": round(time.perf_counter() - start, 1), "exit": process.poll(), "last_line": last[:200]})
            HEARTBEAT.unlink(missing_ok=True)
        print(report())
        if code == 0:  # the README quotes the summed wall time, this part included
            subprocess.run([sys.executable, str(helpers.ROOT / "run_study.py"), "--readme"], cwd=helpers.ROOT)
        sys.exit(code)
    print(report())


if __name__ == "__main__":
    main()
