"""The written answer's templates (`ssl_study.report.conclusion`) on constructed results of each kind: they say "better"
or "worse" only where the plan's family correction keeps the difference, "equivalent" only where the equivalence tests
do, and otherwise "no difference the data can detect" with the seeds and the interval -- never "no difference"."""

import re

import numpy as np
import pandas as pd
import pytest

import helpers
from ssl_study.report import analysis, conclusion, front

AMOUNTS = {"10/class": 100, "1%": 280, **{a: int(a[:-1]) * 280 for a in helpers.ASSIGNMENT_AMOUNTS}}


def steady(mean: float, seeds: int = 20, spread: float = 0.1) -> np.ndarray:
    """``seeds`` per-seed gains (points) of the given mean and spread, exactly."""
    z = np.random.default_rng(seeds).standard_normal(seeds)
    return mean + spread * (z - z.mean()) / z.std(ddof=1)


def results_with(gains: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    """Results of the supervised CNN and of each method ``m`` whose paired differences (points) at ``amount`` are
    ``gains[(m, amount)]``; the 2 x 2's methods, the other pretexts and the semi-supervised method alike."""
    rng = np.random.default_rng(0)
    rows, base = [], {}
    for (method, amount), diffs in gains.items():
        for seed, diff in enumerate(diffs):
            b = base.setdefault((amount, seed), 0.9 + 0.02 * rng.standard_normal())
            rows.append({"method": method, "amount": amount, "n_labels": AMOUNTS[amount], "seed": seed,
                         "test_accuracy": b + diff / 100, "official_test_accuracy": b + diff / 100, "seconds": 1.0})
    for (amount, seed), b in base.items():
        rows.append({"method": "supervised", "amount": amount, "n_labels": AMOUNTS[amount], "seed": seed,
                     "test_accuracy": b, "official_test_accuracy": b, "seconds": 1.0})
    return pd.DataFrame(rows)


def study(primary: dict[str, np.ndarray], fractions: float = 0.0, semi: float = 0.0) -> tuple[pd.DataFrame, str]:
    """The tests of the plan and the first page's answer on constructed results: the Siamese recipe's gains at the
    primary amounts (``primary``) and a steady gain of ``fractions`` at the ten fractions; the probe-then-fine-tune
    cells and the best other pretext equal to supervised, the semi-supervised method ``semi`` better."""
    h = helpers.HEADLINE_PRETEXT
    gains = {(f"{h}_recipe", a): d for a, d in primary.items()}
    gains |= {(f"{h}_recipe", a): steady(fractions, 5, 0.05) for a in helpers.ASSIGNMENT_AMOUNTS}
    best = helpers.method_id(helpers.choices().best_pretext, helpers.choices().other_use)
    for method in ("random_finetune", f"{h}_finetune", best):
        gains |= {(method, a): steady(0.0, 30, 0.2) for a in primary}
    gains |= {(helpers.choices().semi_method, "10/class"): steady(semi, 5, 1.5)}
    results = results_with(gains)
    plan = analysis.contrasts(("10/class", "1%"), [h, helpers.choices().best_pretext], helpers.choices().semi_method)
    tests = analysis.analyse(results, None, plan, require_images=False)
    return tests, front.front_page(tests, helpers.summary_table(results), "abc1234")


def test_a_steady_gain_is_better_a_steady_loss_worse_and_a_tight_tie_equivalent():
    tests, text = study({"10/class": steady(1.5, 30, 0.5), "1%": steady(-1.0, 30, 0.5)}, fractions=0.0)
    primary = tests[tests["family"] == "primary"].set_index("amount")["verdict"].to_dict()
    assert primary == {"10/class": "better", "1%": "worse"}
    assert text.startswith("It depends on the amount: with 10 labels per class (100 images) a CNN whose encoder")
    assert "(a gain of 1.50 points); with 1 % of the labels (280 images), " in text
    assert "(a loss of 1.00 points)" in text
    # a pooled test bounds the mean over its amounts, and says so (issue 29)
    assert ("Over the assignment's 10 fractions (2,800 to 28,000 labelled images), with one recipe for both, the mean "
            "gain is +0.00 points, equivalent to no gain within ±0.11 points (a bound on the mean, not on each "
            "fraction)") in text
    assert "vanishes" not in text and "still" not in text
    semi = [row for row in text.splitlines() if row.startswith("| semi-supervised training on the unlabelled images")]
    assert len(semi) == 1 and ", no difference detected<sup>" in semi[0] and semi[0].endswith("| 5 |")


def test_a_result_the_data_cannot_decide_is_worded_with_its_seeds_and_interval_never_as_no_difference():
    tests, text = study({"10/class": steady(0.3, 30, 2.0), "1%": steady(0.1, 30, 2.0)}, fractions=0.05, semi=3.0)
    row = conclusion.pick(tests, "primary", amount="10/class")
    assert row["verdict"] == "undetected"
    assert text.startswith("Not detectably: with 10 labels per class (100 images) a CNN")
    assert (f"(+0.30 points, which 30 seeds cannot tell from zero: 95 % interval [{row['ci_low']:+.2f}, "
            f"{row['ci_high']:+.2f}])") in text
    assert not re.search(r"\bno difference\b(?! detected)", text)
    semi = [row for row in text.splitlines() if row.startswith("| semi-supervised training on the unlabelled images")]
    assert "| +3.00 [" in semi[0] and "], better<sup>" in semi[0]


def test_a_gain_the_family_correction_rejects_is_not_called_better():
    """At both primary amounts an uncorrected p of about 0.04: Holm's correction over the family of two doubles the
    smaller, so neither is called better although each p is below 0.05."""
    tests, text = study({"10/class": steady(0.39, 30, 1.0), "1%": steady(0.39, 30, 1.0)})
    for amount in ("10/class", "1%"):
        row = conclusion.pick(tests, "primary", amount=amount)
        assert 0.025 < row["p_value"] < 0.05 and row["p_holm"] > 0.05 and row["verdict"] != "better"
    assert "a gain of 0.39" not in text and "Yes" not in text


def test_the_first_page_has_the_assignments_table_and_its_statistics_as_notes():
    tests, text = study({"10/class": steady(1.5, 30, 0.5), "1%": steady(1.0, 30, 0.5)}, fractions=-0.2)
    rows = [line for line in text.splitlines() if re.match(r"\| (10/class|\d+%) \([\d,]+\) \|", line)]
    assert len(rows) == 12 and rows[0].startswith("| 10/class (100) |")  # 2 primary amounts, ten fractions
    notes = text[text.index('<details class="statistics">'):]
    assert "Siamese, fine-tuned vs trained from scratch, the assignment's ten fractions on average: -0.20" in notes
    assert "after Holm's correction" in notes and "commit abc1234" in notes
    assert not re.search(r"\d[eE][-+]\d", text), "a p-value in e-notation"
    assert ("Over the assignment's 10 fractions (2,800 to 28,000 labelled images), with one recipe for both, the mean "
            "gain is -0.20 points, worse than training from scratch") in text
    assert text.index(front.FIGURE) < text.index(rows[0]), "the figure comes after the two sentences"


def test_the_written_answer_says_what_the_table_of_tests_does_not_and_the_table_has_every_test():
    tests, _ = study({"10/class": steady(1.5, 30, 0.5), "1%": steady(0.0, 30, 0.2)})
    results = results_with({("siamese_recipe", a): steady(0.0, 3) for a in ("10/class", "100%")})
    official = conclusion.official_summary(results)
    origin = pd.DataFrame({"testing": [3994, 4000, 2006], "training": [24006, 24000, 11994]},
                          index=["labelled", "unlabelled", "test"])
    paragraphs = conclusion.written_answer(tests, official, origin, {}, [])
    text = "\n".join(paragraphs)
    for family in ("Primary", "2 x 2", "Assignment", "Other pretexts", "Semi-supervised"):
        assert f"**{family}**" not in text  # said once, in the page's table of tests (issue 32)
    assert "labelled 3,994 of 28,000" in text and "Limitations." in text
    table = front.tests_table(tests, styled=False)
    assert len(table) == len(tests[tests["family"] != "descriptive"]) and "descriptive" not in set(table["verdict"])
    assert not table.apply(lambda column: column.astype(str).str.fullmatch(r"[a-z]+(_[a-z0-9]+)+")).any().any()


def test_one_seed_is_reported_without_an_interval_or_a_test():
    row = pd.Series({"question": "q", "amount": "10/class", "gain": 0.4, "ci_low": np.nan, "ci_high": np.nan,
                     "pairs": 1, "verdict": "untested", "tests_in_family": np.nan})
    assert front.footnote(row) == "Q, 10 labels per class: +0.40 points on one seed (no interval, no test)."
    assert conclusion.phrase(row) == "differs from training from scratch by +0.40 points (1 seed: not tested)"


def test_the_sweep_is_described_with_its_seeds_and_intervals_never_as_levelling_off():
    rows = [{"method": f"siamese{part}_recipe", "pretext": "siamese", "use": "recipe", "unlabelled": images,
             "amount": "10/class", "n_labels": 100, "seed": seed, "test_accuracy": accuracy + 0.01 * seed,
             "seconds": 1.0}
            for part, images, accuracy in (("_u280", 280, 0.80), ("", 28000, 0.85)) for seed in range(3)]
    summary = conclusion.sweep_summary(pd.DataFrame(rows))
    assert summary.set_index("unlabelled").loc[280, "mean"] == pytest.approx(0.81)
    text = " ".join(conclusion.sweep_sentences(summary, "10/class"))
    assert "reaches 81.0% ± 2.5 with 280 unlabelled images and 86.0% ± 2.5 with 28,000 (3 seeds" in text
    assert "levels off" not in text


def test_a_certain_difference_inside_the_margin_is_a_difference_that_says_so():
    tests, text = study({"10/class": steady(0.3, 30, 0.05), "1%": steady(0.2, 30, 0.05)})
    row = conclusion.pick(tests, "primary", amount="10/class")
    assert row["verdict"] == "better" and row["p_equivalence_holm"] < 0.05
    assert "(a gain of 0.30 points, inside the margin of ±0.96 points)" in text
