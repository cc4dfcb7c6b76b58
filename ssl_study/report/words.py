"""Small words of the written answer: label amounts, verdicts, counts and lists, signed points -- shared by the
conclusion, the analysis' tables and the units' own sentences (`ssl_study.report.views`)."""

from __future__ import annotations

import re

import numpy as np

from ..config import ASSIGNMENT_AMOUNTS

ALPHA = 0.05  #: two-sided, after Holm's correction within a family (the plans' wording rule)
SCRATCH = "training from scratch"  #: the supervised baseline, in prose

FIGURE = "<!-- figure -->"  #: where the first page puts its figure: after the two sentences (the README stops there)

#: the family of the comparisons shown with intervals but never tested or worded (`analysis.verdict`)
DESCRIPTIVE = "descriptive"


def amount_words(amount: str) -> str:
    """``10/class`` -> "10 labels per class"; ``1%`` -> "1 % of the labels"; "pooled: ..." -> its amounts."""
    if amount.startswith("pooled: "):
        amounts = amount.removeprefix("pooled: ").split(", ")
        if tuple(amounts) == tuple(ASSIGNMENT_AMOUNTS):
            return "the assignment's ten fractions on average"
        return listing([amount_words(a) for a in amounts]) + " on average"
    if amount.endswith("/class"):
        return f"{amount.split('/')[0]} labels per class"
    return f"{amount.rstrip('%')} % of the labels"


def in_dataset_words(text: str, dataset) -> str:
    """Prose written for MNIST (the default dataset: the notebooks' Markdown) in ``dataset``'s words: its name for
    MNIST's, and its noun for a class for "digit" ("garment class", "garment classes"), capitals kept."""
    from ..config import DATASETS, DEFAULT_DATASET

    default = DATASETS[DEFAULT_DATASET]
    if dataset.name == default.name:
        return text

    def swap(new: str):
        return lambda m: new[:1].upper() + new[1:] if m.group(0)[:1].isupper() else new

    text = re.sub(rf"(?<![\w-]){re.escape(default.title)}\b", dataset.title, text)
    text = re.sub(rf"\b{default.noun}s\b", swap(dataset.plural), text, flags=re.I)
    return re.sub(rf"\b{default.noun}\b", swap(dataset.noun), text, flags=re.I)


#: the verdicts of `analysis.verdict` as a table shows them
VERDICT_WORDS = {"better": "better", "worse": "worse", "equivalent": "equivalent",
                 "undetected": "no difference detected", "untested": "not tested", DESCRIPTIVE: "described, not tested"}


def verdict_words(verdict: str) -> str:
    """A verdict for a table: "no difference detected" for ``undetected`` (the interval says how much it could be)."""
    return VERDICT_WORDS.get(verdict, verdict)


def count(n: int, noun: str) -> str:
    """``count(1, "test")`` -> "1 test"; ``count(2, "test")`` -> "2 tests"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def listing(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + "."


def pts(value: float) -> str:
    """A signed number of points with two decimals, never "-0.00" ("–" for none)."""
    return "–" if np.isnan(value) else f"{round(float(value), 2) + 0.0:+.2f}"


def p_words(p: float) -> str:
    """A p-value for people: "p < 0.001", "p = 0.011", "p > 0.99" (never "9.87e-09" or "p = 1.")."""
    if np.isnan(p):
        return "no p-value"
    if p < 0.001:
        return "p < 0.001"
    if p > 0.99:
        return "p > 0.99"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def side(gap: float, half: float) -> str:
    """Where a paired difference lies against its reference, by its 95 % interval (``gap`` ± ``half``): "above",
    "below", "not distinguishable from"; on one seed (no interval) "measured against", no direction claimed."""
    if half != half:
        return "measured against"
    return "above" if gap - half > 0 else "below" if gap + half < 0 else "not distinguishable from"


def gap_words(gap: float, half: float, seeds: int) -> str:
    """A paired difference in points with its interval and seeds: "+4.87 points, 95 % interval [+0.42, +9.33], over 3
    seeds", or "+0.76 points on one seed, no interval"."""
    if half != half:
        return f"{pts(gap)} points on one seed, no interval"
    return f"{pts(gap)} points, 95 % interval [{pts(gap - half)}, {pts(gap + half)}], over {count(seeds, 'seed')}"


# The wording rule's clauses, shared by the written answer (`conclusion`) and the first page (`front`)


def phrase(row, reference: str = SCRATCH) -> str:
    """One test of the plan as a plain clause against ``reference``, by the wording rule (`analysis.verdict`): "is
    better than training from scratch by 0.62 points", "is equivalent to training from scratch (within ±0.96
    points)", "shows no difference from training from scratch that the data can detect with 30 seeds (95 % interval
    [-0.20, +0.35] points)". The statistics of a claim go to a footnote (`footnote`)."""
    kind = row["verdict"]
    if kind in ("better", "worse"):
        inside = (f", a difference inside the margin of equivalence (±{row['margin']:.2f} points)"
                  if row.get("p_equivalence_holm", 1.0) < ALPHA else "")
        return f"is {kind} than {reference} by {abs(row['gain']):.2f} points{inside}"
    if kind == "equivalent" and row.get("amounts", 1) > 1:  # a pooled test bounds the mean over its amounts
        return (f"is equivalent to {reference} (its mean gain over the {int(row['amounts'])} amounts within "
                f"±{row['margin']:.2f} points: a bound on the mean, not on each amount)")
    if kind == "equivalent":
        return f"is equivalent to {reference} (within ±{row['margin']:.2f} points)"
    interval = f"95 % interval [{pts(row['ci_low'])}, {pts(row['ci_high'])}] points"
    if kind == "undetected":
        seeds = count(int(row["pairs"]), "seed")
        return f"shows no difference from {reference} that the data can detect with {seeds} ({interval})"
    if kind == DESCRIPTIVE:
        return f"differs from {reference} by {pts(row['gain'])} points ({interval}; descriptive, not tested)"
    if not row["pairs"] >= 1:
        return f"was not measured against {reference} in this run (not tested)"
    planned = row.get("planned_pairs", np.nan)
    short = f" of {int(planned)} planned" if planned == planned and row["pairs"] < planned else ""
    seeds = count(int(row["pairs"]), "seed")
    return f"differs from {reference} by {pts(row['gain'])} points ({seeds}{short}: not tested)"


def pick(tests, family: str, method: str | None = None, amount: str | None = None,
         baseline: str | None = None):
    """The one test of ``family`` (and ``method``, ``amount``, ``baseline`` where given), or None."""
    rows = tests[tests["family"] == family]
    for column, value in (("method", method), ("amount", amount), ("baseline", baseline)):
        if value is not None:
            rows = rows[rows[column] == value]
    return rows.iloc[0] if len(rows) else None


def named_amount(amount: str | None) -> str:
    """A crossover amount in words: "1 % of the labels", or "beyond the curve's largest amount" (None: every interval
    excludes zero)."""
    return amount_words(amount) if amount else "beyond the curve's largest amount"


def agrees(first, addendum) -> bool:
    """Whether the addendum's verdict at an amount is the first confirmatory run's there (the first page,
    `front.headline`)."""
    return first["verdict"] == addendum["verdict"]
