"""The first page (``reports/index.html``, and the README's opening): the answer in two plain sentences (`headline`),
the assignment's table (`assignment_table`), the other comparisons each against training from scratch
(`comparisons_table`), and the statistics of every test one click away (`front_page`'s notes, p-values for people:
`words.p_words`).

Every number and every claim's direction is computed from the tests of the plan (`ssl_study.report.analysis`), by its
wording rule: "helps" only where the family's Holm-corrected test says "better", "equivalent" only where the
equivalence test does; a difference the data cannot see is given with its seeds and interval. Where the addendum ran
(ANALYSIS_PLAN_ADDENDUM.md: each start tuned where labels are scarce), its verdicts give the answer and the first
run's stand beside them where they differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import (DESCRIPTIVE, FINETUNE, TUNED_CONTROL, TUNED_SCRATCH, TUNED_SIAMESE, UNTRAINED_FINETUNE,
                       Family)
from ..config import ASSIGNMENT_AMOUNTS, choices
from ..study.ids import method_id
from ..study.methods import BASELINE, HEADLINE, HEADLINE_LABEL as H, encoder_label
from .words import (ALPHA, FIGURE, agrees, amount_words, count, listing, named_amount, p_words, phrase, pick, pts,
                    sentence, verdict_words)



def footnote(row) -> str:
    """The statistics of one test for a reader: gain, interval, seeds, then the p-values in words ("p < 0.001") with
    the family and its correction, and the equivalence test."""
    question = row["question"][:1].upper() + row["question"][1:]
    if not row["pairs"] >= 1:
        return f"{question}, {amount_words(row['amount'])}: not measured in this run."
    if row["pairs"] < 2:
        return (f"{question}, {amount_words(row['amount'])}: {pts(row['gain'])} points on one seed (no interval, "
                "no test).")
    text = (f"{question}, {amount_words(row['amount'])}: {pts(row['gain'])} points, 95 % interval "
            f"[{pts(row['ci_low'])}, {pts(row['ci_high'])}] over {count(int(row['pairs']), 'seed')}")
    if row["verdict"] == DESCRIPTIVE:
        return text + " (described, not tested)."
    if row["verdict"] == "untested":
        planned = row.get("planned_pairs", np.nan)
        short = f" of {int(planned)} planned" if planned == planned and row["pairs"] < planned else ""
        return text + f" (not tested: {count(int(row['pairs']), 'seed')}{short})."
    tests = int(row["tests_in_family"]) if not np.isnan(row["tests_in_family"]) else 1
    images = " (seeds and test images counted)" if row.get("images_bootstrapped", False) else " (seeds only)"
    return (text + f"{images}. Difference: {p_words(row['p_holm'])} after Holm's correction over the "
            f"{count(tests, 'test')} of its family ({FAMILY_WORDS.get(row['family'], row['family'])}; "
            f"{p_words(row['p_value'])} alone). Equivalence within ±{row['margin']:.2f} points: "
            f"{p_words(row['p_equivalence_holm'])}.")


def _effect(row) -> str:
    """A test's result in a few plain words, by the wording rule: "a gain of 1.08 points", "a loss of ...", "+0.10
    points: equivalent, within ±0.53", "+0.30 points, which 30 seeds cannot tell from zero: 95 % interval [...]"."""
    kind, gain = row["verdict"], row["gain"]
    if kind == "better":
        inside = (f", inside the margin of ±{row['margin']:.2f} points" if row.get("p_equivalence_holm", 1) < ALPHA
                  else "")
        return f"a gain of {abs(gain):.2f} points{inside}"
    if kind == "worse":
        return f"a loss of {abs(gain):.2f} points"
    if kind == "equivalent":
        return f"{pts(gain)} points: equivalent, within ±{row['margin']:.2f}"
    interval = f"95 % interval [{pts(row['ci_low'])}, {pts(row['ci_high'])}]"
    if kind == "undetected":
        return f"{pts(gain)} points, which {count(int(row['pairs']), 'seed')} cannot tell from zero: {interval}"
    return f"{pts(gain)} points, not tested"


def _images(row) -> str:
    """"10 labels per class (100 images)"."""
    images = "" if np.isnan(row["n_labels"]) else f" ({int(row['n_labels']):,} images)"
    return f"{amount_words(row['amount'])}{images}"


def _opening(rows: pd.DataFrame) -> str:
    """The answer's first words from the verdicts at the scarce amounts (``rows``: their tests), naming the amounts
    where only some say "better" or "worse"."""
    verdicts = list(rows["verdict"])
    better = [amount_words(a) for a, v in zip(rows["amount"], verdicts) if v == "better"]
    worse = [amount_words(a) for a, v in zip(rows["amount"], verdicts) if v == "worse"]
    if len(better) == len(verdicts):
        return "Yes, where labels are scarce"
    if len(worse) == len(verdicts):
        return "No: where labels are scarce it makes the CNN worse"
    if better and worse:
        return "It depends on the amount"
    if better:
        return f"Yes, at {listing(better)}"
    if worse:
        return f"No: at {listing(worse)} it makes the CNN worse"
    if all(v == "equivalent" for v in verdicts):
        return "No, not by a margin that matters"
    if all(v in ("undetected", "equivalent") for v in verdicts):
        return "Not detectably"
    return "Not tested in this run"


def headline(tests: pd.DataFrame, summary: pd.DataFrame, crossing: dict | None = None) -> list[str]:
    """The answer in two plain sentences: does pre-training help, by how much and where labels are scarce (the
    addendum's tuned arms where they ran, else the first run's primary tests); and what the assignment's comparison
    gives over its fractions and where the curve's gain first includes zero (``crossing``, descriptive). A third
    sentence only where the addendum's verdict differs from the first run's."""
    by = summary.set_index(["method", "amount"])["mean"]
    tuned = tests[tests["family"] == Family.ADDENDUM].sort_values("n_labels")
    first = tests[tests["family"] == Family.PRIMARY].sort_values("n_labels")
    rows, (pre, base) = (tuned, (TUNED_SIAMESE, TUNED_SCRATCH)) if len(tuned) else (first, (HEADLINE, BASELINE))
    said = []
    if len(rows):
        clauses = []
        for i, (_, row) in enumerate(rows.iterrows()):
            a = row["amount"]
            ours, theirs = by.get((pre, a), np.nan), by.get((base, a), np.nan)
            accuracy = "" if np.isnan(ours + theirs) else f"{ours:.1%} test accuracy against {theirs:.1%}"
            if i == 0:
                subject = (f"a CNN whose encoder was first pre-trained on the {H} task with the unlabelled images "
                           + (f"reaches {accuracy} for the same CNN trained from scratch" if accuracy else
                              "against the same CNN trained from scratch"))
                tuned_words = ", each with its own settings tuned for so few labels," if len(tuned) else ""
                clauses.append(f"with {_images(row)}{tuned_words} {subject} ({_effect(row)})")
            else:
                clauses.append(f"with {_images(row)}, {accuracy + ' ' if accuracy else ''}({_effect(row)})")
        said.append(sentence(f"{_opening(rows)}: " + "; ".join(clauses)))
    said += [s for s in [_more_labels(tests, crossing)] if s]
    olds = [(row, pick(tests, Family.PRIMARY, amount=row["amount"])) for _, row in tuned.iterrows()]
    differ = [(row, old) for row, old in olds if old is not None and not agrees(old, row)]
    if differ:
        said.append(sentence("the first run, which trained both with one recipe, found "
                             + ", and ".join(f"at {amount_words(row['amount'])} {_effect(old)}"
                                             for row, old in differ)))
    return said


def _more_labels(tests: pd.DataFrame, crossing: dict | None) -> str:
    """With more labels: the assignment's pooled test (one recipe for both) in the plan's words, a bound on the mean
    over its fractions and never on each; and where the curve's gain is above and below zero by its intervals, with
    the plan's crossover -- where it first includes zero (descriptive; only where every amount of the curve has an
    interval). Empty where neither ran."""
    pooled = pick(tests, Family.ASSIGNMENT)
    parts = []
    if pooled is not None and pooled["pairs"] >= 1:
        n = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == HEADLINE)
                  & tests["amount"].isin(ASSIGNMENT_AMOUNTS)]["n_labels"]
        fractions = int(pooled["amounts"]) if pooled.get("amounts", np.nan) == pooled.get("amounts", np.nan) else len(n)
        span = f" ({int(n.min()):,} to {int(n.max()):,} labelled images)" if len(n) else ""
        mean = f"over the assignment's {fractions} fractions{span}, with one recipe for both, the mean gain is "
        kind = pooled["verdict"]
        if kind == "equivalent":
            parts.append(mean + f"{pts(pooled['gain'])} points, equivalent to no gain within "
                         f"±{pooled['margin']:.2f} points (a bound on the mean, not on each fraction)")
        elif kind in ("better", "worse"):
            parts.append(mean + f"{pts(pooled['gain'])} points, {kind} than training from scratch")
        else:
            parts.append(mean + _effect(pooled))
    curve = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == TUNED_SIAMESE)
                  & (tests["baseline"] == TUNED_SCRATCH)]
    if crossing and curve["n_labels"].nunique() > 1 and (curve["pairs"] >= 2).all():
        labels = dict(zip(curve["amount"], curve["n_labels"].astype(int)))
        first = ("" if not crossing["amount"] else f", and first includes zero at {labels[crossing['amount']]:,} labels"
                 + ("" if crossing["low"] == crossing["high"] else f" ({labels[crossing['low']]:,} to "
                    f"{labels[crossing['high']]:,} with the seeds resampled)"))
        parts.append(f"along the curve from {min(labels.values()):,} to {max(labels.values()):,} labels (descriptive, "
                     f"each start tuned), the gain's 95 % interval {_signs(curve)}{first}")
    return sentence("; ".join(parts)) if parts else ""


def _signs(curve: pd.DataFrame) -> str:
    """Where the curve's gain is above zero and where below by its 95 % interval, the amounts counted in labels (the
    curve need not fall steadily: a gain at 200 labels and a loss from 1,000 on is said as such)."""
    above, below = curve[curve["ci_low"] > 0], curve[curve["ci_high"] < 0]
    for side, rows in (("above", above), ("below", below)):
        if len(rows) == len(curve):
            return f"stays {side} zero at every amount"
    labels = lambda rows: listing([f"{int(n):,}" for n in sorted(rows["n_labels"])]) + " labels"  # noqa: E731
    sides = [f"{side} zero at {labels(rows)}" for side, rows in (("above", above), ("below", below)) if len(rows)]
    return "is " + " and ".join(sides) if sides else "includes zero at every amount"


def assignment_table(tests: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The assignment's comparison at its ten fractions (and the primary amounts): mean accuracy trained from scratch
    and from the headline pretext's encoder, the paired gain with its 95 % interval (descriptive), and the seeds."""
    by = summary.set_index(["method", "amount"])
    per_amount = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == HEADLINE)].set_index("amount")
    rows = [f"| labelled images | trained from scratch | {H}, fine-tuned | gain (points) | 95 % interval | "
            "seeds |", "|:---|---:|---:|---:|:---|---:|"]
    for amount in per_amount.index:
        row = per_amount.loc[amount]
        n = int(by.loc[(BASELINE, amount), "n_labels"])
        interval = "–" if row["pairs"] < 2 else f"[{pts(row['ci_low'])}, {pts(row['ci_high'])}]"
        rows.append(f"| {amount} ({n:,}) | {by.loc[(BASELINE, amount), 'mean']:.2%} | "
                    f"{by.loc[(HEADLINE, amount), 'mean']:.2%} | {pts(row['gain'])} | {interval} | "
                    f"{int(row['pairs'])} |")
    return "\n".join(rows)


def comparisons() -> list[tuple]:
    """The other comparisons of the first page: (family, method, baseline, what a reader is told), in order (the best
    other pretext and its use: the dataset's `Choices`)."""
    best, use = choices().best_pretext, choices().other_use
    return [
        (Family.ADDENDUM, TUNED_SIAMESE, TUNED_SCRATCH, f"{H} start vs from scratch, each tuned for few labels"),
        (Family.WEIGHT_SCALE, TUNED_SIAMESE, TUNED_CONTROL, f"{H} start vs untrained weights at its scale, both tuned"),
        (Family.WEIGHT_SCALE, TUNED_CONTROL, TUNED_SCRATCH, "untrained weights at the pre-trained scale, with the "
         "Siamese start's settings, vs from scratch"),
        (Family.PRIMARY, HEADLINE, BASELINE, f"{H} start vs from scratch, one recipe for both (the first run)"),
        (DESCRIPTIVE, FINETUNE, BASELINE, f"{H} start, linear probe first, vs from scratch"),
        (Family.TWO_BY_TWO, UNTRAINED_FINETUNE, BASELINE, "untrained encoder, linear probe first, vs from scratch"),
        (Family.OTHER, method_id(best, use), BASELINE, f"{encoder_label(best)} pre-training (the best other task)"
         f"{', linear probe first,' if use == 'finetune' else ''} vs from scratch"),
        (Family.SEMI, None, BASELINE, "semi-supervised training on the unlabelled images vs from scratch"),
    ]


def comparison_rows(tests: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """The tests the first page's second table shows, with what a reader is told of each (`comparisons`), in order;
    a descriptive comparison only at the primary amounts."""
    primary = set(tests.loc[tests["family"] == Family.PRIMARY, "amount"])
    shown = []
    for family, method, baseline, words in comparisons():
        rows = tests[(tests["family"] == family) & (tests["baseline"] == baseline)]
        rows = rows[rows["method"] == method] if method else rows.iloc[:1]
        if family == DESCRIPTIVE:
            rows = rows[rows["amount"].isin(primary)]
        shown += [(words, row) for _, row in rows.sort_values("n_labels").iterrows()]
    return shown


def comparisons_table(shown: list[tuple[str, pd.Series]], amounts: list[tuple[str, int]]) -> str:
    """The other comparisons as a Markdown table, one row each: what is compared, and at each primary amount
    (``amounts``: name and images) the gain with its 95 % interval, the verdict in words and the number of its note;
    a test pooled over the amounts in one cell that says so. The seeds: the most any of its cells has."""
    header = " | ".join(f"{a} ({n:,})" for a, n in amounts)
    lines = [f"| compared | {header} | seeds |", "|:---|" + ":---|" * len(amounts) + "---:|"]
    rows: dict[str, dict] = {}
    for i, (words, row) in enumerate(shown, 1):
        interval = "" if row["pairs"] < 2 else f" [{pts(row['ci_low'])}, {pts(row['ci_high'])}]"
        cell = (f"{pts(row['gain'])}{interval}, {verdict_words(row['verdict'])}"
                f"<sup><a href=\"#note{i}\">{i}</a></sup>")
        entry = rows.setdefault(words, {"cells": {}, "seeds": 0})
        entry["seeds"] = max(entry["seeds"], int(row["pairs"]))
        pooled = row["amount"].startswith("pooled: ")
        over = len(row["amount"].removeprefix("pooled: ").split(", ")) if pooled else 1
        entry["cells"][amounts[0][0] if pooled else row["amount"]] = cell + (
            f" (mean of the {over} amounts)" if over > 1 else "")
    for words, entry in rows.items():
        cells = " | ".join(entry["cells"].get(a, "") for a, _ in amounts)
        lines.append(f"| {words} | {cells} | {entry['seeds']} |")
    return "\n".join(lines)


def front_page(tests: pd.DataFrame, summary: pd.DataFrame, plan_commit: str = "", crossing: dict | None = None,
               addendum_commit: str = "") -> str:
    """The first page's answer (Markdown): the two sentences (`headline`), the place of the figure (`FIGURE`), the
    assignment's table, the other comparisons (`comparisons_table`), and the statistics of each as numbered notes in
    a folded block. Every number and word comes from ``tests`` (`analysis.analyse`) and ``summary``."""
    shown = comparison_rows(tests)
    pooled = pick(tests, Family.ASSIGNMENT)
    notes = [footnote(row) for _, row in shown] + ([footnote(pooled)] if pooled is not None else [])
    frozen = [f"the analysis plan{f' (frozen in commit {plan_commit} before the run)' if plan_commit else ''}"]
    if addendum_commit and len(tests[tests["family"] == Family.ADDENDUM]):
        frozen.append(f"its addendum (frozen in commit {addendum_commit} before its run)")
    parts = [" ".join(headline(tests, summary, crossing)), FIGURE,
             "**The assignment's comparison**, one recipe for both (mean test accuracy; gains paired by seed, label "
             "subset and test images):",
             assignment_table(tests, summary)]
    primary = tests[tests["family"] == Family.PRIMARY].dropna(subset=["n_labels"]).sort_values("n_labels")
    amounts = [(a, int(n)) for a, n in zip(primary["amount"], primary["n_labels"])]
    if shown and amounts:
        parts += ["**The other comparisons**: the gain in points with its 95 % interval and the verdict by the plan's "
                  "rule:", comparisons_table(shown, amounts)]
    parts.append("<details class=\"statistics\"><summary>The statistics of each comparison (click to open)</summary>"
                 "\n\n" + "\n\n".join(f"<a id=\"note{i}\"></a>{i}. {n}" for i, n in enumerate(notes, 1))
                 + f"\n\nTests, families, margins and wording: {' and '.join(frozen)}.\n\n</details>")
    return "\n\n".join(parts) + "\n"


#: the plan's families of tests, as a reader is told them
FAMILY_WORDS = {Family.PRIMARY: "first run: the main test", Family.TWO_BY_TWO: "first run: start × schedule",
                Family.ASSIGNMENT: "first run: the assignment's ten fractions",
                Family.OTHER: "other tasks vs training from scratch",
                Family.OTHER_WEIGHTS: "other tasks vs the untrained encoder", Family.SEMI: "semi-supervised",
                Family.ADDENDUM: "addendum: each start tuned", Family.WEIGHT_SCALE: "addendum: weight-scale control"}


def _short_amount(amount: str) -> str:
    """A table cell's amount: "10/class", "1%"; a pooled test's amounts as "mean of 10/class, 1%" ("mean of 10
    fractions" for the assignment's)."""
    if not amount.startswith("pooled: "):
        return amount
    parts = amount.removeprefix("pooled: ").split(", ")
    return f"mean of {len(parts)} fractions" if len(parts) > 3 else "mean of " + ", ".join(parts)


def tests_table(tests: pd.DataFrame, styled: bool = True):
    """Every test of the plan, once: the question in words, the label amount, seeds, the gain with its 95 %
    interval and the verdict by the wording rule; text left-aligned and intervals unbroken where ``styled`` (a pandas
    Styler for the notebook), else the plain table (for Markdown)."""
    tested = tests[tests["family"] != DESCRIPTIVE]
    table = pd.DataFrame({
        "question": tested["family"].map(lambda f: FAMILY_WORDS.get(f, f)),
        "compared": tested["question"],
        "labels": tested["amount"].map(_short_amount), "seeds": tested["pairs"].astype(int),
        "gain (points)": tested["gain"].map(pts),
        "95 % interval": [f"[{pts(lo)}, {pts(hi)}]" if n > 1 else "–"
                          for lo, hi, n in zip(tested["ci_low"], tested["ci_high"], tested["pairs"])],
        "verdict": tested["verdict"].map(verdict_words)})
    if not styled:
        return table
    text = ["question", "compared", "labels", "verdict"]
    return (table.style.hide()
            .set_properties(subset=text, **{"text-align": "left"})
            .set_properties(subset=["labels", "gain (points)", "95 % interval", "verdict"], **{"white-space": "nowrap"})
            .set_table_styles([{"selector": "th", "props": "text-align: left"}]))
