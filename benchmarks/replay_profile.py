"""Where a replay of the committed study spends its time (every result from the fit cache): per notebook and per part.

    MNIST_PNG=... .venv/bin/python benchmarks/replay_profile.py [--repeats 3]

Executes the six notebooks of the full profile as ``run_study.py`` does (papermill, one kernel each, in a scratch
staging folder: nothing is published) and splits each notebook's wall time by what its cells do: the kernel's start
(papermill's time before the first cell), the setup cell (imports), loading the data and the split, reading
results from the fit cache, figures, and the rest (tables, analysis, saving artefacts); then the HTML export. Medians
of ``--repeats`` runs; writes ``benchmarks/results/replay_profile.{json,md}`` and, with ``--readme``, the table into
its block of docs/speed.md (``--from-json``: the table again from the JSON, nothing measured).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: a cell's part, by the first pattern its source matches
PARTS = (("setup (imports)", r"setup_notebook\("), ("data and split", r"load_inputs\(|load_mnist\("),
         ("results from the fit cache", r"run_fits\(|run_pretexts\(|run_tasks\(|embedding_map\(|plan_\w+\("),
         ("figures", r"savefig\(|plt\.subplots"))


COLUMNS = ["wall", "kernel start", "setup (imports)", "data and split", "results from the fit cache", "figures",
           "the rest", "HTML export"]


def part(source: str) -> str:
    return next((name for name, pattern in PARTS if re.search(pattern, source)), "the rest")


def profile_once(stage: Path) -> dict:
    import nbformat
    import papermill

    from ssl_study.config import NOTEBOOKS, NOTEBOOKS_DIR
    from ssl_study.run.runner import render_html

    times = {}
    for name in NOTEBOOKS:
        out = stage / name
        start = time.perf_counter()
        papermill.execute_notebook(NOTEBOOKS_DIR / name, out, kernel_name="python3", cwd=str(NOTEBOOKS_DIR),
                                   progress_bar=False, request_save_on_cell_execute=False)
        wall = time.perf_counter() - start
        nb = nbformat.read(out, as_version=4)
        split = {"kernel start": 0.0}
        cells = [c for c in nb.cells if c.cell_type == "code"]
        for cell in cells:
            key = part(cell.source)
            split[key] = split.get(key, 0.0) + (cell.metadata.get("papermill", {}).get("duration") or 0.0)
        split["kernel start"] = max(0.0, wall - sum(split.values()))  # and papermill's own work
        start = time.perf_counter()
        render_html(nb, Path(name).stem)
        split["HTML export"] = time.perf_counter() - start
        times[name] = {"wall": wall + split["HTML export"], **split}
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--readme", action="store_true", help="also write the table into docs/speed.md")
    parser.add_argument("--from-json", action="store_true", help="the table again from replay_profile.json")
    args = parser.parse_args(argv)
    if args.from_json:
        write(json.loads((RESULTS / "replay_profile.json").read_text()), args.readme)
        return 0
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as stage:
            os.environ.update({"SSL_PROFILE": "full", "SSL_OUTPUT": stage})
            os.environ.pop("SSL_FIT_CACHE", None)
            runs.append(profile_once(Path(stage)))
    median = {n: {c: statistics.median(r[n].get(c, 0.0) for r in runs) for c in COLUMNS} for n in runs[0]}
    record = {"date": time.strftime("%Y-%m-%d %H:%M"), "repeats": args.repeats, "cpu": _cpu(),
              "cores": os.cpu_count(), "notebooks": median}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replay_profile.json").write_text(json.dumps(record, indent=1) + "\n")
    write(record, args.readme)
    return 0


def write(record: dict, readme: bool) -> None:
    """``replay_profile.md`` (and, with ``readme``, the block of docs/speed.md): the record as a table."""
    median, names = record["notebooks"], list(record["notebooks"])
    lines = [f"Measured {record['date']} on {record['cpu']}, {record['cores']} cores (`benchmarks/replay_profile.py "
             f"--repeats {record['repeats']}`: medians, seconds; every result from the committed fit cache).", "",
             "| notebook | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(f"{median[n][c]:.1f}" for c in COLUMNS) + " |")
    lines.append("| all six | " + " | ".join(f"{sum(median[n][c] for n in names):.1f}" for c in COLUMNS) + " |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "replay_profile.md").write_text(text)
    print(text)
    if readme:
        from ssl_study.report.readme import replace_readme_block

        replace_readme_block("replay-profile", "<!-- replay-profile:start (written by benchmarks/replay_profile.py "
                             "--readme; do not edit by hand) -->\n" + text + "<!-- replay-profile:end -->",
                             ROOT / "docs" / "speed.md")


def _cpu() -> str:
    from ssl_study.study.keys import machine

    return machine()["cpu"]


if __name__ == "__main__":
    sys.exit(main())
