"""Small words of the written answer: label amounts, verdicts, counts and lists, signed points -- shared by the
conclusion, the analysis' tables and the units' own sentences (`ssl_study.report.views`)."""

from __future__ import annotations

import re

import numpy as np

from ..config import ASSIGNMENT_AMOUNTS

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
