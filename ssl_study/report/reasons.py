"""One sentence per pretext unit for the written answer: what its own diagnostics (`Pretext.analyse`, one per seed)
say about the features it teaches, looked up by the unit's name (a unit without an entry says nothing)."""

from __future__ import annotations

from typing import Callable

import pandas as pd

from .words import count, listing


def _siamese_why(analyses: list[dict]) -> str:
    pairs = pd.DataFrame([a["pair errors"] for a in analyses]).mean()
    same, different = pairs["negative pairs, same digit"], pairs["negative pairs, different digits"]
    reading = (": two images of the same digit pass for one image more often, so its features carry the digit, "
               "while the task rewards telling two 7s apart as much as a 7 from a 1"
               if same > 1.5 * different and same - different > 0.02 else "")
    return (f"The Siamese network calls {same:.0%} of the negative pairs that show the same digit 'same image', "
            f"against {different:.0%} of those that show different digits (mean of "
            f"{count(len(analyses), 'run')}, descriptive){reading}.")


def _rotation_why(analyses: list[dict]) -> str:
    per_digit = pd.DataFrame([a["rotation accuracy per digit"] for a in analyses]).mean()
    worst = per_digit.sort_values().index[:3]
    hard = per_digit[worst].mean() < per_digit.mean() - 0.05
    return (f"Rotation prediction is hardest for the digits {listing([str(d) for d in worst])} "
            f"({listing([f'{per_digit[d]:.0%}' for d in worst])} of their rotations named right, against "
            f"{per_digit.mean():.0%} on average; mean of {count(len(analyses), 'run')}, descriptive)"
            + (": the task is much harder for some digits than for others." if hard else
               ", not far below the rest."))


#: one sentence for the written answer on what a pretext's diagnostics (one per seed) say about its features
WHY: dict[str, Callable[[list[dict]], str]] = {"siamese": _siamese_why, "rotation": _rotation_why}


def why(name: str, analyses: list[dict]) -> str | None:
    """`WHY`'s sentence for the pretext ``name`` (None: no diagnostics, or nothing to say)."""
    return WHY[name](analyses) if name in WHY and analyses else None
