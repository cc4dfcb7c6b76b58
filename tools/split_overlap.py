"""How the confirmatory split's parts overlap the exploratory split's (issue 29: the plan's addendum discloses it).

    MNIST_PNG=... .venv/bin/python tools/split_overlap.py

Both splits are drawn from the same 70,000 images (seeds `EXPLORATORY_SPLIT_SEED` and `CONFIRMATORY_SPLIT_SEED`), so
each part of one holds images of every part of the other. Prints one Markdown table: for each part of the
confirmatory split, how many of its images each part of the exploratory split holds.
"""

from __future__ import annotations

import sys

import numpy as np

from ssl_study.compute.data import load_mnist
from ssl_study.compute.split import SPLIT_NAMES, make_split
from ssl_study.config import CONFIRMATORY_SPLIT_SEED, EXPLORATORY_SPLIT_SEED, SPLIT_PROPORTIONS


def overlap_table(labels: np.ndarray) -> str:
    """The Markdown table of the two splits' overlaps."""
    exploratory = make_split(labels, EXPLORATORY_SPLIT_SEED, SPLIT_PROPORTIONS)
    confirmatory = make_split(labels, CONFIRMATORY_SPLIT_SEED, SPLIT_PROPORTIONS)
    rows = ["| confirmatory part | images | " + " | ".join(f"in the exploratory {p} set" for p in SPLIT_NAMES) + " |",
            "|---|---:|" + "---:|" * len(SPLIT_NAMES)]
    for part in SPLIT_NAMES:
        counts = [len(np.intersect1d(confirmatory[part], exploratory[p])) for p in SPLIT_NAMES]
        rows.append(f"| {part} | {len(confirmatory[part]):,} | " + " | ".join(f"{c:,}" for c in counts) + " |")
    return "\n".join(rows)


def main() -> int:
    print(overlap_table(load_mnist(verbose=False).labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
