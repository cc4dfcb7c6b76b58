"""The README's results block, written from the full profile's artefacts (never typed by hand)."""

from __future__ import annotations

import json
import re

import numpy as np

from .artefacts import ArtefactError, meta_path, read_meta
from .config import PROFILES, ROOT
from .pretexts import PRETEXTS


def refresh_readme() -> None:
    """Replace the README block between the results markers with tables read from ``artefacts/full``."""
    profile = PROFILES["full"]
    folder = ROOT / "artefacts" / "full"
    summary, timings = folder / "summary.md", folder / "timings.json"
    if not summary.exists() or not timings.exists():
        print("README not refreshed: run the full profile first")
        return
    try:  # the timings of the complete run that made this summary, else (a partial run since) none
        read_meta(timings, "run_study.py")
        times = json.loads(timings.read_text())
    except ArtefactError:
        times = None
    pretext_lines = []
    for name in PRETEXTS:
        metas = [json.loads(meta_path(folder / f"encoder_{name}_seed{s}.weights.h5").read_text())
                 for s in profile.seeds if meta_path(folder / f"encoder_{name}_seed{s}.weights.h5").exists()]
        if metas:
            pretext_lines.append(
                f"{PRETEXTS[name].title} pretext, one run per seed: {metas[0]['epochs']} epochs on "
                f"{metas[0]['train_images']:,} unlabelled images; held-out {metas[0]['monitor']} "
                + ", ".join(f"{m['val_score']:.1%}" for m in metas)
                + f"; {np.mean([m['seconds'] for m in metas]):.0f} s per run.")
    split = json.loads(meta_path(folder / "split.npz").read_text())
    when = f" (run of {times['finished']}, {times['machine']})" if times else ""
    block = (
        "<!-- results:start (written by run_study.py from artefacts/full; do not edit by hand) -->\n"
        f"Test accuracy on the {split['sizes']['test']:,} test images: mean over {len(profile.seeds)} seeds ± "
        "half-width of the 95 % confidence interval; gains are paired differences (same seed and subset) in percentage "
        f"points with their 95 % CI, `*` where it excludes zero{when}:\n\n"
        f"{summary.read_text()}\n" + "\n".join(pretext_lines) + "\n\n"
        "![accuracy vs labels](figures/06_accuracy_vs_labels.png)\n![gain](figures/06_gain.png)\n\n"
    )
    if times:
        rows = "\n".join(f"| {t['notebook']} | {t['seconds']:.0f} | {t['kernel_peak_mb_so_far']:,} |"
                         for t in times["notebooks"])
        block += (
            f"Wall time of the run that made these artefacts: **{times['total_seconds'] / 60:.1f} minutes** with "
            f"{times['jobs']} parallel jobs (fits read from the fit cache count only the seconds it took to read "
            "them; *Speed* has the times from an empty cache):\n\n"
            "| notebook | seconds | largest peak memory of a kernel and its workers so far, MB |\n|---|---:|---:|\n"
            f"{rows}\n")
    block += "<!-- results:end -->"
    replace_readme_block("results", block)
    print("README results block refreshed")


def replace_readme_block(name: str, block: str) -> None:
    """Replace README.md's text from ``<!-- name:start`` to ``<!-- name:end -->`` (markers included) by ``block``."""
    readme = ROOT / "README.md"
    pattern = rf"<!-- {name}:start.*?<!-- {name}:end -->"
    text = readme.read_text()
    if not re.search(pattern, text, flags=re.S):
        raise ValueError(f"README.md has no {name}:start/{name}:end markers")
    readme.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))
