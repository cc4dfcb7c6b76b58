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

from .analysis import DESCRIPTIVE, FINETUNE, TUNED_CONTROL, TUNED_SCRATCH, TUNED_SIAMESE, Family
from ..config import ASSIGNMENT_AMOUNTS, choices
from ..study.methods import BASELINE, HEADLINE, HEADLINE_LABEL, encoder_label
from .stats import summary_table
from .reasons import why
from .words import (SCRATCH, VERDICT_WORDS, agrees, amount_words, count, gap_words, listing,  # noqa: F401
                    named_amount, phrase, pick, pts, sentence, side, verdict_words)



H = HEADLINE_LABEL  #: the headline pretext's name in prose ("Siamese")

def assignment_sentence(tests: pd.DataFrame) -> str:
    """What the assignment's fractions show one by one (their mean is tested in the answer above): at how many the
    mean gain is below zero, and how many of the fractions' intervals exclude zero, each described, not tested."""
    per_amount = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == HEADLINE)
                       & tests["amount"].isin(ASSIGNMENT_AMOUNTS)]
    below = int((per_amount["gain"] < 0).sum())
    apart = int(((per_amount["ci_low"] > 0) | (per_amount["ci_high"] < 0)).sum())
    seeds = count(int(per_amount["pairs"].min()), "seed") if len(per_amount) else "no seeds"
    return (f"Fraction by fraction, the CNN from the {H} encoder has a mean gain below zero at {below} of the "
            f"{count(len(per_amount), 'fraction')} run, and an interval clear of zero at {apart} ({seeds} each; "
            "described, not tested: the plan tests their mean, in the answer above).")


def written_answer(tests: pd.DataFrame, official: pd.DataFrame, origin: pd.DataFrame, diagnostics: dict, pretexts,
                   extra: list[str] = (), exploratory: pd.DataFrame | None = None) -> list[str]:
    """The paragraphs notebook 6 ends with (Markdown), each saying what no other part of the page says: why (the
    pretexts' diagnostics), ``extra`` (the sweep's and other descriptive paragraphs), the test images from MNIST's
    official test set (``origin``: how many of each part of the split come from it; ``official``: the accuracy on
    them), and the limitations, with the exploratory run's result where it differs (``exploratory``: that run's
    tests, `exploratory_sentence`). The verdicts are in the page's table of tests, said once."""
    paragraphs = []
    why = why_sentences(diagnostics, pretexts)
    if why:
        paragraphs.append("**What the pretext tasks learned** (descriptive). " + " ".join(why))
    paragraphs += list(extra)
    paragraphs.append(official_paragraph(official, origin))
    primary = tests[tests["family"] == Family.PRIMARY]
    seeds, half = primary["pairs"], (primary["ci_high"] - primary["ci_low"]) / 2
    widths = (f"±{half.min():.2f}" if f"{half.min():.2f}" == f"{half.max():.2f}" else
              f"±{half.min():.2f} to ±{half.max():.2f}")
    earlier = exploratory_sentence(exploratory, tests) if exploratory is not None else ""
    paragraphs.append(
        f"**Limitations.** The primary amounts have {count(int(seeds.min()), 'seed')} (each its own label subset, "
        f"initialisation and pretext run), which gives 95 % intervals of {widths} points on the primary gains"
        + (", test images included" if primary["images_bootstrapped"].all() else ", over the seeds only")
        + "; descriptive amounts have fewer seeds. One architecture, one dataset and one budget of pre-training per "
        "task (the same number of encoder passes for every pretext, set by the run's time budget) were tried. "
        + (budget_note() + " " if len(tests[tests["family"] == Family.ADDENDUM]) else "")
        + "The settings were chosen on validation data of this split; the design was shaped by an exploratory run "
        "on another split, whose test set it did see." + (f" {earlier}" if earlier else ""))
    return paragraphs


def _with_interval(row) -> str:
    """"+1.50 [+1.13, +1.87]", or "-0.80 (one seed)" where there is no interval."""
    if np.isnan(row["ci_low"]):
        return f"{pts(row['gain'])} (one seed)"
    return f"{pts(row['gain'])} [{pts(row['ci_low'])}, {pts(row['ci_high'])}]"


def exploratory_sentence(exploratory: pd.DataFrame, tests: pd.DataFrame) -> str:
    """The exploratory run's primary comparison (the Siamese encoder probed, then fine-tuned, against training from
    scratch; ``exploratory``: that run's tests) beside the same comparison here, amount by amount, and whether the two
    runs' intervals overlap: a result that moved between splits is a limitation worth a reader's eye."""
    here = tests[(tests["family"] == DESCRIPTIVE) & (tests["method"] == FINETUNE) & (tests["baseline"] == BASELINE)]
    there = exploratory[exploratory["family"] == Family.PRIMARY].set_index("amount")
    said, apart, compared = [], [], 0
    for _, row in here.sort_values("n_labels").iterrows():
        if row["amount"] not in there.index:
            continue
        old = there.loc[row["amount"]]
        if not np.isnan(old["ci_low"]) and not np.isnan(row["ci_low"]):
            compared += 1
            if old["ci_high"] < row["ci_low"] or row["ci_high"] < old["ci_low"]:
                apart.append(amount_words(row["amount"]))
        said.append(f"at {amount_words(row['amount'])}, {_with_interval(old)} there against {_with_interval(row)} "
                    "here")
    if not said:
        return ""
    verdict = (f"at {listing(apart)} the two runs' intervals do not overlap: this gain depends on the split "
               "(or on the first run's settings) more than one run's interval says" if apart else
               "the two runs' intervals overlap" if compared else "one seed gives no interval to compare")
    return sentence(f"The exploratory run measured the {H} encoder probed, then fine-tuned, against training from "
                    f"scratch (points, 95 % intervals): " + "; ".join(said) + f"; {verdict}")


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


def sweep_sentences(summary: pd.DataFrame, amount: str, uses=("recipe", "logistic"),
                    held_out: float = 0.0) -> list[str]:
    """Per pretext and use at ``amount``: the mean accuracy with the fewest and with the most unlabelled images, each
    with the half-width of its 95 % interval and the seeds, and what the two intervals allow one to say (descriptive:
    no test, no "levels off"). ``held_out``: the share of a pretext run's images that monitor it instead of training
    it (said once, so that the counts match notebook 4's table of images trained on)."""
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
                     f"{', 95 % intervals' if seeds > 1 else ''}; descriptive): {_more_images(g, low, high)}")
    if lines and held_out:
        lines.append(f"of each run's unlabelled images, {held_out:.0%} monitor the pretext task and the rest train it "
                     f"({int(round(high * (1 - held_out))):,} of {high:,})")
    return [sentence(line) for line in lines]


def _more_images(g: pd.DataFrame, low, high) -> str:
    """What the sweep's two ends allow one to say about more unlabelled images (``g``: summary rows by images)."""
    lo, hi = g.loc[low], g.loc[high]
    if np.isnan(lo["ci95"]) or np.isnan(hi["ci95"]):
        return "one seed, so no interval to judge by"
    if hi["mean"] - hi["ci95"] > lo["mean"] + lo["ci95"]:
        return "more unlabelled images did better, the two intervals apart"
    if lo["mean"] - lo["ci95"] > hi["mean"] + hi["ci95"]:
        return "fewer unlabelled images did better, the two intervals apart"
    return f"the two intervals overlap, so these seeds cannot show that {high // max(low, 1):,} times more images help"


def official_summary(results: pd.DataFrame) -> pd.DataFrame:
    """`stats.summary_table` of the accuracy on the test images from MNIST's official test set."""
    from .stats import summary_table

    return summary_table(results, "official_test_accuracy")


__all__ = ["BASELINE", "HEADLINE", "VERDICT_WORDS", "agrees", "amount_words", "assignment_sentence",
           "exploratory_sentence", "gap_words", "named_amount", "official_paragraph", "official_summary", "phrase",
           "pick", "pts", "side", "sweep_sentences", "sweep_summary", "verdict_words", "weight_scale_sentences",
           "why_sentences", "written_answer"]


# ----------------------------------------------------------------------------------------------------------------------
# The addendum (ANALYSIS_PLAN_ADDENDUM.md): each start tuned, the weight-scale control, the curve's crossover
# ----------------------------------------------------------------------------------------------------------------------


def weight_scale_sentences(tests: pd.DataFrame) -> list[str]:
    """Per primary amount, what the weight-scale family says (the addendum's answer itself is the page's first):
    the tuned Siamese start against the control -- the one comparison that isolates what the weights learned -- and
    the control against tuned scratch."""
    said = []
    for _, row in tests[tests["family"] == Family.ADDENDUM].iterrows():
        a = row["amount"]
        control = pick(tests, Family.WEIGHT_SCALE, TUNED_SIAMESE, a, TUNED_CONTROL)
        scale = pick(tests, Family.WEIGHT_SCALE, TUNED_CONTROL, a, TUNED_SCRATCH)
        if control is None or scale is None:
            continue
        first = not said  # what each comparison isolates, said once
        said.append(sentence(
            f"at {amount_words(a)}, the CNN from the {H} encoder {phrase(control, 'the weight-scale control')}"
            + (" (the one comparison that isolates what the weights learned: both start at the pre-trained scale and "
               "train alike)" if first else "")
            + f", and the control {phrase(scale, 'training from scratch')}"
            + (f" (which mixes the weights' scale with the {H} start's settings)" if first else "")))
    return said


def budget_note() -> str:
    """Which start's tuned budget is the largest the selection tried (`Choices.tuned_budget_top`, where the grid
    stops: its accuracy on the selection images was still rising there), as a sentence; empty if none."""
    chosen = choices()
    top = sorted({start for (start, _), tuned in chosen.tuned.items() if tuned.budget >= chosen.tuned_budget_top})
    if not top:
        return ""
    names = listing([f"the {H} start" if start == "pretrained" else "training from scratch" for start in top])
    return sentence(f"{names} took the largest budget the selection tried ({chosen.tuned_budget_top}x the first run's)"
                    ", "
                    "where its accuracy on the selection images was still rising: a larger budget might do better")
