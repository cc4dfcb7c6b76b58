"""Run the six notebooks in order (papermill), render them as HTML, and publish them only when all succeed.

    python run_study.py                       # full profile: the committed notebooks, artefacts, figures, HTML
    python run_study.py --jobs 2              # fits at once (default: $SSL_JOBS, else one per core)
    python run_study.py --only 02_supervised_baseline.ipynb   # one notebook, on the artefacts of the others
    python run_study.py --fresh               # empty the fit cache first: recompute every fit
    python run_study.py --profile quick       # the CI profile: everything under artefacts/quick/
    python run_study.py -p SEED 7 --only 01_split.ipynb   # papermill parameters: explore; nothing is published

The notebooks run in a staging folder (``artefacts/.run-<profile>/``): their artefacts, figures, executed notebooks and
HTML go there, and replace the published ones (``artefacts/<profile>/``, ``figures/``, ``notebooks/``, ``reports/``)
only when every notebook has succeeded, all of them or none (`ssl_study.publishing`). A failure or Ctrl-C leaves the
published files as they were, and stops the kernel and its workers; the fits that finished are kept in the fit cache,
so the next run continues where this one stopped. One run of a profile at a time: a second says which run holds the
profile (or waits for it: ``--wait``); an exploration run (``-p``) stages in a folder of its own and publishes nothing.
Bad settings or data stop a run before its first notebook, in one sentence.
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
from pathlib import Path

from . import artefacts as art
from .config import (ARTEFACTS_DIR, FIT_CACHE_ENV, JOBS_ENV, NOTEBOOK_COMPARISON, NOTEBOOKS, NOTEBOOKS_DIR,
                     OUTPUT_ENV, PROFILE_ENV, PROFILES, ROOT, SettingError, check_settings, default_jobs, get_profile,
                     parse_jobs)
from .data import DataError, load_mnist
from .executor import COMPUTED_FILE, noted_keys
from .kernels import Ahead
from .publishing import LockedError, PublishError, explore_stage, prepare_stage, publish, recover, run_lock
from .store import Store


#: the kernels of the running run's notebooks, each started while the one before it runs (`ssl_study.kernels`)
_ahead: Ahead | None = None


def executed_path(stage: Path, profile_name: str, name: str) -> Path:
    """Where a run stages the executed notebook ``name``: ``notebooks/`` (full profile) or the profile's artefacts."""
    folder = stage / "notebooks" if profile_name == "full" else stage / "artefacts" / profile_name / "notebooks"
    return folder / name


def execute(name: str, stage: Path, profile_name: str, parameters: dict) -> dict:
    """Execute one notebook with papermill (cwd: notebooks/), tidy its outputs, save it and render it as HTML."""
    import nbformat
    import papermill
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    out = executed_path(stage, profile_name, name)
    html_dir = stage / "reports" if profile_name == "full" else stage / "artefacts" / profile_name / "reports"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _kernel_stderr_to(stage / "kernels.log"):
        km = _ahead.take(name) if _ahead else None  # its kernel, started while the notebook before it ran
        if _ahead:
            _ahead.start_after(name)
        try:
            papermill.execute_notebook(NOTEBOOKS_DIR / name, out, parameters=parameters or None, kernel_name="python3",
                                       cwd=str(NOTEBOOKS_DIR), progress_bar=False, request_save_on_cell_execute=False,
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
def _kernel_stderr_to(log: Path):
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


#: the last state of a progress bar (tqdm): "fits (3 of 90 from the fit cache): 100%|####| 90/90 [01:02<00:00, ...]"
PROGRESS = re.compile(r"^.*\|\s*\d+/\d+ \[[^\]]*\]\s*$", re.M)


def without_progress(output):
    """A stream output without its progress bars (they say how a run went, not what it found), or None if nothing
    else was in it."""
    if output.get("output_type") != "stream":
        return output
    text = PROGRESS.sub("", output["text"]).strip("\n")
    if not text.strip():
        return None
    output["text"] = text + "\n"
    return output


def stable_table_ids(html: str, ids: dict[str, str] | None = None) -> str:
    """pandas gives every styled table a random id (``T_1a2b3``): number them in order of appearance instead, so that
    a re-run with the same results writes the same notebook and HTML. ``ids`` (random id -> number) is shared by every
    output of one notebook: each table keeps an id of its own on the page, and with it its own styles."""
    ids = {} if ids is None else ids
    return re.sub(r"\bT_([0-9a-f]{5})(?![0-9a-zA-Z])",
                  lambda m: "T_" + ids.setdefault(m.group(1), f"t{len(ids):04d}"), html)


TEMPLATES = Path(__file__).with_name("templates")  #: ``report``: the notebooks' HTML pages (code folded)


def render_html(nb, name: str) -> str:
    """A notebook as the HTML page a reader gets: the notebook's title as the page's title, every code cell folded
    into a "code" line that opens on a click (`TEMPLATES`), and the code of the cells tagged ``hide-input`` (prose
    computed from the results) left out, their output kept."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {"hide-input"}
    exporter = HTMLExporter(config=config, extra_template_basedirs=[str(TEMPLATES)], template_name="report")
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    return fold_appendix(html)


def fold_appendix(html: str) -> str:
    """The page with everything from its "Appendix" heading on folded into one "Appendix" line that opens on a click:
    the story reads without it, the secondary material is one click away (a page without an appendix is unchanged)."""
    heading = html.find('<h2 id="Appendix"')
    start = html.rfind('<div class="jp-Cell ', 0, heading)  # the cell itself, not its inner wrappers
    end = html.rfind("</main>")
    if heading < 0 or start < 0 or end < heading:
        return html
    summary = ('<details class="appendix"><summary>Appendix: the secondary material, the checks and what the notebook '
               'saves (click to open)</summary>\n')
    return html[:start] + summary + html[start:end] + "</details>\n" + html[end:]


QUESTION = ("The course's assignment: split MNIST's 70,000 images at random into labelled (40 %), unlabelled (40 %) "
            "and test (20 %) sets; pre-train the encoder of a very simple CNN (two convolutions, one dense layer) on a "
            "Siamese task -- are two augmented views from the same image? -- using the unlabelled images only; "
            "initialise the CNN with that encoder and fine-tune it on 10 %, 20 %, ... 100 % of the labelled images; "
            "compare it with the same CNN trained from scratch.")
FRONT_FIGURE = "06_accuracy_vs_labels.png"  #: the figure of the first page (notebook 6's)


def write_index(html_dir: Path, front_md: Path | None, figures: Path | None = None, profile_name: str = "full") -> Path:
    """``index.html``, the one page an examiner must read: the question, the answer in plain sentences with the
    accuracy-versus-labels figure and the assignment's ten-row table (notebook 6's ``front_page.md``, statistics in
    its notes), and a link to each notebook's page with its one-line summary (the notebook's ``summary`` metadata)."""
    import base64
    import html as html_lib

    import nbformat
    from nbconvert.filters import markdown2html

    links = []
    for name in NOTEBOOKS:
        meta = nbformat.read(NOTEBOOKS_DIR / name, as_version=4).metadata
        links.append(f'<li><a href="{Path(name).with_suffix(".html").name}">{html_lib.escape(meta.get("title", name))}'
                     f'</a> — {html_lib.escape(meta.get("summary", ""))}</li>')
    answer = markdown2html(front_md.read_text()) if front_md and front_md.exists() else ""
    figure = (figures / FRONT_FIGURE) if figures else None
    image = (f'<img alt="Test accuracy against the number of labelled images" style="width:75%;display:block;'
             f'margin:0.4em auto" '
             f'src="data:image/png;base64,{base64.b64encode(figure.read_bytes()).decode()}">'
             if figure and figure.exists() else "")
    if image and "<table" in answer:  # the figure between the sentences and the table
        answer = answer.replace("<table", image + "\n<table", 1)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Does self-supervised pre-training help a very simple CNN when labels are scarce?</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:1.5em auto;line-height:1.45;padding:0 1em}"
            "li{margin:0.2em 0}table{border-collapse:collapse;margin:0.6em 0}td,th{padding:0.08em 0.7em;"
            "border-bottom:1px solid #ddd;text-align:right}th{text-align:center}td:first-child{text-align:left}"
            "small p{margin:0.3em 0;color:#444}</style></head><body>\n"
            "<h1>Does self-supervised pre-training help a very simple CNN when labels are scarce?</h1>\n"
            f"<p><em>{html_lib.escape(QUESTION)}</em></p>\n<h2>The answer</h2>\n{answer}\n"
            "<h2>The six notebooks</h2>\n<ol>\n" + "\n".join(links) + "\n</ol>\n"
            f"<p><small>Each page is a notebook executed top to bottom in the {profile_name} profile "
            "(<code>run_study.py</code>); "
            "its code is folded under each \"code\" line.</small></p>\n</body></html>\n")
    path = html_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


#: the timings of the last full run from an empty fit cache (``--fresh``), which the README quotes
FROM_EMPTY = ROOT / "benchmarks" / "results" / "full_profile_from_empty.json"


def write_timings(profile_name: str, stage: Path, timings: list[dict], total: float, jobs: int,
                  computed: int) -> None:
    """``timings.json``: wall time per notebook, with a side-car recording the summary it belongs to. A run that
    computed nothing (every result from the fit cache) keeps the timings of the run that computed them, as long as
    they describe the same summary."""
    folder = stage / "artefacts" / profile_name
    summary = folder / "summary.csv"
    path = folder / "timings.json"
    published = ARTEFACTS_DIR / profile_name / "timings.json"
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
    parser.add_argument("--jobs", type=lambda v: _setting(parse_jobs, v, "--jobs"),
                        help=f"fits at once (default: ${JOBS_ENV}, else one per core)")
    parser.add_argument("--only", nargs="*", choices=NOTEBOOKS, help="run only these notebooks")
    parser.add_argument("--fresh", action="store_true", help="empty the fit cache first")
    parser.add_argument("--no-publish", action="store_true", help="keep the results in the staging folder")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a papermill parameter (a Python literal): an exploration run, staged in a folder of its "
                             "own and never published")
    parser.add_argument("--wait", action="store_true", help="wait for another run of the profile to finish first")
    parser.add_argument("--readme", action="store_true", help="only refresh the README's answer and docs/results.md from artefacts/full")
    return parser


def _setting(parse, value, where):
    try:
        return parse(value, where)
    except SettingError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.readme:
        from .readme import refresh_readme
        refresh_readme()
        return 0
    try:  # every setting and the data, before any notebook starts: one sentence each
        check_settings()
        profile = get_profile(args.profile)
        jobs = args.jobs or default_jobs()
        load_mnist(verbose=False)
    except (SettingError, DataError) as err:
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


def _run(profile, notebooks: list[str], parameters: dict, jobs: int, args, stage: Path | None,
         publish_after: bool) -> int:
    """Run ``notebooks`` in a staging folder, then publish them (``publish_after``); one line for any failure."""
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    if args.fresh:
        shutil.rmtree(profile.cache, ignore_errors=True)
        print(f"[{profile.name}] fit cache emptied: every fit is computed again")
    try:
        stage = prepare_stage(profile.name, notebooks, stage)
    except PublishError as err:
        print(f"[{profile.name}] {err}", file=sys.stderr)
        return 1
    os.environ.update({PROFILE_ENV: profile.name, JOBS_ENV: str(jobs), OUTPUT_ENV: str(stage),
                       FIT_CACHE_ENV: str(profile.cache)})  # the kernels inherit them
    timings, start, started, current = [], time.perf_counter(), time.time(), None
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: (interrupted.append(True), signal.default_int_handler(*_)))
    global _ahead
    _ahead = Ahead(NOTEBOOKS_DIR, notebooks)
    try:
        for current in notebooks:
            print(f"[{profile.name}] {current} ...", end=" ", flush=True)
            timings.append(execute(current, stage, profile.name, parameters))
            if interrupted:  # a Ctrl-C whose KeyboardInterrupt Python swallowed (raised inside a callback of an
                raise KeyboardInterrupt  # import lock, "Exception ignored in ..."): the run stops all the same
            print(f"{timings[-1]['seconds']:.0f} s", flush=True)
    except BaseException as err:  # noqa: BLE001 -- one clear line instead of a kernel's traceback
        _quiet_stop(before)
        kept = f"the fits that finished are kept in the fit cache ({_shown(profile.cache)}); run again to continue"
        if interrupted or isinstance(err, KeyboardInterrupt):
            print(f"\n[{profile.name}] interrupted in {current}: the published notebooks and artefacts are unchanged; "
                  f"{kept}.", file=sys.stderr)
            return 130
        if type(err).__name__ == "PapermillExecutionError" and err.ename in INPUT_ERRORS:
            print(f"\n[{profile.name}] {current} stopped: {err.evalue}\nThe published notebooks and artefacts are "
                  "unchanged.", file=sys.stderr)
            return 1
        print(f"\n[{profile.name}] {current} failed: {_reason(err)}\nThe published notebooks and artefacts are "
              f"unchanged; the failed notebook is {_shown(executed_path(stage, profile.name, current))}; {kept}.",
              file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        _ahead.close()
        _ahead = None
    total = time.perf_counter() - start
    computed = len(noted_keys(stage, COMPUTED_FILE))
    if notebooks == NOTEBOOKS:
        write_timings(profile.name, stage, timings, total, jobs, computed)
    html_dir = stage / "reports" if profile.name == "full" else stage / "artefacts" / profile.name / "reports"
    if any(html_dir.glob("*.html")):
        front = stage / "artefacts" / profile.name / "front_page.md"
        figures = stage / "figures" if profile.name == "full" else stage / "artefacts" / profile.name / "figures"
        published = ARTEFACTS_DIR / profile.name  # a partial run: what the published run wrote
        write_index(html_dir, front if front.exists() else published / "front_page.md",
                    figures if (figures / FRONT_FIGURE).exists() else
                    ROOT / "figures" if profile.name == "full" else published / "figures", profile.name)
    if not publish_after:
        print(f"[{profile.name}] done in {total / 60:.1f} min; results kept in {_shown(stage)} (not published)")
        return 0
    used = noted_keys(stage)  # every entry of the fit cache this complete run asked for: the others are stale
    deferred = []  # a Ctrl-C now would leave half the files moved: it waits until the publication is complete
    previous = signal.signal(signal.SIGINT, lambda *_: deferred.append(True))
    try:
        publish(profile.name, stage, notebooks)
        pruned = Store(profile.cache).prune(used, written_before=started) if notebooks == NOTEBOOKS else 0
        print(f"[{profile.name}] done in {total / 60:.1f} min ({computed} tasks computed, the rest from the fit "
              f"cache); published notebooks, artefacts and HTML; {pruned} stale fit-cache entries pruned")
        if profile.name == "full" and args.fresh and notebooks == NOTEBOOKS:  # the time from an empty cache, for the README
            FROM_EMPTY.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(profile.artefacts / "timings.json", FROM_EMPTY)
        if profile.name == "full" and NOTEBOOK_COMPARISON in notebooks:
            from .readme import refresh_readme
            refresh_readme()
    except PublishError as err:
        print(f"[{profile.name}] {err}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        if deferred:
            print(f"[{profile.name}] Ctrl-C while publishing: it waited until the publication was complete",
                  file=sys.stderr)
    return 130 if deferred else 0


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
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _reason(err: BaseException) -> str:
    if type(err).__name__ == "PapermillExecutionError":
        return f"cell {err.exec_count}: {err.ename}: {err.evalue}"
    return f"{type(err).__name__}: {err}"


def _shown(path: Path) -> str:
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
