"""Run the six notebooks in order and render them as HTML.

    python run_study.py                 # full profile: executes notebooks/ in place, HTML in reports/
    python run_study.py --profile quick # quick profile: writes to artefacts/quick/{notebooks,reports}; the committed
                                        # notebooks are left untouched
    python run_study.py --readme        # only refresh the README's results block from artefacts/full

Per-notebook wall times and the peak memory of each kernel go to ``artefacts/<profile>/timings.json``; a full run
also refreshes the results block of README.md from its artefacts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

import helpers

NOTEBOOKS = [
    helpers.NOTEBOOK_SPLIT,
    helpers.NOTEBOOK_SUPERVISED,
    helpers.NOTEBOOK_ENCODER,
    helpers.NOTEBOOK_PRETEXT,
    helpers.NOTEBOOK_FINETUNE,
    helpers.NOTEBOOK_COMPARISON,
]


def execute(source: Path, target: Path, html_dir: Path) -> dict:
    """Execute one notebook top to bottom (cwd: notebooks/), save it to ``target`` and render it to HTML."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(nb, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(helpers.NOTEBOOKS_DIR)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, if one fails
    seconds = time.perf_counter() - start
    # ru_maxrss of the finished child processes (the kernels): the largest peak of any kernel so far, in KiB
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    html, _ = HTMLExporter().from_notebook_node(nb)
    html_dir.mkdir(parents=True, exist_ok=True)
    (html_dir / target.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return {"notebook": source.name, "seconds": round(seconds, 1), "kernel_peak_mb_so_far": round(peak_mb)}


def refresh_readme(profile: helpers.Profile) -> None:
    """Replace the README block between the results markers with tables read from the profile's artefacts."""
    summary = profile.artefacts / "summary.md"
    timings = profile.artefacts / "timings.json"
    if not summary.exists() or not timings.exists():
        print(f"README not refreshed: run the {profile.name} profile first", file=sys.stderr)
        return
    times = json.loads(timings.read_text())
    rows = "\n".join(f"| {t['notebook']} | {t['seconds']:.0f} | {t['kernel_peak_mb_so_far']:,} |" for t in times["notebooks"])
    pretext = [json.loads(helpers.meta_path(helpers.encoder_weights(profile, "siamese", s)).read_text())
               for s in profile.seeds]
    block = (
        "<!-- results:start (written by run_study.py from artefacts/full; do not edit by hand) -->\n"
        f"Test accuracy on the {times['test_images']:,} test images: mean over {len(profile.seeds)} seeds ± half-width "
        "of the 95 % confidence interval; gains are paired differences (same seed and subset) in percentage points "
        f"with their 95 % CI, `*` where it excludes zero (run of {times['finished']}, {times['machine']}):\n\n"
        f"{summary.read_text()}\n"
        f"Siamese pretext, one run per seed: {pretext[0]['epochs']} epochs on {pretext[0]['train_images']:,} "
        f"unlabelled images ({pretext[0]['pairs_per_epoch']:,} pairs per epoch), held-out pretext accuracy "
        + ", ".join(f"{p['val_accuracy']:.1%}" for p in pretext)
        + f", {np.mean([p['seconds'] for p in pretext]):.0f} s per run.\n\n"
        "![accuracy vs labels](figures/06_accuracy_vs_labels.png)\n![gain](figures/06_gain.png)\n\n"
        f"Wall time of the whole run: **{times['total_seconds'] / 60:.1f} minutes** "
        f"(largest peak memory of a notebook kernel: {times['notebooks'][-1]['kernel_peak_mb_so_far']:,} MB):\n\n"
        "| notebook | seconds | largest kernel peak so far, MB |\n|---|---:|---:|\n"
        f"{rows}\n"
        "<!-- results:end -->"
    )
    replace_readme_block("results", block)
    print("README results block refreshed")


def replace_readme_block(name: str, block: str) -> None:
    """Replace README.md's text from ``<!-- name:start`` to ``<!-- name:end -->`` (markers included) by ``block``."""
    readme = helpers.ROOT / "README.md"
    pattern = rf"<!-- {name}:start.*?<!-- {name}:end -->"
    text = readme.read_text()
    if not re.search(pattern, text, flags=re.S):
        raise ValueError(f"README.md has no {name}:start/{name}:end markers")
    readme.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=os.environ.get(helpers.PROFILE_ENV, "full"), choices=helpers.PROFILES)
    parser.add_argument("--only", nargs="*", help="run only these notebooks (names as in notebooks/)")
    parser.add_argument("--readme", action="store_true", help="only refresh the README from artefacts/full")
    args = parser.parse_args()
    profile = helpers.get_profile(args.profile)
    if args.readme:
        refresh_readme(helpers.get_profile("full"))
        return
    os.environ[helpers.PROFILE_ENV] = profile.name  # the kernels inherit it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    helpers.find_source()  # fail now, not in the first notebook, if there is no data
    if profile.name == "full":
        out_dir, html_dir = helpers.NOTEBOOKS_DIR, helpers.ROOT / "reports"
    else:
        out_dir, html_dir = profile.artefacts / "notebooks", profile.artefacts / "reports"
    timings, start = [], time.perf_counter()
    for name in args.only or NOTEBOOKS:
        print(f"[{profile.name}] running {name} ...", flush=True)
        timings.append(execute(helpers.NOTEBOOKS_DIR / name, out_dir / name, html_dir))
        print(f"[{profile.name}] {name}: {timings[-1]['seconds']:.0f} s", flush=True)
    total = time.perf_counter() - start
    print(f"[{profile.name}] all done in {total / 60:.1f} min; notebooks in {out_dir}, HTML in {html_dir}")
    if args.only:
        return
    import platform

    split = np.load(profile.artefacts / "split.npz")
    (profile.artefacts / "timings.json").write_text(json.dumps({
        "profile": profile.name, "total_seconds": round(total, 1), "notebooks": timings,
        "finished": time.strftime("%Y-%m-%d %H:%M"), "test_images": int(len(split["test"])),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"Keras backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}",
    }, indent=2))
    if profile.name == "full":
        refresh_readme(profile)


if __name__ == "__main__":
    main()
