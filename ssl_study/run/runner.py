"""Run the six notebooks in order (papermill), render them as HTML, and publish them only when all succeed.

    python run_study.py                       # full profile: the committed notebooks, artefacts, figures, HTML
    python run_study.py --jobs 2              # fits at once (default: $SSL_JOBS, else one per core)
    python run_study.py --only 02_supervised_baseline.ipynb   # one notebook, on the artefacts of the others
    python run_study.py --fresh               # empty the fit cache first: recompute every fit
    python run_study.py --profile quick       # the CI profile: everything under artefacts/quick/
    python run_study.py -p SEED 7 --only 01_split.ipynb   # papermill parameters: explore; nothing is published

The notebooks run in a staging folder (``artefacts/.run-<profile>/``): their artefacts, figures, executed notebooks and
HTML go there, and replace the published ones (``artefacts/<profile>/``, ``figures/``, ``notebooks/``, ``reports/``)
only when every notebook has succeeded, all of them or none (`ssl_study.report.publishing`). A failure or Ctrl-C
leaves the published files as they were, and stops the kernel and its workers; the fits that finished are kept in the
fit cache, so the next run continues where this one stopped. One run of a profile at a time: a second says which run
holds the profile (or waits for it: ``--wait``); an exploration run (``-p``) stages in a folder of its own and
publishes nothing. Bad settings or data stop a run before its first notebook, in one sentence.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..compute import artefacts as art
from .. import config
from ..config import (DATASET_ENV, DATASETS, DEFAULT_DATASET, FIT_CACHE_ENV, JOBS_ENV, NOTEBOOK_COMPARISON,
                      NOTEBOOKS, OUTPUT_ENV, PROFILE_ENV, Layout, get_dataset)
from ..study.design import Profile, SettingError, check_size, default_jobs, parse_jobs
from ..study.profiles import PROFILES, check_settings, get_profile
from ..compute.data import DataError, find_source, load_mnist
from ..study.executor import COMPUTED_FILE, noted_keys
from .kernels import Ahead
from ..report.publishing import LockedError, PublishError, explore_stage, prepare_stage, publish, recover, run_lock
from ..study.store import Store
from .pages import (PROGRESS, QUESTION, TEMPLATES, fold_appendix, front_figure, in_dataset_words_of, render_html,
                    stable_table_ids, without_progress, write_index)


#: the kernels of the running run's notebooks, each started while the one before it runs (`ssl_study.run.kernels`)
_ahead: Ahead | None = None


def executed_path(stage: Path, profile_name: str, name: str) -> Path:
    """Where a run stages the executed notebook ``name``: ``notebooks/`` (full profile) or the profile's artefacts."""
    return Layout(stage).executed(profile_name) / name


def execute(name: str, stage: Path, profile_name: str, parameters: dict) -> dict:
    """Execute one notebook with papermill (cwd: notebooks/), tidy its outputs, save it and render it as HTML."""
    import nbformat
    import papermill
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    out = executed_path(stage, profile_name, name)
    html_dir = Layout(stage).pages(profile_name)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _kernel_stderr_to(stage / "kernels.log"):
        km = _ahead.take(name) if _ahead else None  # its kernel, started while the notebook before it ran
        if _ahead:
            _ahead.start_after(name)
        try:
            papermill.execute_notebook(config.PROJECT.notebooks / name, out, parameters=parameters or None,
                                       kernel_name="python3", cwd=str(config.PROJECT.notebooks), progress_bar=False,
                                       request_save_on_cell_execute=False,
                                       **({"km": km} if km is not None else {}))
        finally:
            if km is not None:
                Ahead.stop(km)
    seconds = time.perf_counter() - start
    nb = nbformat.read(out, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})  # a progress bar's updates collapse to its last line
    nb.metadata.pop("papermill", None)  # run times and paths: noise in the committed notebooks' diffs
    nb.metadata["profile"] = profile_name  # what it was executed in (the page shows results, not settings)
    table_ids: dict[str, str] = {}  # one numbering for the whole notebook
    in_dataset_words_of(nb, get_dataset())  # written for MNIST: another dataset's pages in its own words
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in map(without_progress, cell.outputs) if o is not None]
        for output in cell.get("outputs", []):
            if "text/html" in output.get("data", {}):
                output["data"]["text/html"] = stable_table_ids(output["data"]["text/html"], table_ids)
            if "text/plain" in output.get("data", {}):  # "<...Styler at 0x7f...>": an address, new in every run
                output["data"]["text/plain"] = re.sub(r" at 0x[0-9a-f]+>", ">", output["data"]["text/plain"])
    nbformat.write(nb, out)
    html_dir.mkdir(parents=True, exist_ok=True)
    (html_dir / out.with_suffix(".html").name).write_text(render_html(nb, Path(name).stem), encoding="utf-8")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kernels and their workers, so far
    return {"notebook": name, "seconds": round(seconds, 1), "kernel_peak_mb_so_far": round(peak_mb)}


@contextlib.contextmanager
def _kernel_stderr_to(log: Path) -> Iterator[None]:
    """Send what the kernel and its workers write to the terminal (file descriptor 2, which they inherit: the
    transport warning, the "KeyboardInterrupt caught in kernel" of its shutdown) to ``log`` instead; a cell's own
    errors reach the notebook and the runner's one-line message as before."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


#: the timings of the last full run from an empty fit cache (``--fresh``), which the README quotes
FROM_EMPTY = Path("benchmarks", "results", "full_profile_from_empty.json")  #: in the project


def write_timings(profile_name: str, stage: Path, timings: list[dict], total: float, jobs: int,
                  computed: int) -> None:
    """``timings.json``: wall time per notebook, with a side-car recording the summary it belongs to. A run that
    computed nothing (every result from the fit cache) keeps the timings of the run that computed them, as long as
    they describe the same summary."""
    folder = Layout(stage).artefacts(profile_name)
    summary = folder / "summary.csv"
    path = folder / "timings.json"
    published = config.PROJECT.artefacts(profile_name) / "timings.json"
    if not computed and published.exists():
        meta = json.loads(art.meta_path(published).read_text())
        if meta.get("inputs", {}).get("summary.csv") == art.file_sha256(summary):
            shutil.copy2(published, path)
            shutil.copy2(art.meta_path(published), art.meta_path(path))
            return
    data_fp = json.loads(art.meta_path(summary).read_text())["data_fingerprint"]
    split = json.loads(art.meta_path(folder / "split.npz").read_text())
    art.save_json({"profile": profile_name, "total_seconds": round(total, 1), "jobs": jobs, "notebooks": timings,
                   "finished": time.strftime("%Y-%m-%d %H:%M"), "test_images": split["sizes"]["test"],
                   "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                              f"Keras backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}"},
                  path, "run_study.py", [summary], data_fp)


def build_parser() -> argparse.ArgumentParser:
    """The command line of run_study.py (its ``--help`` shows this module's examples)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILES, help=f"default: ${PROFILE_ENV}, else full")
    parser.add_argument("--dataset", choices=sorted(DATASETS),
                        help=f"default: ${DATASET_ENV}, else {DEFAULT_DATASET} (the assignment's)")
    parser.add_argument("--jobs", type=lambda v: _setting(parse_jobs, v, "--jobs"),
                        help=f"fits at once (default: ${JOBS_ENV}, else one per core)")
    parser.add_argument("--only", nargs="*", choices=NOTEBOOKS, help="run only these notebooks")
    parser.add_argument("--fresh", action="store_true", help="empty the fit cache first")
    parser.add_argument("--no-publish", action="store_true", help="keep the results in the staging folder")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a papermill parameter (a Python literal): an exploration run, staged in a folder of its "
                             "own and never published")
    parser.add_argument("--wait", action="store_true", help="wait for another run of the profile to finish first")
    parser.add_argument("--readme", action="store_true",
                        help="only refresh the README's answer and docs/results.md from artefacts/full")
    return parser


def _setting(parse, value: str, where: str):
    """``parse(value, where)``, a bad value an argparse error (argparse prints it with the usage line)."""
    try:
        return parse(value, where)
    except SettingError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    """run_study.py: check the settings and the data, then run the notebooks (holding the profile's lock, unless it
    is an exploration run) and publish them; returns the exit status (0, 1, 2 bad settings or data, 75 locked,
    130 Ctrl-C)."""
    args = build_parser().parse_args(argv)
    if args.readme:
        from ..report.readme import refresh_readme
        refresh_readme()
        return 0
    if args.dataset:  # the kernels and the workers inherit it
        os.environ[DATASET_ENV] = args.dataset
    try:  # every setting and the data, before any notebook starts: one sentence each
        check_settings()
        profile = get_profile(args.profile)
        jobs = args.jobs or default_jobs()
        art.writable_folder(profile.cache, "The fit cache", FIT_CACHE_ENV if os.environ.get(FIT_CACHE_ENV) else None)
        images = load_mnist(verbose=False)
        if images is not None:  # (a test's runner reads no data)
            check_size(profile, len(images), f"{get_dataset().title} at {find_source()}")
    except (SettingError, DataError, art.ArtefactError) as err:
        print(f"run_study.py: {err}", file=sys.stderr)
        return 2
    notebooks = [n for n in NOTEBOOKS if n in (args.only or NOTEBOOKS)]
    parameters = {name: _literal(value) for name, value in args.parameter}
    if parameters:  # exploration: a folder of its own, no lock, never published
        return _run(profile, notebooks, parameters, jobs, args, explore_stage(profile.name), publish_after=False)
    try:
        with run_lock(profile.name, wait=args.wait):
            if recover(profile.name):
                print(f"[{profile.name}] the last run was stopped while publishing: its steps are undone, the "
                      "publication before it is complete again", file=sys.stderr)
            return _run(profile, notebooks, parameters, jobs, args, None, publish_after=not args.no_publish)
    except LockedError as err:
        print(f"[{profile.name}] {err}", file=sys.stderr)
        return 75


def _run(profile: Profile, notebooks: list[str], parameters: dict, jobs: int, args: argparse.Namespace,
         stage: Path | None, publish_after: bool) -> int:
    """Run ``notebooks`` in a staging folder, then publish them (``publish_after``); one line for any failure."""
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    if args.fresh:
        Store(profile.cache).clear()
        print(f"[{profile.name}] fit cache emptied: every fit is computed again")
    try:
        stage = prepare_stage(profile.name, notebooks, stage)
    except PublishError as err:
        print(f"[{profile.name}] {err}", file=sys.stderr)
        return 1
    os.environ.update({PROFILE_ENV: profile.name, JOBS_ENV: str(jobs), OUTPUT_ENV: str(stage),
                       FIT_CACHE_ENV: str(profile.cache)})  # the kernels inherit them
    start, started = time.perf_counter(), time.time()
    timings, failed = _execute_all(profile, notebooks, parameters, stage, before)
    if failed is not None:
        return failed
    total = time.perf_counter() - start
    computed = len(noted_keys(stage, COMPUTED_FILE))
    if notebooks == NOTEBOOKS:
        write_timings(profile.name, stage, timings, total, jobs, computed)
    _index_of_staged(stage, profile.name)
    if not publish_after:
        print(f"[{profile.name}] done in {total / 60:.1f} min; results kept in {_shown(stage)} (not published)")
        return 0
    return _publish_run(profile, notebooks, stage, args, total, computed, started)


def _execute_all(profile: Profile, notebooks: list[str], parameters: dict, stage: Path,
                 before: set[int]) -> tuple[list[dict], int | None]:
    """Execute ``notebooks`` in order (`execute`), each kernel started while the notebook before it runs (`_ahead`);
    returns their timings, and None, or the exit status of a failure or Ctrl-C (its line printed, the processes this
    run started stopped)."""
    global _ahead
    timings: list[dict] = []
    current: str | None = None
    interrupted: list[int] = []  # the signals that stopped the run: Ctrl-C, or a SIGTERM / SIGHUP from outside
    previous = {sig: signal.signal(sig, lambda signum, frame: (interrupted.append(signum),
                                                                signal.default_int_handler(signum, frame)))
                for sig in STOP_SIGNALS}
    _ahead = Ahead(config.PROJECT.notebooks, notebooks)
    try:
        for current in notebooks:
            print(f"[{profile.name}] {current} ...", end=" ", flush=True)
            timings.append(execute(current, stage, profile.name, parameters))
            if interrupted:  # a Ctrl-C whose KeyboardInterrupt Python swallowed (raised inside a callback of an
                raise KeyboardInterrupt  # import lock, "Exception ignored in ..."): the run stops all the same
            print(f"{timings[-1]['seconds']:.0f} s", flush=True)
    except BaseException as err:  # noqa: BLE001 -- one clear line instead of a kernel's traceback
        for sig in STOP_SIGNALS:  # a second stop (a CI's SIGINT, then its SIGTERM) waits for this one to finish
            signal.signal(sig, lambda signum, _: interrupted.append(signum))
        _quiet_stop(before)
        return timings, _failure(profile, stage, current, err, interrupted[0] if interrupted else 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _ahead.close()
        _ahead = None
    return timings, None


def _failure(profile: Profile, stage: Path, current: str | None, err: BaseException, interrupted: int = 0) -> int:
    """Print the one line that says why the notebook ``current`` stopped, and what was kept; returns the exit
    status: 128 + the signal's number for a stop (130 for a Ctrl-C, 143 for a SIGTERM, 129 for a SIGHUP), else 1."""
    kept = f"the fits that finished are kept in the fit cache ({_shown(profile.cache)}); run again to continue"
    if interrupted or isinstance(err, KeyboardInterrupt):
        signum = interrupted or signal.SIGINT
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"\n[{profile.name}] {how} in {current}: the published notebooks and artefacts are unchanged; "
              f"{kept}.", file=sys.stderr)
        return 128 + signum
    if type(err).__name__ == "PapermillExecutionError" and err.ename in INPUT_ERRORS:
        print(f"\n[{profile.name}] {current} stopped: {err.evalue}\nThe published notebooks and artefacts are "
              "unchanged.", file=sys.stderr)
        return 1
    print(f"\n[{profile.name}] {current} failed: {_reason(err)}\nThe published notebooks and artefacts are "
          f"unchanged; the failed notebook is {_shown(executed_path(stage, profile.name, current))}; {kept}.",
          file=sys.stderr)
    return 1


def _index_of_staged(stage: Path, profile_name: str) -> None:
    """The staged run's ``index.html`` (`write_index`), where it staged pages; a partial run's shows the front page
    and figure of the published run."""
    staged, project = Layout(stage), config.PROJECT
    html_dir = staged.pages(profile_name)
    if any(html_dir.glob("*.html")):  # a partial run: the front page and figure of the published run
        front = staged.artefacts(profile_name) / "front_page.md"
        figures = staged.figures(profile_name)
        write_index(html_dir, front if front.exists() else project.artefacts(profile_name) / "front_page.md",
                    figures if front_figure(figures) else project.figures(profile_name), profile_name)


def _publish_run(profile: Profile, notebooks: list[str], stage: Path, args: argparse.Namespace, total: float,
                 computed: int, started: float) -> int:
    """Publish the staged run (`publish`, a Ctrl-C deferred until it is complete), prune the stale fit-cache entries
    after a complete run, and refresh the README after a full one; returns the exit status."""
    used = noted_keys(stage)  # every entry of the fit cache this complete run asked for: the others are stale
    deferred: list[int] = []  # a stop now would leave half the files moved: it waits until publication is done
    previous = {sig: signal.signal(sig, lambda signum, _: deferred.append(signum)) for sig in STOP_SIGNALS}
    try:
        publish(profile.name, stage, notebooks)
        pruned = Store(profile.cache).prune(used, written_before=started) if notebooks == NOTEBOOKS else 0
        print(f"[{profile.name}] done in {total / 60:.1f} min ({computed} tasks computed, the rest from the fit "
              f"cache); published notebooks, artefacts and HTML; {pruned} stale fit-cache entries pruned")
        if profile.name == "full" and args.fresh and notebooks == NOTEBOOKS:  # the time from an empty cache (README)
            (config.PROJECT.root / FROM_EMPTY).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(profile.artefacts / "timings.json", config.PROJECT.root / FROM_EMPTY)
        if profile.name == "full" and NOTEBOOK_COMPARISON in notebooks:
            from ..report.readme import refresh_readme
            refresh_readme()
    except PublishError as err:
        print(f"[{profile.name}] {err}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if deferred:
            how = "Ctrl-C" if deferred[0] == signal.SIGINT else signal.Signals(deferred[0]).name
            print(f"[{profile.name}] {how} while publishing: it waited until the publication was complete",
                  file=sys.stderr)
    return 128 + deferred[0] if deferred else 0


#: the signals that stop a run as Ctrl-C does (one line, every process of the run stopped, the stage left for the
#: next run): a CI timeout or ``kill`` sends SIGTERM, a closed terminal SIGHUP
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: errors of a notebook's inputs (the data, a missing or stale artefact): their message is the whole story
INPUT_ERRORS = ("DataError", "ArtefactError", "SettingError")


def _quiet_stop(before: set[int]) -> None:
    """After a failure or Ctrl-C: stop the kernel and its fit workers this run started (the kernel runs in a session
    of its own, which the terminal's Ctrl-C does not reach), and silence asyncio's report of the cell it abandoned
    ("Task exception was never retrieved", printed when the interpreter exits)."""
    import logging

    import psutil

    logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
    children = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def _literal(value: str):
    """A papermill parameter given on the command line: the Python literal it spells, else the string itself."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _reason(err: BaseException) -> str:
    """Why a notebook failed, in one line: the cell and its error, or the error."""
    if type(err).__name__ == "PapermillExecutionError":
        return f"cell {err.exec_count}: {err.ename}: {_first_line(err.evalue)}"
    return f"{type(err).__name__}: {_first_line(err)}"


def _first_line(text) -> str:
    """An error's text, its first line only (a library's account of an error can run over several)."""
    lines = str(text).strip().splitlines()
    return lines[0].rstrip(":") if lines else ""


def _shown(path: Path) -> str:
    """``path`` as a message shows it: relative to the project where it is inside it."""
    path = Path(path)
    root = config.PROJECT.root
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


__all__ = ["FROM_EMPTY", "INPUT_ERRORS", "PROGRESS", "QUESTION", "TEMPLATES", "build_parser", "execute",
           "executed_path", "fold_appendix", "main", "render_html", "stable_table_ids", "without_progress",
           "write_index", "write_timings"]
