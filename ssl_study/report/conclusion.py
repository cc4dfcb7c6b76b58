"""The study's answer in words: sentences filled from the tests of the analysis plan
(`ssl_study.report.analysis.analyse`) by templates, so that every number and every claim's direction is computed, never
typed.

The words follow the plan's wording rule (ANALYSIS_PLAN.md, section 8; `analysis.verdict`): "better" / "worse" only
where the family's Holm-corrected p-value is below 0.05, "equivalent" only where the Holm-corrected equivalence test
is, and otherwise "no difference the data can detect with N seeds (95 % interval [a, b] points)". Descriptive
comparisons are given as numbers, never as claims. Notebook 6 writes the answer; ``reports/index.html`` and the README
open with its first page (``front_page.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import (ALPHA, DESCRIPTIVE, FINETUNE, TUNED_CONTROL, TUNED_SCRATCH, TUNED_SIAMESE,
                       UNTRAINED_FINETUNE, Family)
from ..config import ASSIGNMENT_AMOUNTS, BEST_PRETEXT, TUNED, TUNED_BUDGET_TOP
from ..config import OTHER_USE
from ..study.ids import method_id
from ..study.methods import BASELINE, HEADLINE, HEADLINE_LABEL, encoder_label, method_label
from .stats import summary_table
from .reasons import why
from .words import VERDICT_WORDS, amount_words, count, listing, pts, sentence, verdict_words  # noqa: F401

SCRATCH = "training from scratch"  #: the supervised baseline, in prose


H = HEADLINE_LABEL  #: the headline pretext's name in prose ("Siamese")

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


def footnote(row) -> str:
    """The statistics of one test: gain, interval, seeds, p-values and family."""
    tests = int(row["tests_in_family"]) if not np.isnan(row["tests_in_family"]) else 1
    question = row["question"][:1].upper() + row["question"][1:]
    if not row["pairs"] >= 1:
        return f"{question}, {amount_words(row['amount'])}: not measured in this run."
    if row["pairs"] < 2:
        return (f"{question}, {amount_words(row['amount'])}: {pts(row['gain'])} points on one seed (no interval, "
                "no test).")
    text = (f"{question}, {amount_words(row['amount'])}: {pts(row['gain'])} points, 95 % interval "
            f"[{pts(row['ci_low'])}, {pts(row['ci_high'])}] over {count(int(row['pairs']), 'seed')}")
    if row["verdict"] in (DESCRIPTIVE, "untested"):
        return text + " (descriptive)."
    images = ", seeds and test images counted" if row.get("images_bootstrapped", False) else ", seeds only"
    return (text + f"{images}; p = {row['p_value']:.3g}, Holm-corrected {row['p_holm']:.3g} over "
            f"{count(tests, 'test')} in the family \"{row['family']}\"; equivalence within ±{row['margin']:.2f} "
            f"points (two one-sided tests: the 90 % interval inside the margin), Holm-corrected "
            f"p = {row['p_equivalence_holm']:.3g}.")


def pick(tests: pd.DataFrame, family: str, method: str | None = None, amount: str | None = None,
         baseline: str | None = None):
    """The one test of ``family`` (and ``method``, ``amount``, ``baseline`` where given), or None."""
    rows = tests[tests["family"] == family]
    for column, value in (("method", method), ("amount", amount), ("baseline", baseline)):
        if value is not None:
            rows = rows[rows[column] == value]
    return rows.iloc[0] if len(rows) else None


def front_page(tests: pd.DataFrame, summary: pd.DataFrame, plan_commit: str = "", crossing: dict | None = None,
               addendum_commit: str = "") -> str:
    """The first page's answer (Markdown, for ``reports/index.html`` and the README): the answer in plain sentences --
    the assignment's comparison over its ten fractions and where labels are scarcest, what the fine-tuning schedule
    does, the other pretexts and the semi-supervised method; then the addendum's answer where it ran (each start tuned,
    the weight-scale control, the curve's ``crossing``: `addendum_paragraph`) -- the assignment's ten-row table, and
    the statistics as numbered notes. Every number and word comes from ``tests`` (`analysis.analyse`) and
    ``summary``."""
    by = summary.set_index(["method", "amount"])["mean"]
    notes: list[str] = []

    def note(row) -> str:
        notes.append(footnote(row))
        return f"<sup>{len(notes)}</sup>"

    primary = tests[tests["family"] == Family.PRIMARY]
    scarce = primary.loc[primary["n_labels"].idxmin()] if len(primary) else None
    pooled = pick(tests, Family.ASSIGNMENT)
    said = []
    if pooled is not None and pooled["pairs"] >= 1:
        said.append(f"Trained with the supervised recipe from the {H} encoder's weights instead of random ones "
                    f"(the assignment's comparison: only the initial weights differ), the CNN {phrase(pooled)} over "
                    f"the assignment's ten label fractions on average{note(pooled)}")
    if scarce is not None:
        a = scarce["amount"]
        subject = "it" if said else f"the CNN trained with the supervised recipe from the {H} encoder"
        said.append(f"where labels are scarcest, at {amount_words(a)} ({by.get((HEADLINE, a), np.nan):.2%} against "
                     f"{by.get((BASELINE, a), np.nan):.2%}), {subject} {phrase(scarce)}{note(scarce)}")
        for _, row in primary.drop(scarce.name).sort_values("n_labels").iterrows():  # the other primary amounts
            a = row["amount"]
            said.append(f"at {amount_words(a)} ({by.get((HEADLINE, a), np.nan):.2%} against "
                        f"{by.get((BASELINE, a), np.nan):.2%}), it {phrase(row)}{note(row)}")
    text = [sentence("; ".join(said))] if said else []
    if scarce is not None:
        a = scarce["amount"]
        untrained = pick(tests, Family.TWO_BY_TWO, UNTRAINED_FINETUNE, a)
        weights = pick(tests, Family.TWO_BY_TWO, FINETUNE, a, UNTRAINED_FINETUNE)
        if untrained is not None and weights is not None:
            text.append(sentence(f"Fine-tuned the other way, by training a linear probe first and then every layer "
                                 f"(probe-then-fine-tune), the CNN from the untrained encoder "
                                 f"{phrase(untrained, 'training from scratch')}{note(untrained)}, and under that "
                                 f"schedule the {H} encoder {phrase(weights, 'the untrained one')}{note(weights)}"))
    best = pick(tests, Family.OTHER, method_id(BEST_PRETEXT, OTHER_USE))
    if best is not None:
        text.append(sentence(f"Of the other pre-training tasks, {encoder_label(BEST_PRETEXT)} (the best on "
                             f"validation data) {phrase(best)} at {amount_words(best['amount'])}{note(best)}"))
    semi = tests[tests["family"] == Family.SEMI]
    if len(semi):
        row = semi.iloc[0]
        text.append(sentence(f"Using the unlabelled images for semi-supervised training instead, "
                             f"{method_label(row['method'])} {phrase(row)} at {amount_words(row['amount'])}"
                             f"{note(row)}"))
    later = addendum_paragraph(tests, crossing, addendum_commit, note)
    table = assignment_table(tests, summary)
    footer = (f"Tests, families and wording: the analysis plan, ANALYSIS_PLAN.md"
              f"{f' (frozen in commit {plan_commit} before the run)' if plan_commit else ''}; the words used (seeds, "
              "families, Holm's correction, margins of equivalence): notebook 6, appendix A6.")
    return "\n\n".join([" ".join(text), *([later] if later else []), table, "<small>\n\n" + "\n\n".join(
        f"<sup>{i}</sup> {n}" for i, n in enumerate(notes, 1)) + f"\n\n{footer}\n\n</small>"]) + "\n"


def assignment_table(tests: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The assignment's comparison at its ten fractions (and the primary amounts): mean accuracy trained from scratch
    and from the headline pretext's encoder, the paired gain with its 95 % interval (descriptive), and the seeds."""
    by = summary.set_index(["method", "amount"])
    per_amount = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == HEADLINE)].set_index("amount")
    rows = [f"| labelled images | trained from scratch | {H}, fine-tuned | gain (points) | 95 % interval | "
            "seeds |", "|---|---:|---:|---:|---|---:|"]
    for amount in per_amount.index:
        row = per_amount.loc[amount]
        n = int(by.loc[(BASELINE, amount), "n_labels"])
        interval = "–" if row["pairs"] < 2 else f"[{pts(row['ci_low'])}, {pts(row['ci_high'])}]"
        rows.append(f"| {amount} ({n:,}) | {by.loc[(BASELINE, amount), 'mean']:.2%} | "
                    f"{by.loc[(HEADLINE, amount), 'mean']:.2%} | {pts(row['gain'])} | {interval} | "
                    f"{int(row['pairs'])} |")
    return "\n".join(rows)


def assignment_sentence(tests: pd.DataFrame) -> str:
    """What the assignment's comparison shows over its fractions: the pooled test in the plan's words (where the run
    has all ten fractions), and at how many of the fractions run the mean gain is below zero."""
    per_amount = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == HEADLINE)
                       & tests["amount"].isin(ASSIGNMENT_AMOUNTS)]
    below = int((per_amount["gain"] < 0).sum())
    pooled = pick(tests, Family.ASSIGNMENT)
    if pooled is None or not pooled["pairs"] >= 1:
        return (f"At the {count(len(per_amount), 'fraction')} of the assignment in this run, the CNN from the {H} "
                f"encoder is below training from scratch at {below} (descriptive).")
    return (f"Over the assignment's ten fractions, the CNN from the {H} encoder {phrase(pooled)}; its mean gain "
            f"is below zero at {below} of them (means over {count(int(pooled['pairs']), 'seed')}; each fraction "
            "described, not tested).")


def written_answer(tests: pd.DataFrame, summary: pd.DataFrame, official: pd.DataFrame, origin: pd.DataFrame,
                   diagnostics: dict, pretexts, extra: list[str] = ()) -> list[str]:
    """The paragraphs notebook 6 ends with (Markdown): every confirmatory test in the plan's words, family by family,
    why (the pretexts' diagnostics), ``extra`` (the sweep's and other descriptive paragraphs), the test images from
    MNIST's official test set (``origin``: how many of each part of the split come from it; ``official``: the
    accuracy on them), and the limitations."""
    paragraphs = []
    for family, rows in tests[tests["family"] != DESCRIPTIVE].groupby("family", sort=False):
        clauses = [f"at {amount_words(row['amount'])}, {row['subject']} {phrase(row, row['reference'])}"
                   for _, row in rows.iterrows()]
        paragraphs.append(f"**{family[:1].upper() + family[1:]}** ({count(len(rows), 'test')}, Holm's correction "
                          f"within the family). " + sentence("; ".join(clauses)))
    why = why_sentences(diagnostics, pretexts)
    if why:
        paragraphs.append("**What the pretext tasks learned** (descriptive). " + " ".join(why))
    paragraphs += list(extra)
    paragraphs.append(official_paragraph(official, origin))
    primary = tests[tests["family"] == Family.PRIMARY]
    seeds, half = primary["pairs"], (primary["ci_high"] - primary["ci_low"]) / 2
    widths = (f"±{half.min():.2f}" if f"{half.min():.2f}" == f"{half.max():.2f}" else
              f"±{half.min():.2f} to ±{half.max():.2f}")
    paragraphs.append(
        f"**Limitations.** The primary amounts have {count(int(seeds.min()), 'seed')} (each its own label subset, "
        f"initialisation and pretext run), which gives 95 % intervals of {widths} "
        f"points on the primary gains"
        + (", test images included" if primary["images_bootstrapped"].all() else
           ", over the seeds only")
        + f"; descriptive amounts have fewer seeds. One architecture, one "
        f"dataset and one budget of pre-training per task (the same number of encoder passes for every pretext, set "
        f"by the run's time budget; experiments/results/siamese_lr.md shows what longer runs scored on validation "
        f"data) were tried. The settings were chosen on validation data of this "
        f"split; the design was shaped by an exploratory run on another split, whose test set it did see.")
    return paragraphs


def official_paragraph(official: pd.DataFrame, origin: pd.DataFrame) -> str:
    """The test images from MNIST's official test set: how many of each part of the split come from it (``origin``:
    part x {official test, official training} counts), and the accuracy of the assignment's two models on them at the
    largest amount (``official``: `official_summary`)."""
    o = official.set_index(["method", "amount"])
    largest = official.sort_values("n_labels")["amount"].iloc[-1]
    counts = "; ".join(f"{part} {int(row['testing']):,} of {int(row.sum()):,}" for part, row in origin.iterrows())
    base, head = o.loc[(BASELINE, largest)], o.loc[(HEADLINE, largest)]

    def interval(row, seeds: bool) -> str:
        if row["seeds"] < 2:
            return f" ({count(int(row['seeds']), 'seed')})"
        return f" (±{100 * row['ci95']:.2f} points" + (f" over {count(int(row['seeds']), 'seed')})" if seeds else ")")

    return (f"**MNIST's official test images.** The split pools all 70,000 images, so the official test images are in "
            f"every part ({counts}) and writers are shared across parts; the accuracies here are not comparable with "
            f"results on the official test set. On the official test images of this test set, at "
            f"{amount_words(largest)}, training from scratch reaches {base['mean']:.2%}{interval(base, True)} "
            f"and the CNN from the {H} encoder {head['mean']:.2%}{interval(head, False)}.")


def why_sentences(diagnostics: dict, pretexts) -> list[str]:
    """What the pretext tasks' own diagnostics (notebook 4; ``diagnostics``: ``"<pretext>/<seed>"`` -> analysis) say
    about why they help or not: each task's sentence of `reasons.why`."""
    lines = []
    for name in pretexts:
        said = why(name, [d for k, d in diagnostics.items() if k.rsplit("/", 1)[0] == name])
        if said:
            lines.append(said)
    return lines


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """Notebook 4's sweep (`study.sweep_table`) as `stats.summary_table` (mean test accuracy, half-width of its 95 % CI
    over seeds, seeds) per fit method and label amount, with the pretext, use and unlabelled images of each method."""
    summary = summary_table(sweep)
    keys = sweep.drop_duplicates("method").set_index("method")
    return summary.join(keys[[c for c in ("pretext", "use", "unlabelled") if c not in summary.columns]], on="method")


def sweep_sentences(summary: pd.DataFrame, amount: str, uses=("recipe", "logistic")) -> list[str]:
    """Per pretext and use at ``amount``: the mean accuracy with the fewest and with the most unlabelled images, each
    with the half-width of its 95 % interval and the seeds (descriptive: no test, no "levels off")."""
    lines = []
    subjects = {"recipe": "the CNN trained with the recipe from the {} encoder",
                "finetune": "the CNN probed, then fine-tuned from the {} encoder",
                "logistic": "logistic regression on the {} encoder's frozen features",
                "knn": "k-NN on the {} encoder's frozen features"}
    for (pretext, use), group in summary[summary["amount"] == amount].groupby(["pretext", "use"], sort=False):
        if use not in uses:
            continue
        g = group.set_index("unlabelled").sort_index()
        low, high = g.index[0], g.index[-1]

        def mean(images):
            half = "" if np.isnan(g.loc[images, "ci95"]) else f" ± {100 * g.loc[images, 'ci95']:.1f}"
            return f"{g.loc[images, 'mean']:.1%}{half}"

        seeds = int(g["seeds"].min())
        lines.append(f"{subjects.get(use, '{} ' + use).format(encoder_label(pretext))} reaches {mean(low)} with "
                     f"{low:,} unlabelled images and {mean(high)} with {high:,} ({count(seeds, 'seed')}"
                     f"{', 95 % intervals' if seeds > 1 else ''}; descriptive)")
    return [sentence(line) for line in lines]


def official_summary(results: pd.DataFrame) -> pd.DataFrame:
    """`stats.summary_table` of the accuracy on the test images from MNIST's official test set."""
    from .stats import summary_table

    return summary_table(results, "official_test_accuracy")


__all__ = ["BASELINE", "HEADLINE", "VERDICT_WORDS", "amount_words", "assignment_sentence", "assignment_table",
           "footnote", "front_page", "official_paragraph", "official_summary", "phrase", "pick", "pts",
           "sweep_sentences", "sweep_summary", "verdict_words", "why_sentences", "written_answer"]


# ----------------------------------------------------------------------------------------------------------------------
# The addendum (ANALYSIS_PLAN_ADDENDUM.md): each start tuned, the weight-scale control, the curve's crossover
# ----------------------------------------------------------------------------------------------------------------------


def tuned_sentences(tests: pd.DataFrame) -> list[str]:
    """Per primary amount: the tuned Siamese start against tuned scratch (the addendum's primary family), and against
    the weight-scale control; the control against scratch (the weight-scale family)."""
    said = []
    for _, row in tests[tests["family"] == Family.ADDENDUM].iterrows():
        a = row["amount"]
        control = pick(tests, Family.WEIGHT_SCALE, TUNED_SIAMESE, a, TUNED_CONTROL)
        scale = pick(tests, Family.WEIGHT_SCALE, TUNED_CONTROL, a, TUNED_SCRATCH)
        text = (f"at {amount_words(a)}, with each start's settings tuned where labels are scarce, the CNN trained from "
                f"the {H} encoder {phrase(row, 'training from scratch')}")
        if control is not None and scale is not None:
            text += (f"; it {phrase(control, 'the weight-scale control')} (the one comparison that isolates what the "
                     f"weights learned: both start at the pre-trained scale and train alike), and the control "
                     f"{phrase(scale, 'training from scratch')} (which mixes the weights' scale with the Siamese "
                     f"start's settings)")
        said.append(sentence(text))
    return said


def addendum_paragraph(tests: pd.DataFrame, crossing: dict | None, addendum_commit: str = "", note=None) -> str:
    """The addendum's answer for the first page (empty where it did not run): each start tuned, against the
    weight-scale control, where the curve's gain vanishes, and whether the first confirmatory run's verdicts stand;
    ``note``: the first page's footnote maker (a test's statistics as a numbered note)."""
    rows = tests[tests["family"] == Family.ADDENDUM]
    if rows.empty:
        return ""
    note = note or (lambda row: "")
    frozen = f", frozen in commit {addendum_commit} before its run" if addendum_commit else ""
    said = []
    for _, row in rows.iterrows():
        a = row["amount"]
        control = pick(tests, Family.WEIGHT_SCALE, TUNED_SIAMESE, a, TUNED_CONTROL)
        first = pick(tests, Family.PRIMARY, amount=a)
        text = f"at {amount_words(a)} the CNN from the {H} encoder {phrase(row, 'training from scratch')}{note(row)}"
        if control is not None:
            text += f" and {phrase(control, 'the weight-scale control')}{note(control)}"
        if first is not None:
            text += (" (the first run's verdict stands)" if _agrees(first, row) else
                     f" (the first run, with one recipe for both: {phrase(first, 'training from scratch')})")
        said.append(text)
    where = [crossover_sentence(crossing)] if crossing else []
    return " ".join([f"**Asked again, with each start's settings tuned where labels are scarce** (the addendum to "
                     f"the plan{frozen}): " + "; ".join(said) + "."] + where + [budget_note()])


def budget_note() -> str:
    """Which start's tuned budget is the largest the selection tried (`TUNED_BUDGET_TOP`, where the addendum stops
    the grid: its accuracy on the selection images was still rising there), as a sentence; empty if none."""
    top = sorted({start for (start, _), tuned in TUNED.items() if tuned.budget >= TUNED_BUDGET_TOP})
    if not top:
        return ""
    names = listing([f"the {H} start" if start == "pretrained" else "training from scratch" for start in top])
    return sentence(f"{names} took the largest budget the selection tried ({TUNED_BUDGET_TOP}x the first run's), "
                    "where its accuracy on the selection images was still rising: a larger budget might do better")


def crossover_sentence(found: dict) -> str:
    """Where the curve's gain stops being distinguishable from zero (`ssl_study.report.curve.crossover`)."""
    spread = (f"between {_named(found['low'])} and {_named(found['high'])}" if found["low"] != found["high"]
              else f"{_where(found['low'])} in at least 95 % of the resamplings")
    first = (f"the gain's 95 % interval first includes zero at {_named(found['amount'])}" if found["amount"] else
             "the gain's 95 % interval excludes zero at every amount of the curve")
    return sentence(f"Along the curve (descriptive), {first}; resampling the {found['seeds']} seeds that every amount "
                    f"has puts the first such amount {spread}")


def _named(amount: str | None) -> str:
    """A crossover amount in words: "1 % of the labels", or "beyond the curve's largest amount" (None: every interval
    excludes zero)."""
    return amount_words(amount) if amount else "beyond the curve's largest amount"


def _where(amount: str | None) -> str:
    """`_named` after "at" where it is an amount."""
    return f"at {_named(amount)}" if amount else _named(amount)


def agreement_sentences(tests: pd.DataFrame) -> list[str]:
    """Per primary amount, whether the addendum's verdict (tuned arms) is the first confirmatory run's (the recipe
    from the Siamese encoder against the supervised baseline, `Family.PRIMARY`), with both where they differ."""
    said = []
    for _, row in tests[tests["family"] == Family.ADDENDUM].iterrows():
        first = pick(tests, Family.PRIMARY, amount=row["amount"])
        if first is None:
            continue
        same = _agrees(first, row)
        said.append(sentence(
            f"at {amount_words(row['amount'])} the addendum " + ("agrees with the first confirmatory run: " if same else
                                                                 "differs from the first confirmatory run: ")
            + f"tuned, the {H} start {phrase(row, 'training from scratch')}; with the first run's settings it "
            + phrase(first, "training from scratch")))
    return said


def _agrees(first, addendum) -> bool:
    """Whether the addendum's verdict at an amount is the first confirmatory run's there (`agreement_sentences`, the
    first page)."""
    return first["verdict"] == addendum["verdict"]
