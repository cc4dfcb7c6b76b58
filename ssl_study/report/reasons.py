"""One sentence per pretext unit for the written answer: what its own diagnostics (`Pretext.analyse`, one per seed)
say about the features it teaches, looked up by the unit's name (a unit without an entry says nothing)."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from ..config import get_dataset
from .words import count, listing


def _siamese_why(analyses: list[dict]) -> str:
    pairs = pd.DataFrame([a["pair errors"] for a in analyses]).mean()  # (the diagnostics' keys say "digit")
    same, different = pairs["negative pairs, same digit"], pairs["negative pairs, different digits"]
    dataset = get_dataset()
    example = ("while the task rewards telling two 7s apart as much as a 7 from a 1" if dataset.name == "mnist" else
               f"while the task rewards telling two images of one {dataset.noun} apart as much as two of different "
               f"{dataset.plural}")
    reading = (f": two images of the same {dataset.noun} pass for one image more often, so its features carry the "
               f"{dataset.noun}, {example}" if same > 1.5 * different and same - different > 0.02 else "")
    return (f"The Siamese network calls {same:.0%} of the negative pairs that show the same {dataset.noun} 'same "
            f"image', against {different:.0%} of those that show different {dataset.plural} (mean of "
            f"{count(len(analyses), 'run')}, descriptive){reading}.")


def _rotation_why(analyses: list[dict]) -> str:
    per_class = pd.DataFrame([a["rotation accuracy per digit"] for a in analyses]).mean()  # (per class)
    worst = per_class.sort_values().index[:3]
    hard = per_class[worst].mean() < per_class.mean() - 0.05
    dataset = get_dataset()
    names = [str(d) if dataset.name == "mnist" else dataset.class_names[int(d)] for d in worst]
    return (f"Rotation prediction is hardest for the {dataset.plural} {listing(names)} "
            f"({listing([f'{per_class[d]:.0%}' for d in worst])} of their rotations named right, against "
            f"{per_class.mean():.0%} on average; mean of {count(len(analyses), 'run')}, descriptive)"
            + (f": the task is much harder for some {dataset.plural} than for others." if hard else
               ", not far below the rest."))


#: one sentence for the written answer on what a pretext's diagnostics (one per seed) say about its features
WHY: dict[str, Callable[[list[dict]], str]] = {"siamese": _siamese_why, "rotation": _rotation_why}


def why(name: str, analyses: list[dict]) -> str | None:
    """`WHY`'s sentence for the pretext ``name`` (None: no diagnostics, or nothing to say)."""
    return WHY[name](analyses) if name in WHY and analyses else None
