"""The study's answer in words: sentences filled from the results by templates, so that every number and every
claim's direction (helps / no detectable difference / equivalent / hurts) is computed, never typed.

The words follow the study's rules (`stats.compare`): "helps" and "hurts" only where the Holm-corrected p-value of
the table's family is below 0.05; "equivalent" only where the two one-sided tests within the stated margin are, after
Holm's correction of their own family; otherwise "no detectable difference", with the uncorrected result named for
what it is where its interval excludes zero. Notebook 6 writes the answer; ``reports/index.html`` and the README quote
its first paragraph (``answer.md``).
"""

from __future__ import annotations

import pandas as pd

from .config import EQUIVALENCE_MARGIN, HEADLINE_PRETEXT, PRIMARY_AMOUNTS
from .methods import encoder_label, method_label, parts
from .pretexts import PRETEXTS
from .stats import compare, direction, summary_table

BASELINE = "supervised"
HEADLINE = f"{HEADLINE_PRETEXT}_finetune"  #: the assignment's model: the Siamese-pre-trained CNN, fine-tuned


def amount_words(amount: str) -> str:
    """``10/class`` -> "10 labels per class"; ``1%`` -> "1 % of the labels"."""
    if amount.endswith("/class"):
        return f"{amount.split('/')[0]} labels per class"
    return f"{amount.rstrip('%')} % of the labels"


def count(n: int, noun: str) -> str:
    """``count(1, "test")`` -> "1 test"; ``count(2, "test")`` -> "2 tests"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def listing(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + "."


def primary_endpoint(results: pd.DataFrame, margin: float = EQUIVALENCE_MARGIN) -> pd.DataFrame:
    """The primary endpoint: the paired gain of `HEADLINE` over the supervised baseline at
    `PRIMARY_AMOUNTS`, one Holm family."""
    return compare(results, BASELINE, [HEADLINE], PRIMARY_AMOUNTS, margin)


def secondary_endpoint(results: pd.DataFrame, margin: float = EQUIVALENCE_MARGIN) -> pd.DataFrame:
    """The same gain at every other amount: secondary, one Holm family of its own."""
    others = [a for a in results["amount"].unique() if a not in PRIMARY_AMOUNTS]
    return compare(results, BASELINE, [HEADLINE], others, margin)


def kind(row) -> str:
    """The word for one gain (a row of `stats.compare`): `stats.direction`'s ``helps``, ``hurts``, ``equivalent`` or
    ``no detectable difference``, told apart further into ``untested`` (one seed) and ``uncorrected`` (the 95 % CI
    excludes zero but Holm's correction does not keep it)."""
    if row["pairs"] < 2:
        return "untested"
    word = direction(row)
    if word == "no detectable difference" and (row["ci_low"] > 0 or row["ci_high"] < 0):
        return "uncorrected"
    return word


def claim(row, tests: int, margin: float = EQUIVALENCE_MARGIN) -> str:
    """One gain in words, with its numbers: "helps (+1.20 points, 95 % CI [...], Holm p = 0.004 over 2 tests)"."""
    numbers = f"{row['gain']:+.2f} points, 95 % CI [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
    word = kind(row)
    if word == "untested":
        return f"changes the accuracy by {row['gain']:+.2f} points (one seed: no test)"
    if word in ("helps", "hurts"):
        return f"{word} ({numbers}, Holm-corrected p = {row['p_holm']:.3f} over {count(tests, 'test')})"
    if word == "equivalent":
        return (f"is equivalent within ±{margin:g} points ({numbers}; two one-sided tests, Holm-corrected "
                f"p = {row['p_equivalence_holm']:.3f} over {count(tests, 'test')})")
    if word == "uncorrected":
        return (f"makes no detectable difference after correction: the {'gain' if row['gain'] > 0 else 'loss'} of "
                f"{abs(row['gain']):.2f} points (95 % CI [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}], "
                f"uncorrected p = {row['p_value']:.3f}) does not survive Holm's correction over {count(tests, 'test')} "
                f"(p = {row['p_holm']:.2f})")
    return f"makes no detectable difference ({numbers}, p = {row['p_value']:.2f})"


def verdict(primary: pd.DataFrame) -> str:
    """The short answer of the primary endpoint: ``Yes`` (helps at every primary amount), ``Partly`` (helps at some),
    ``No: it hurts`` (hurts at one, helps at none), ``Mixed`` (helps at one, hurts at another), ``No`` (equivalent
    within the margin at every primary amount), ``Not detectably`` (otherwise: no difference found, none excluded)."""
    words = [kind(row) for _, row in primary.iterrows()]
    if "hurts" in words:
        return "Mixed" if "helps" in words else "No: it hurts"
    if words and all(w == "helps" for w in words):
        return "Yes"
    if "helps" in words:
        return "Partly"
    if words and all(w == "equivalent" for w in words):
        return "No"
    return "Not detectably"


def _row(gains: pd.DataFrame, method: str, amount: str):
    return gains[(gains["method"] == method) & (gains["amount"] == amount)].iloc[0]


def answer(primary: pd.DataFrame, secondary: pd.DataFrame, summary: pd.DataFrame,
           margin: float = EQUIVALENCE_MARGIN) -> str:
    """The answer in one paragraph (Markdown): the verdict, the primary endpoint at each of its amounts with the two
    accuracies, and what the secondary amounts show."""
    by = summary.set_index(["method", "amount"])["mean"]
    seeds = summary.set_index(["method", "amount"])["seeds"]
    amounts = primary.sort_values("n_labels")["amount"].tolist()
    parts = []
    for amount in amounts:
        row = _row(primary, HEADLINE, amount)
        parts.append(f"at {amount_words(amount)} it {claim(row, len(primary), margin)}: "
                     f"{by[HEADLINE, amount]:.1%} against {by[BASELINE, amount]:.1%}")
    text = (f"**Does Siamese pre-training help the simple CNN when labels are scarce? {verdict(primary)}.** The "
            f"study's primary endpoint is the paired gain in test accuracy of the CNN whose encoder was "
            f"pre-trained on the Siamese task and then fine-tuned, over the same CNN trained from random weights, at "
            f"{listing([amount_words(a) for a in amounts])} ({count(int(seeds[HEADLINE, amounts[0]]), 'seed')}"
            f"{' each' if len(amounts) > 1 else ''}, Holm's correction over {count(len(primary), 'test')}). "
            + sentence("; ".join(parts)))
    if len(secondary):
        text += " " + secondary_sentence(secondary, margin)
    return text


def secondary_sentence(secondary: pd.DataFrame, margin: float = EQUIVALENCE_MARGIN) -> str:
    """What the headline gain does at the amounts outside the primary endpoint, grouped by its word."""
    groups: dict[str, list[str]] = {}
    for _, row in secondary.sort_values("n_labels").iterrows():
        word = kind(row)
        groups.setdefault("no detectable difference" if word == "uncorrected" else word, []).append(row["amount"])
    said = {"helps": "it helps at {}", "hurts": "it hurts at {}",
            "equivalent": f"the two are equivalent within ±{margin:g} points at {{}}",
            "no detectable difference": "no difference is detectable at {}",
            "untested": "one seed only (no test) at {}"}
    other = "At the other amount" if len(secondary) == 1 else f"At the {len(secondary)} other amounts"
    return (f"{other} (secondary, Holm's correction over those tests), "
            + "; ".join(said[w].format(listing(groups[w])) for w in said if w in groups) + ".")


def why_sentences(diagnostics: dict, pretexts) -> list[str]:
    """What the pretext tasks' own diagnostics (notebook 4; ``diagnostics``: ``"<pretext>/<seed>"`` -> analysis) say
    about why they help or not: each task's `Pretext.why`."""
    lines = []
    for name in pretexts:
        sentence = PRETEXTS[name]().why([d for k, d in diagnostics.items() if k.rsplit("/", 1)[0] == name])
        if sentence:
            lines.append(sentence)
    return lines


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """Notebook 4's sweep (`study.sweep_table`) as `stats.summary_table` (mean test accuracy, half-width of its 95 % CI
    over seeds, seeds) per fit method and label amount, with the pretext, use and unlabelled images of each method."""
    summary = summary_table(sweep)
    keys = sweep.drop_duplicates("method").set_index("method")
    return summary.join(keys[[c for c in ("pretext", "use", "unlabelled") if c not in summary.columns]], on="method")


def levels_off(means: pd.Series, margin: float = EQUIVALENCE_MARGIN) -> int | None:
    """The smallest number of unlabelled images (the index of ``means``, mean accuracies) from which no further step of
    the sweep raises the mean by more than ``margin`` points; None where even the last step does."""
    means = means.sort_index()
    steps = means.diff().iloc[1:] * 100
    for i, start in enumerate(means.index):
        if (steps.iloc[i:] <= margin).all():
            return None if i == len(means) - 1 else start
    return None


def sweep_sentences(summary: pd.DataFrame, amount: str, uses=("finetune", "logistic"),
                    margin: float = EQUIVALENCE_MARGIN) -> list[str]:
    """Per pretext and use at ``amount``: the mean accuracy with the fewest and with the most unlabelled images, and
    where the curve levels off (`levels_off`; means over seeds, no test)."""
    lines = []
    words = {"finetune": "fine-tuned", "logistic": "with logistic regression on its frozen features",
             "knn": "with k-NN on its frozen features", "probe": "probed"}
    for (pretext, use), group in summary[summary["amount"] == amount].groupby(["pretext", "use"], sort=False):
        if use not in uses:
            continue
        means = group.set_index("unlabelled")["mean"].sort_index()
        low, high = means.index[0], means.index[-1]
        start = levels_off(means, margin)
        if start is None:
            flat = (f"it does not level off: the last step still adds {100 * (means.iloc[-1] - means.iloc[-2]):+.1f} "
                    "points")
        elif start == low:
            flat = f"more unlabelled images do not help it: no step from {low:,} images on adds more than {margin:g} points"
        else:
            flat = f"it levels off from {start:,} images on (no further step adds more than {margin:g} points)"
        lines.append(f"the {encoder_label(pretext)} encoder {words.get(use, use)} goes from {means[low]:.1%} ({low:,} unlabelled "
                     f"images) to {means[high]:.1%} ({high:,}); {flat}")
    return [sentence(line) for line in lines]


def semi_paragraph(vs_finetuned: pd.DataFrame, vs_supervised: pd.DataFrame, summary: pd.DataFrame, reference: str,
                   margin: float = EQUIVALENCE_MARGIN) -> str:
    """The semi-supervised arm in words: the best semi-supervised model at the smallest amount, its accuracy beside
    supervised and the fine-tuned ``reference``, and its paired gains over both (each table one Holm family)."""
    by = summary.set_index(["method", "amount"])["mean"]
    smallest = vs_finetuned.sort_values("n_labels")["amount"].iloc[0]
    methods = vs_finetuned["method"].unique()
    best = max(methods, key=lambda m: by[m, smallest])
    helped = vs_finetuned[vs_finetuned.apply(kind, axis=1) == "helps"]
    named = "; ".join(f"{method_label(m)} at {a}" for m, a in zip(helped["method"], helped["amount"]))
    return (f"**Using the unlabelled images as a teacher's pupil instead** (secondary). At {amount_words(smallest)} "
            f"the best semi-supervised model is {method_label(best)} with {by[best, smallest]:.1%}, against "
            f"{by[BASELINE, smallest]:.1%} supervised and {by[reference, smallest]:.1%} for the CNN fine-tuned from "
            f"the {parts(reference)[0]} encoder. Against that fine-tuned CNN it "
            f"{claim(_row(vs_finetuned, best, smallest), len(vs_finetuned), margin)}; against supervised it "
            f"{claim(_row(vs_supervised, best, smallest), len(vs_supervised), margin)}. Of the "
            f"{count(len(vs_finetuned), 'comparison')} of a semi-supervised model with the fine-tuned CNN "
            f"({'; '.join(method_label(m) for m in methods)}; at {listing(list(vs_finetuned['amount'].unique()))}), "
            f"{len(helped)} {'is a gain' if len(helped) == 1 else 'are gains'} that Holm's correction keeps"
            + (f" ({named})." if named else "."))


def written_answer(primary: pd.DataFrame, secondary: pd.DataFrame, summary: pd.DataFrame, vs_supervised: pd.DataFrame,
                   vs_random: pd.DataFrame, frozen: pd.DataFrame, diagnostics: dict, pretexts, official: pd.DataFrame,
                   n_official: int, n_test: int, margin: float = EQUIVALENCE_MARGIN, extra: list[str] = ()) -> list[str]:
    """The few paragraphs that notebook 6 ends with (Markdown): the answer (`answer`), the other pretext tasks, frozen
    features, why, the official-test-set numbers, and the limitations. ``vs_supervised`` / ``vs_random``: every
    fine-tuned encoder against supervised / against the untrained encoder; ``frozen``: frozen classifiers against the
    untrained encoder's; ``official``: `stats.summary_table` of the accuracy on the test images from MNIST's official
    test set; ``extra``: paragraphs put before the official-test numbers (the sweep's and the semi-supervised arm's)."""
    by = summary.set_index(["method", "amount"])["mean"]
    seeds = summary.groupby("method")["seeds"].agg(["min", "max"])
    smallest = summary.sort_values("n_labels")["amount"].iloc[0]
    largest = summary.sort_values("n_labels")["amount"].iloc[-1]
    paragraphs = [answer(primary, secondary, summary, margin)]

    finetunes = [f"{p}_finetune" for p in pretexts]
    best = max(finetunes, key=lambda m: by[m, smallest])
    tests_s = len(vs_supervised)
    tests_r = len(vs_random)
    paragraphs.append(
        f"**Other ways to pre-train the same encoder** (secondary). At {amount_words(smallest)} the best fine-tuned "
        f"encoder is {parts(best)[0]} ({by[best, smallest]:.1%}); against supervised it "
        f"{claim(_row(vs_supervised, best, smallest), tests_s, margin)}, and against the untrained encoder given the "
        f"same probe-then-fine-tune schedule ({by['random_finetune', smallest]:.1%}) it "
        f"{claim(_row(vs_random, best, smallest), tests_r, margin)}. Against supervised, that schedule on an "
        f"untrained encoder {claim(_row(vs_supervised, 'random_finetune', smallest), tests_s, margin)}.")

    kinds = sorted({parts(m)[1] for m in frozen["method"]})
    best_frozen = max((by[f"{p}_{k}", smallest], p, k) for p in pretexts for k in kinds)
    logistic = [f"{p} {claim(_row(frozen, f'{p}_logistic', smallest), len(frozen), margin)}" for p in pretexts
                if "logistic" in kinds]
    paragraphs.append(
        f"**Frozen features** (secondary). Without fine-tuning, the best frozen encoder at {amount_words(smallest)} is "
        f"{best_frozen[1]} with {best_frozen[2]} ({best_frozen[0]:.1%}); the untrained encoder reaches "
        f"{max(by[f'random_{k}', smallest] for k in kinds):.1%} and the raw pixels "
        f"{max(by[f'pixels_{k}', smallest] for k in kinds):.1%}. Against the untrained encoder (logistic "
        f"regression): " + "; ".join(logistic) + ".")

    why = why_sentences(diagnostics, pretexts)
    if why:
        paragraphs.append("**Why.** " + " ".join(why))

    paragraphs += list(extra)
    o = official.set_index(["method", "amount"])["mean"]
    paragraphs.append(
        f"**On MNIST's official test images.** The split pools MNIST's 70,000 images, so writers of its training set "
        f"appear in the labelled, unlabelled and test sets alike, and the accuracies above are not comparable with "
        f"results on MNIST's official test set. {n_official:,} of the {n_test:,} test images come from that set: on "
        f"them, at {amount_words(largest)}, supervised reaches {o[BASELINE, largest]:.2%} and the Siamese fine-tuned "
        f"CNN {o[HEADLINE, largest]:.2%}; at {amount_words(smallest)}, {o[BASELINE, smallest]:.1%} and "
        f"{o[HEADLINE, smallest]:.1%}.")

    primary_seeds = int(summary.set_index(["method", "amount"]).loc[(HEADLINE, primary["amount"].iloc[0]), "seeds"])
    half = primary["ci_high"].sub(primary["ci_low"]).div(2)
    widths = f"±{half.min():.2f}" if round(half.min(), 2) == round(half.max(), 2) else \
        f"±{half.min():.2f} to ±{half.max():.2f}"
    paragraphs.append(
        f"**Limitations.** The primary amounts have {count(primary_seeds, 'seed')} (each with its own label subset, "
        f"initialisation and pretext run), which gives 95 % intervals of {widths} points on the primary gain; the "
        f"other amounts have {count(int(seeds['min'].min()), 'seed')}, so only large or very "
        f"steady differences there can be told apart from zero or shown equivalent. One architecture, one dataset "
        f"and one budget of pre-training were tried; each pretext's settings were chosen with one run per variant on "
        f"validation data. The design was shaped over several earlier runs that were scored on the test set (the "
        f"design notes, docs/design.md, list them), so the test set is not untouched, though no choice was "
        f"made on it.")
    return paragraphs


#: the assignment's label fractions (10 %, 20 %, ... 100 % of the labelled set): its own comparison
ASSIGNMENT_FRACTIONS = tuple(f"{10 * k}%" for k in range(1, 11))


def assignment_gain(results: pd.DataFrame, fractions=ASSIGNMENT_FRACTIONS) -> dict:
    """The headline's paired gain over supervised (points) averaged over the assignment's ten fractions, per seed (the
    seeds with all ten), and its 95 % t interval over those seeds: one test, a family of its own. Also the number of
    fractions at which the mean gain is below zero."""
    from scipy import stats

    from .stats import mean_ci

    shared = results[results["amount"].isin(fractions) & results["method"].isin([BASELINE, HEADLINE])]
    wide = shared.pivot_table(index=["seed", "amount"], columns="method", values="test_accuracy").dropna()
    diff = 100 * (wide[HEADLINE] - wide[BASELINE])
    complete = diff.groupby("seed").size() == len(fractions)
    per_seed = diff.groupby("seed").mean()[complete]
    mean, half = mean_ci(per_seed)
    p = float(stats.ttest_1samp(per_seed, 0).pvalue) if len(per_seed) > 1 else float("nan")
    by_amount = diff.groupby("amount").mean()
    return {"gain": mean, "ci_low": mean - half, "ci_high": mean + half, "p_value": p, "seeds": len(per_seed),
            "below": int((by_amount < 0).sum()), "fractions": len(by_amount)}


def _plain(row) -> str:
    """A gain's word for the front page, without statistics: "is better", "is worse", "is equivalent", or "differs
    by no amount the data can detect"."""
    return {"helps": "is better", "hurts": "is worse", "equivalent": f"is equivalent (within ±{EQUIVALENCE_MARGIN:g} "
            "points)"}.get(kind(row), "differs by no amount the data can detect")


def front_page(results: pd.DataFrame, summary: pd.DataFrame, gains: pd.DataFrame) -> str:
    """The first page's answer (Markdown, for ``reports/index.html``): three plain sentences -- the assignment's
    comparison over its ten fractions and where labels are scarcest, the other pretext tasks, the semi-supervised
    methods -- the assignment's ten-row table, and the statistics as numbered notes. Every number and word is computed
    from ``results`` (notebooks 2 and 5), ``summary`` and ``gains`` (notebook 6, its ``family`` column)."""
    by = summary.set_index(["method", "amount"])["mean"]
    seeds = summary.set_index(["method", "amount"])["seeds"]
    overall = assignment_gain(results)
    family = lambda name: gains[gains["family"] == name]  # noqa: E731
    primary = family("primary").sort_values("n_labels")
    smallest = primary.iloc[0]
    inside = overall["ci_low"] <= 0 <= overall["ci_high"]
    verb = ("changes" if inside else "raises" if overall["gain"] > 0 else "lowers")
    first = (f"Pre-training the encoder on the Siamese task and then fine-tuning the CNN, instead of training it from "
             f"scratch, {verb} its test accuracy by {overall['gain']:+.2f} points on average over the assignment's "
             f"ten label fractions (10 % to 100 % of the labelled images){' — an amount the data cannot tell from no change' if inside else ''}"
             f"¹; it is below training from scratch at "
             f"{'all ten' if overall['below'] == overall['fractions'] == 10 else str(overall['below']) + ' of the ' + str(overall['fractions'])}"
             f" of them. Where labels "
             f"are scarcest, at {amount_words(smallest['amount'])}, the pre-trained CNN {_plain(smallest)}: "
             f"{by[HEADLINE, smallest['amount']]:.1%} against {by[BASELINE, smallest['amount']]:.1%}².")
    others = family("pretexts vs supervised")
    others = others[(others["amount"] == smallest["amount"]) & (others["method"] != HEADLINE)
                    & others["method"].map(lambda m: parts(m)[0] in PRETEXTS)]  # not the untrained control
    words = {m: kind(r) for m, r in others.set_index("method").iterrows()}
    found = {m: w for m, w in words.items() if w in ("helps", "hurts")}
    names = listing([parts(m)[0] for m in words]) if words else ""
    second = (f"Fine-tuned from the other pre-trained encoders ({names}), the CNN is "
              + ("neither better nor worse than training from scratch by an amount the data can detect"
                 if not found else "; ".join(f"{'better' if w == 'helps' else 'worse'} with {parts(m)[0]}"
                                             for m, w in found.items()))
              + f" at {amount_words(smallest['amount'])}³.") if words else ""
    semi = family("semi-supervised vs supervised")
    semi = semi[semi["amount"] == smallest["amount"]]
    third = ""
    if len(semi):
        kept = semi[semi.apply(kind, axis=1) == "helps"]
        third = (f"Using the unlabelled images for semi-supervised training instead changed the accuracy by "
                 f"{semi['gain'].min():+.1f} to {semi['gain'].max():+.1f} points over training from scratch at "
                 f"{amount_words(smallest['amount'])} for the {count(len(semi), 'semi-supervised model')} tried; "
                 + (f"with {count(int(semi['pairs'].min()), 'seed')} each, the correction for "
                    f"{count(len(family('semi-supervised vs supervised')), 'test')} keeps "
                    f"{'none of these gains' if not len(kept) else count(len(kept), 'of them')}⁴."))
    table = ["| labelled images | trained from scratch | Siamese pre-trained, fine-tuned | gain (points) | "
             "95 % interval | seeds |", "|---|---:|---:|---:|---|---:|"]
    gain_rows = pd.concat([family("primary"), family("secondary")]).set_index("amount")
    n_of = summary.drop_duplicates("amount").set_index("amount")["n_labels"]
    for amount in ASSIGNMENT_FRACTIONS:
        if amount in gain_rows.index:
            row = gain_rows.loc[amount]
            table.append(f"| {amount} ({int(n_of[amount]):,}) | {by[BASELINE, amount]:.2%} | {by[HEADLINE, amount]:.2%} "
                         f"| {row['gain']:+.2f} | [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}] "
                         f"| {int(seeds[HEADLINE, amount])} |")
    notes = [
        f"¹ The paired difference (same seed, same label subset) averaged over the ten fractions per seed: "
        f"{overall['gain']:+.2f} points, 95 % t interval [{overall['ci_low']:+.2f}, {overall['ci_high']:+.2f}] over "
        f"{count(overall['seeds'], 'seed')}, p = {overall['p_value']:.2f} (one test).",
        f"² The study's primary endpoint: the paired gain at "
        f"{listing([amount_words(a) for a in primary['amount']])}, {count(int(smallest['pairs']), 'seed')}, Holm's "
        f"correction over {count(len(primary), 'test')}; at {amount_words(smallest['amount'])} it "
        f"{claim(smallest, len(primary))}.",
    ]
    if second:
        notes.append(f"³ Paired gains over training from scratch of every fine-tuned encoder at every amount tested, "
                     f"one family of {count(len(family('pretexts vs supervised')), 'test')} under Holm's correction.")
    if len(semi):
        notes.append(f"⁴ Paired gains of the semi-supervised models over training from scratch, one family of "
                     f"{count(len(family('semi-supervised vs supervised')), 'test')} under Holm's correction; "
                     f"{count(int(semi['pairs'].min()), 'seed')} each.")
    return "\n\n".join([" ".join(s for s in (first, second, third) if s), "\n".join(table),
                         "<small>\n\n" + "\n\n".join(notes) + "\n\n</small>"]) + "\n"


def official_summary(results: pd.DataFrame) -> pd.DataFrame:
    """`stats.summary_table` of the accuracy on the test images from MNIST's official test set."""
    from .stats import summary_table

    return summary_table(results, "official_test_accuracy")


__all__ = ["ASSIGNMENT_FRACTIONS", "BASELINE", "HEADLINE", "amount_words", "answer", "assignment_gain", "claim",
           "front_page", "kind", "levels_off", "official_summary",
           "primary_endpoint", "secondary_endpoint", "secondary_sentence", "semi_paragraph", "sweep_sentences",
           "sweep_summary", "verdict", "why_sentences", "written_answer"]
