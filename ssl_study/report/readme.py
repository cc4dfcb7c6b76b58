"""The README's answer and ``docs/results.md``'s results block, written from the full profile's artefacts (never typed
by hand)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..compute.artefacts import ArtefactError, meta_path, read_meta
from ..study.profiles import PROFILES
from ..config import ROOT
from ..study.methods import BASELINE, HEADLINE, HEADLINE_LABEL, catalogue, method_label, parts
from ..compute.pretexts import PRETEXTS


RESULTS_DOC = ROOT / "docs" / "results.md"  #: where the results block is (the README links it)


def refresh_readme() -> None:
    """Replace the results block of ``docs/results.md`` with tables read from ``artefacts/full``, and the README's
    answer block with notebook 6's answer in two sentences (``answer.md``; its figure, tables and statistics are on the
    first page, ``reports/index.html``)."""
    folder = ROOT / "artefacts" / "full"
    summary, timings = folder / "summary.md", folder / "timings.json"
    if not summary.exists() or not timings.exists():
        print("README not refreshed: run the full profile first")
        return
    times = _run_timings(timings)
    pretext_lines = _pretext_lines(folder)
    block = _comparison_text(folder, summary, times) + _secondary_text(folder)
    if pretext_lines:
        block += ("The pretext runs (one per seed; images seen = encoder passes):\n\n"
                  "| task | runs | epochs | unlabelled images | images seen | seconds per run | held-out score, mean "
                  "(range) |\n|---|---:|---:|---:|---:|---:|---|\n" + "\n".join(pretext_lines) + "\n\n")
    block += _timings_text(times)
    block += cache_sentence(PROFILES["full"].cache) + "\n"
    block += "<!-- results:end -->"
    replace_readme_block("results", block, RESULTS_DOC)
    if (folder / "answer.md").exists():  # notebook 6's answer in two sentences opens the README
        replace_readme_block("answer", "<!-- answer:start (written by run_study.py from artefacts/full/answer.md; "
                                       "do not edit by hand) -->\n" + (folder / "answer.md").read_text().strip()
                             + "\n<!-- answer:end -->")
    print("README answer and docs/results.md refreshed")


def _run_timings(timings: Path) -> dict | None:
    """The timings of the complete run that made this summary (``timings.json``), else (a partial run since) None."""
    try:
        read_meta(timings, "run_study.py")
        return json.loads(timings.read_text())
    except ArtefactError:
        return None


def _pretext_lines(folder: Path) -> list[str]:
    """One table row per pretext task with saved encoders in ``folder``: runs, epochs, images, seconds, scores."""
    profile = PROFILES["full"]
    pretext_lines = []
    for name in PRETEXTS:
        seeds = profile.encoder_seeds(name)
        metas = [json.loads(meta_path(folder / f"encoder_{name}_seed{s}.weights.h5").read_text())
                 for s in seeds if meta_path(folder / f"encoder_{name}_seed{s}.weights.h5").exists()]
        if metas:
            scores = [m["val_score"] for m in metas]
            pretext_lines.append(
                f"| {PRETEXTS[name].title} | {len(metas)} | {metas[0]['epochs']} | {metas[0]['train_images']:,} | "
                f"{metas[0].get('images_seen', 0):,} | {np.mean([m['seconds'] for m in metas]):.0f} | "
                f"{np.mean(scores):.3f} ({min(scores):.3f} to {max(scores):.3f}; {metas[0]['monitor']}) |")
    return pretext_lines


def _comparison_text(folder: Path, summary: Path, times: dict | None) -> str:
    """The opening of the results block: the assignment's comparison (notebook 6's ``summary.md``) and its figures."""
    split = json.loads(meta_path(folder / "split.npz").read_text())
    when = f" (run of {times['finished']}, {times['machine']})" if times else ""
    return (
        "<!-- results:start (written by run_study.py from artefacts/full; do not edit by hand) -->\n"
        f"The confirmatory run{when}: the assignment's comparison on the {split['sizes']['test']:,} test images, the "
        "CNN trained from scratch against the same CNN trained with the same recipe from the "
        f"{HEADLINE_LABEL} encoder, at the "
        "primary amounts and the assignment's ten fractions. Mean test accuracy over the seeds; the paired gain (same "
        "seed, subset and test images) in points with its 95 % interval, seeds and test images counted. These are "
        "descriptive; the tests of the analysis plan (ANALYSIS_PLAN.md), with their families and words, are in "
        "notebook 6 and `artefacts/full/gains.csv`.\n\n"
        f"{summary.read_text()}\n"
        "![accuracy vs labels](../figures/06_accuracy_vs_labels.png)\n![gain](../figures/06_gain.png)\n\n"
    )


def _secondary_text(folder: Path) -> str:
    """The other methods' tables and the sentences on the range, the precision and MNIST's official test images
    (each only where its artefact is in ``folder``)."""
    block = ""
    if (folder / "semi.md").exists():
        block += ("Every test of the analysis plan and its addendum, with its verdict (notebook 6):\n\n"
                  f"{(folder / 'semi.md').read_text()}\n")
    if (folder / "pretexts.md").exists():
        block += f"{(folder / 'pretexts.md').read_text()}\n![unlabelled sweep](../figures/04_unlabelled_sweep.png)\n\n"
    if (folder / "summary.csv").exists():
        block += range_at_smallest(folder / "summary.csv") + "\n\n"
    if (folder / "gains.csv").exists():
        block += primary_precision(folder / "gains.csv") + "\n\n"
    if (folder / "summary.csv").exists() and official_sentence(folder / "summary.csv"):
        block += official_sentence(folder / "summary.csv") + "\n\n"
    return block


def _timings_text(times: dict | None) -> str:
    """The wall time of the run that made the artefacts (per notebook), and that of the last run from an empty fit
    cache (``benchmarks/results/``), where known."""
    block = ""
    if times:
        rows = "\n".join(f"| {t['notebook']} | {t['seconds']:.0f} | {t['kernel_peak_mb_so_far']:,} |"
                         for t in times["notebooks"])
        block += (
            f"Wall time of the run that made these artefacts: **{times['total_seconds'] / 60:.1f} minutes** with "
            f"{times['jobs']} parallel jobs (fits read from the fit cache count only the seconds it took to read "
            "them; *Speed* says what this run reused):\n\n"
            "| notebook | seconds | largest peak memory of a kernel and its workers so far, MB |\n|---|---:|---:|\n"
            f"{rows}\n")
    timed = ROOT / "benchmarks" / "results" / "confirmatory_run.jsonl"
    fresh = ROOT / "benchmarks" / "results" / "full_profile_from_empty.json"
    if timed.exists():  # the parts of the run from an empty cache, timed by benchmarks/timed_run.py
        parts = [json.loads(line) for line in timed.read_text().splitlines() if line.strip()]
        block += (f"\nFrom an **empty** fit cache with two jobs: **{sum(p['wall_s'] for p in parts) / 60:.0f} "
                  f"minutes** of wall time in all, in {len(parts)} part{'s' if len(parts) != 1 else ''} (a part "
                  "ends when the run is stopped, and the next resumes from the fit cache; "
                  "`benchmarks/results/confirmatory_run.md`, measured by `benchmarks/timed_run.py`).\n")
    elif fresh.exists():  # the timings.json of the last full `run_study.py --fresh` run (copied there by the runner)
        run = json.loads(fresh.read_text())
        block += (f"\nFrom an **empty** fit cache (`run_study.py --jobs {run['jobs']} --fresh`, finished "
                  f"{run['finished']}, {run['machine']}): **{run['total_seconds'] / 60:.1f} minutes**; "
                  + ", ".join(f"{t['notebook'][:2]} {t['seconds'] / 60:.1f} min" for t in run["notebooks"])
                  + " (`benchmarks/results/full_profile_from_empty.json`).\n")
    return block


def range_at_smallest(summary_csv: Path) -> str:
    """One sentence: at the smallest label amount, the range of the pre-trained encoders' models and of their frozen
    features, beside the supervised baseline and the untrained-encoder control (from notebook 6's summary; a range,
    not a ranking: the plan tests only its chosen comparisons, and "best" means chosen on validation data)."""
    import pandas as pd

    summary = pd.read_csv(summary_csv)
    small = summary[summary["n_labels"] == summary["n_labels"].min()].set_index("method")["mean"]
    methods = {m: parts(m) for m in small.index if m in catalogue()}
    trained = [small[m] for m, (encoder, use) in methods.items() if encoder in PRETEXTS
               and use in ("recipe", "finetune")]
    frozen = [small[m] for m, (encoder, use) in methods.items() if encoder in PRETEXTS and use in ("knn", "logistic")]
    control = [small[m] for m, (encoder, _) in methods.items() if encoder == "random"]
    amount = summary.loc[summary["n_labels"].idxmin(), "amount"]
    return (f"At {amount} (means over seeds, descriptive): the CNN trained from a pre-trained encoder reaches "
            f"{min(trained):.1%} to {max(trained):.1%} by task and schedule, frozen pre-trained features "
            f"{min(frozen):.1%} to {max(frozen):.1%}; training from scratch {small['supervised']:.1%}, and the "
            f"untrained encoder's uses {min(control):.1%} to {max(control):.1%}.")


def official_sentence(summary_csv: Path) -> str:
    """One sentence: the supervised and the Siamese fine-tuned CNN on the test images from MNIST's official test set."""
    import pandas as pd

    summary = pd.read_csv(summary_csv)
    if "official_mean" not in summary:
        return ""
    by = summary.set_index(["method", "amount"])["official_mean"]
    ordered = summary.sort_values("n_labels")["amount"].drop_duplicates().tolist()
    shown = [a for a in (ordered[0], ordered[-1])]
    parts = [f"{a}: {method_label(BASELINE)} {by[BASELINE, a]:.2%}, {method_label(HEADLINE)} {by[HEADLINE, a]:.2%}"
             for a in shown if (HEADLINE, a) in by.index]
    return ("On the test images that come from MNIST's official test set (the split pools MNIST's training and test "
            "sets, so official test images and the writers of both are in every part; notebook 1 counts them): "
            + "; ".join(parts) + ".")


def primary_precision(gains_csv: Path) -> str:
    """One sentence: the half-width of the primary gain's 95 % CI at each primary amount, and its number of pairs."""
    import pandas as pd

    gains = pd.read_csv(gains_csv)
    primary = gains[gains["family"] == "primary"].sort_values("n_labels")
    parts = [f"±{(row.ci_high - row.ci_low) / 2:.2f} points at {row.amount} ({int(row.pairs)} paired seeds)"
             for row in primary.itertuples()]
    return ("Precision of the primary tests (half-width of the 95 % interval of the paired gain, seeds and test images "
            "counted): " + "; ".join(parts) + ".")


def replace_readme_block(name: str, block: str, path: Path | None = None) -> None:
    """Replace the text from ``<!-- name:start`` to ``<!-- name:end -->`` (markers included) of README.md (or of
    ``path``, a page of ``docs/``) by ``block``."""
    readme = path or ROOT / "README.md"
    pattern = rf"<!-- {name}:start.*?<!-- {name}:end -->"
    text = readme.read_text()
    if not re.search(pattern, text, flags=re.S):
        raise ValueError(f"{readme.name} has no {name}:start/{name}:end markers")
    readme.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))


def cache_sentence(cache: Path) -> str:
    """The committed fit cache in one sentence: its entries by kind, files and size."""
    from collections import Counter

    from ..study.store import Store

    kinds = Counter(kind for kind, _ in Store(cache).entries())
    files = [p for p in cache.rglob("*") if p.is_file()]
    names = {"fit": "fits", "pretext": "pretext runs", "semi": "semi-supervised runs", "tsne": "t-SNE maps"}
    return (f"\nThe committed fit cache (`artefacts/full/cache/`): {sum(kinds.values()):,} entries ("
            + ", ".join(f"{n:,} {names.get(k, k)}" for k, n in sorted(kinds.items()))
            + f") in {len(files):,} files, {sum(p.stat().st_size for p in files) / 2**20:.1f} MiB.")

