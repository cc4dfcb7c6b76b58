"""Throughput and wall-time benchmark of the study, measured in one run.

    .venv/bin/python benchmarks/benchmark.py            # throughput and bottleneck only
    .venv/bin/python benchmarks/benchmark.py --images 300 --epochs 1 --repeats 1 --out /tmp/bench   # a smoke run
    .venv/bin/python benchmarks/benchmark.py --study    # also runs the quick profile of the study and reads the
                                                        # full profile's timings from artefacts/full/timings.json

Measures, with the median of ``--repeats`` runs (the runs of the two sides of each ratio interleaved):

1. supervised training: images/s of one fit through the project's training path (`helpers.train_supervised`, which
   trains with `helpers.fit_classifier`: light augmentation on the device, Adam with a cosine-decaying learning rate,
   ``steps_per_execution``, a fixed number of epochs on every image given -- nothing held out, no validation, no early
   stopping) against a bare ``model.fit`` of the same model on the same in-memory images with Keras' defaults, and
   against the same bare fit with the project's ``steps_per_execution``. Only the fits are timed, not building and
   compiling the models;
2. Siamese pretext: pairs/s of the project's pretext (`helpers.build_siamese`: pairs made and augmented inside the
   model, on the device, augmentation included) against a straightforward Keras implementation written here
   (random-augmentation layers inside a two-input model, pairs materialised as arrays, batch 128). The project
   encodes each augmented view once and uses it in two pairs, so it also reports views/s (encoder passes), where
   that reuse does not count;
3. the bottleneck: the CNN's arithmetic per training image, the rate it runs at in the bare fit (GFLOP/s), and this
   machine's float32 matrix-multiply rate (numpy) for scale;
4. with ``--study``: wall time of each notebook in the quick profile, the full profile's recorded times, and the
   largest peak memory of a notebook kernel.

Prints a table and writes ``benchmark.json`` and ``benchmark.md`` into ``--out`` (default ``benchmarks/results/``).
``--images N`` measures on the first N labelled and N unlabelled images instead of all of them (a smoke run).

    .venv/bin/python benchmarks/benchmark.py --runs empty-jobs2 unchanged only-06 sequential-interrupted --readme
    .venv/bin/python benchmarks/benchmark.py --runs unchanged --times 2       # cheap: nothing is computed
    .venv/bin/python benchmarks/benchmark.py --runs quick quick-interrupted   # cheap: the quick profile

measures instead the study as a user runs it (``run_study.py --no-publish`` subprocesses, each with a fit cache in a
scratch folder, so that neither the committed cache nor the published files are touched; a run writes only its
staging folder, ``artefacts/.run-<profile>/``): see `RUNS`. Results in ``study_runs.json`` and ``study_runs.md``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import helpers
from benchmarks.study_timing import RUNS, default_interrupt, study_runs, study_times
from benchmarks.throughput import labelled_and_unlabelled, machine, measure
from ssl_study.report.readme import replace_readme_block

SPEED_DOC = helpers.ROOT / "docs" / "speed.md"  #: the page with the measured blocks (the README links it)

ROOT = helpers.ROOT
OUT = ROOT / "benchmarks" / "results"



def runs_markdown(r: dict) -> str:
    """The study-run measurements as a table."""
    rows = []
    runs = r["runs"]

    def row(label: str, run: dict, wall: str | None = None, computed: str | None = None) -> None:
        computed = computed if computed is not None else str(run["fits_after"] - run["fits_before"])
        wall = wall or f"{run['seconds'] / 60:.1f} min"
        rows.append(f"| {label} | {wall} | {computed} | {run.get('date', '')} |")

    def times(run: dict) -> str:
        n = len(run.get("runs_seconds", [run["seconds"]]))
        return f" (median of {n} runs: {', '.join(f'{s / 60:.1f}' for s in run['runs_seconds'])} min)" if n > 1 else ""

    if "empty-jobs2" in runs:
        row("full profile from an empty fit cache, `--jobs 2`", runs["empty-jobs2"])
    if "unchanged" in runs:
        row("full profile again, nothing changed: from a copy of the committed fit cache, `--jobs 2`"
            + times(runs["unchanged"]), runs["unchanged"])
    if "only-06" in runs:
        row("after an edit to notebook 6 alone: `--only 06_comparison.ipynb`" + times(runs["only-06"]), runs["only-06"])
    for name, label in (("sequential-interrupted", "full profile from an empty fit cache, `--jobs 1`"),
                        ("quick-interrupted", "quick profile from an empty fit cache, default jobs")):
        if name in runs:
            s = runs[name]
            first, resumed = s["interrupted"], s["resumed"]
            row(f"{label}, Ctrl-C after {first['seconds'] / 60:.1f} min", first,
                computed=f"{first['fits_after'] - first['fits_before']} kept")
            row("… then run again: it continues from the cache", resumed)
            row("both parts", resumed, wall=f"{s['total_seconds'] / 60:.1f} min", computed=str(resumed["fits_after"]))
    if "quick" in runs:
        row("quick profile (CI) from an empty fit cache, default jobs", runs["quick"])
    if "compare" in runs:
        c = runs["compare"]
        rows.append(f"| the sequential run's results (staged {c['staged_from']}) against the committed ones, seconds "
                    f"aside | {'identical' if c['all_equal'] else 'DIFFERENT'} | {sum(c['equal'].values())} of "
                    f"{len(c['equal'])} files equal | {c.get('date', '')} |")
    return (f"Measured on {r['machine']} with `benchmarks/benchmark.py --runs …` (last {r['date']}); each run a "
            "`run_study.py --no-publish` subprocess with a fit cache in a scratch folder:\n\n"
            "| run | wall time | fits and pretext runs computed | measured |\n|---|---:|---:|---|\n"
            + "\n".join(rows) + "\n")


def record_runs(args: argparse.Namespace) -> None:
    """Measure ``args.runs``, merge them into ``study_runs.json``, write ``study_runs.md`` and the block of
    docs/speed.md."""
    path = args.out / "study_runs.json"
    record = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    for run in record["runs"].values():  # a record from before runs were dated: all were measured at its date
        run.setdefault("date", record.get("date", ""))
        for part in ("interrupted", "resumed"):
            if part in run:
                run[part].setdefault("date", run["date"])
    with tempfile.TemporaryDirectory(prefix="ssl-benchmark-") as scratch:
        for name in args.runs:
            after = args.interrupt_after or default_interrupt(name, record["runs"])
            if name.endswith("-interrupted") and after is None:
                raise SystemExit(f"{name}: give --interrupt-after, or measure the run it is derived from first "
                                 "(empty-jobs2 for sequential-interrupted, quick for quick-interrupted)")
            result = study_runs([name], Path(scratch), after, args.times)[name]
            result.setdefault("date", time.strftime("%Y-%m-%d %H:%M"))
            record["runs"][name] = result
            record.update(date=time.strftime("%Y-%m-%d %H:%M"), machine=machine())
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=2))  # after each run: a later failure keeps what was measured
            (args.out / "study_runs.md").write_text(runs_markdown(record))
    print(runs_markdown(record))
    if args.readme:
        replace_readme_block("study-runs", "<!-- study-runs:start (written by benchmarks/benchmark.py --runs --readme; "
                                           "do not edit by hand) -->\n" + runs_markdown(record)
                             + "<!-- study-runs:end -->", SPEED_DOC)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed supervised fit (pretexts: 1)")
    parser.add_argument("--images", type=int, default=None,
                        help="measure on the first N labelled and N unlabelled images (default: all; a smoke run)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the results (default: %(default)s)")
    parser.add_argument("--study", action="store_true", help="also time the study's notebooks (quick profile)")
    parser.add_argument("--readme", action="store_true",
                        help="also write the table into the benchmark block of docs/speed.md")
    parser.add_argument("--runs", nargs="+", choices=RUNS, help="measure these runs of the study instead (see RUNS)")
    parser.add_argument("--times", type=int, default=1, help="runs of unchanged and only-06 (their median is reported)")
    parser.add_argument("--interrupt-after", type=float, default=None,
                        help="*-interrupted: seconds before the Ctrl-C (default: about half-way, from the recorded "
                             "empty-jobs2 or quick run)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write benchmark.md (and the block of docs/speed.md) again from "
                             "benchmark.json")
    args = parser.parse_args(argv)
    if args.images is not None and args.images < 8:
        parser.error("--images: at least 8")
    return args


def main(argv: list[str] | None = None) -> None:
    """Measure what the command line asks for, write the results into ``--out``."""
    args = parse_args(argv)
    if args.render:
        return write(json.loads((args.out / "benchmark.json").read_text()), args.out, args.readme)
    if args.runs:
        return record_runs(args)
    result = measure(*labelled_and_unlabelled(args.images), epochs=args.epochs, repeats=args.repeats)
    if args.study:
        result["study"] = study_times()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.json").write_text(json.dumps(result, indent=2))
    write(result, args.out, args.readme)


def write(result: dict, out: Path, readme: bool) -> None:
    """Write ``benchmark.md`` into ``out``, print it, and with ``readme`` put it into the benchmark block of
    docs/speed.md."""
    (out / "benchmark.md").write_text(markdown(result))
    print(markdown(result))
    if readme:
        replace_readme_block("benchmark", "<!-- benchmark:start (written by benchmarks/benchmark.py --readme; do not "
                                          "edit by hand) -->\n" + markdown(result) + "<!-- benchmark:end -->",
                             SPEED_DOC)


def markdown(r: dict) -> str:
    """The throughput and bottleneck measurements (and the study's timings, where measured) as text and tables."""
    s, p, b = r["supervised_images_per_s"], r["pretext_pairs_per_s"], r["bottleneck"]
    images = (f" on {r['images']['labelled']:,} labelled and {r['images']['unlabelled']:,} unlabelled images"
              if "images" in r else "")
    floor = b["full_profile_fits"]
    lines = [
        f"Measured {r['date']} on {r['machine']}, device {r.get('device', 'CPU')}, Keras backend {r['backend']}"
        f"{images}; medians of {r['repeats']} runs.",
        "",
        "| measure | project | reference | ratio |",
        "|---|---:|---:|---:|",
        f"| supervised training, images/s (reference: bare `model.fit`, Keras defaults) | {s['project']:,.0f} | "
        f"{s['bare_fit']:,.0f} | {s['ratio']:.2f} |",
        f"| supervised training, images/s (reference: bare `model.fit`, steps_per_execution="
        f"{helpers.STEPS_PER_EXECUTION}) | {s['project']:,.0f} | {s['bare_fit_steps_per_execution']:,.0f} | "
        f"{s['ratio_to_that']:.2f} |",
        f"| Siamese pretext, pairs/s (reference: straightforward Keras) | {p['project']:,.0f} | "
        f"{p['straightforward']:,.0f} | {p['ratio']:.2f} |",
        f"| Siamese pretext, augmented views encoded/s (same runs) | {p['views_per_s']['project']:,.0f} | "
        f"{p['views_per_s']['straightforward']:,.0f} | {p['views_ratio']:.2f} |",
        "",
        f"Bottleneck: one training step costs {b['train_mflop_per_image']:.1f} MFLOP per image (two convolutions); the "
        f"bare fit runs them at {b['bare_fit_gflops']:.0f} GFLOP/s, against {b['matmul_gflops']:.0f} GFLOP/s for a "
        f"float32 matrix product on this machine ({b['bare_fit_gflops'] / b['matmul_gflops']:.0%}). "
        + (f"cProfile of a project fit: {b['profile_of_project_fit']['inside_compiled_steps']:.0%} of its time is "
           "spent inside TensorFlow's compiled steps, the rest in Python (building and tracing the model, Keras' "
           "loop). "
           if b.get("profile_of_project_fit") else "")
        + ("The full profile's supervised fits and Siamese fine-tunings"
           + (f" ({floor['fits']:,} fits)" if "fits" in floor else "")
           + f" see {floor['images_seen']:,} images: {floor['minutes_at_bare_fit_rate']:.0f} minutes at the "
           "bare-fit rate."),
        "",
        f"Peak memory of the benchmark process: {r['peak_memory_mb_this_process']:,.0f} MB.",
    ]
    for name, t in r.get("study", {}).items():
        lines += ["", f"Study, {name} profile ({t['finished']}): {t['total_seconds']:.0f} s in all; "
                  f"largest kernel peak {t['notebooks'][-1]['kernel_peak_mb_so_far']:,} MB.", "",
                  "| notebook | seconds |", "|---|---:|"]
        lines += [f"| {n['notebook']} | {n['seconds']:.0f} |" for n in t["notebooks"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
