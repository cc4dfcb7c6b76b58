"""The written answer's template on constructed results of each kind: it may only say "helps" or "hurts" where the
study's correction keeps the difference, and "equivalent" where the equivalence tests do."""

import numpy as np
import pandas as pd
import pytest

import helpers
from ssl_study import conclusion

AMOUNTS = {"10/class": 100, "1%": 280, "5%": 1400, "10%": 2800, "50%": 14000, "100%": 28000}


def results_with(gains: dict[str, np.ndarray]) -> pd.DataFrame:
    """Supervised and Siamese fine-tuned results whose paired differences (points) at each amount are ``gains``."""
    rng = np.random.default_rng(0)
    rows = []
    for amount, diffs in gains.items():
        for seed, diff in enumerate(diffs):
            base = 0.9 + 0.02 * rng.standard_normal()  # a large spread between seeds, as between real subsets
            for method, accuracy in (("supervised", base), (conclusion.HEADLINE, base + diff / 100)):
                rows.append({"method": method, "amount": amount, "n_labels": AMOUNTS[amount], "seed": seed,
                             "test_accuracy": accuracy, "official_test_accuracy": accuracy, "seconds": 1.0})
    return pd.DataFrame(rows)


def steady(mean: float, seeds: int = 20, spread: float = 0.1) -> np.ndarray:
    return mean + spread * np.random.default_rng(int(abs(mean) * 100) + seeds).standard_normal(seeds)


def findings(gains):
    results = results_with(gains)
    return (conclusion.primary_endpoint(results), conclusion.secondary_endpoint(results),
            helpers.summary_table(results))


def words(gains: pd.DataFrame) -> dict[str, str]:
    return {row["amount"]: conclusion.kind(row) for _, row in gains.iterrows()}


def test_a_steady_gain_at_both_primary_amounts_is_a_yes():
    primary, secondary, summary = findings({"10/class": steady(2.0), "1%": steady(1.0), "100%": steady(0.0, 3, 0.05)})
    assert words(primary) == {"10/class": "helps", "1%": "helps"}
    text = conclusion.answer(primary, secondary, summary)
    assert text.startswith("**Does Siamese pre-training help the simple CNN when labels are scarce? Yes.**")
    assert "At 10 labels per class it helps (+" in text and "Holm-corrected p =" in text


def test_a_loss_is_called_hurts_and_the_answer_no():
    primary, secondary, summary = findings({"10/class": steady(-2.0), "1%": steady(0.0, 20, 3.0)})
    assert words(primary) == {"10/class": "hurts", "1%": "no detectable difference"}
    assert conclusion.verdict(primary) == "No: it hurts"
    assert "it hurts (-" in conclusion.answer(primary, secondary, summary)


def test_a_tight_tie_is_equivalent_and_a_noisy_tie_is_not():
    primary, secondary, summary = findings({"10/class": steady(0.0, 20, 0.2), "1%": steady(0.0, 20, 3.0)})
    assert words(primary) == {"10/class": "equivalent", "1%": "no detectable difference"}
    assert conclusion.verdict(primary) == "Not detectably"
    text = conclusion.answer(primary, secondary, summary)
    assert "is equivalent within ±0.5 points" in text
    assert "helps" not in text and "hurts" not in text and "significant" not in text


def test_ties_within_the_margin_at_every_primary_amount_are_a_no():
    primary, secondary, summary = findings({"10/class": steady(0.05, 20, 0.2), "1%": steady(-0.05, 20, 0.2)})
    assert words(primary) == {"10/class": "equivalent", "1%": "equivalent"}
    text = conclusion.answer(primary, secondary, summary)
    assert text.startswith("**Does Siamese pre-training help the simple CNN when labels are scarce? No.**")
    assert "helps" not in text and "significant" not in text


def test_a_gain_that_holm_rejects_is_never_called_help_or_significant():
    """Four secondary amounts; one has an uncorrected p of about 0.04, which Holm's correction over four rejects."""
    diffs = np.array([0.9, 0.1, 1.2, 0.3, 0.5])  # mean +0.6, uncorrected p ~ 0.04, 5 seeds
    gains = {"10/class": steady(0.0, 20, 3.0), "1%": steady(0.0, 20, 3.0), "5%": diffs}
    gains.update({a: steady(0.0, 5, 2.0) for a in ("10%", "50%", "100%")})
    primary, secondary, summary = findings(gains)
    row = secondary[secondary["amount"] == "5%"].iloc[0]
    assert row["p_value"] < 0.05 and row["p_holm"] >= 0.05 and not row["significant"]
    assert conclusion.kind(row) == "uncorrected"
    sentence = conclusion.claim(row, len(secondary))
    assert sentence.startswith("makes no detectable difference after correction")
    assert "does not survive Holm's correction" in sentence
    text = conclusion.answer(primary, secondary, summary)
    assert "it helps at" not in text and "significant" not in text
    assert "no difference is detectable at" in text


def test_one_seed_is_reported_without_a_test():
    primary, _, _ = findings({"10/class": np.array([1.0]), "1%": np.array([0.5])})
    assert set(words(primary).values()) == {"untested"}
    assert "no test" in conclusion.claim(primary.iloc[0], len(primary))


@pytest.mark.parametrize("mean, spread, expected", [(0.0, 0.05, True), (0.45, 0.05, True), (0.6, 0.05, False),
                                                    (0.0, 2.0, False)])
def test_the_equivalence_test_matches_the_90_percent_interval(mean, spread, expected):
    from scipy import stats

    diff = steady(mean, 10, spread)
    p = helpers.equivalence_p(diff, 0.5)
    half = stats.t.ppf(0.95, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    inside = -0.5 < diff.mean() - half and diff.mean() + half < 0.5
    assert (p < 0.05) == inside == expected


def sweep_rows(means: dict[int, float], pretext: str = "contrastive", use: str = "finetune") -> pd.DataFrame:
    """Notebook 4's sweep summary for one pretext and use at 10/class: mean accuracy per unlabelled images."""
    return pd.DataFrame([{"pretext": pretext, "use": use, "amount": "10/class", "n_labels": 100, "unlabelled": images,
                          "mean": mean, "ci95": 0.01, "seeds": 3} for images, mean in means.items()])


def test_a_sweep_levels_off_where_no_further_step_adds_more_than_the_margin():
    rising = pd.Series({280: 0.80, 2800: 0.86, 14000: 0.864, 28000: 0.866})
    assert conclusion.levels_off(rising) == 2800
    assert conclusion.levels_off(pd.Series({280: 0.80, 2800: 0.81, 14000: 0.83, 28000: 0.85})) is None
    assert conclusion.levels_off(pd.Series({280: 0.85, 2800: 0.85, 28000: 0.849})) == 280
    text = " ".join(conclusion.sweep_sentences(sweep_rows(rising.to_dict()), "10/class"))
    assert "levels off from 2,800 images on" in text and "80.0% (280 unlabelled images) to 86.6% (28,000)" in text
    still = " ".join(conclusion.sweep_sentences(sweep_rows({280: 0.80, 28000: 0.85}), "10/class"))
    assert "does not level off: the last step still adds +5.0 points" in still
    flat = " ".join(conclusion.sweep_sentences(sweep_rows({280: 0.85, 2800: 0.85, 28000: 0.849}), "10/class"))
    assert "more unlabelled images do not help it: no step from 280 images on adds more than 0.5 points" in flat


def test_the_semi_supervised_paragraph_names_the_best_model_and_tests_it_like_every_other_gain():
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(3):
        base = 0.9 + 0.02 * rng.standard_normal()
        for method, gain in (("supervised", 0.0), ("contrastive_finetune", 0.01), ("fixmatch", 0.06),
                             ("pseudolabel", 0.03)):
            accuracy = base + gain + 0.001 * rng.standard_normal()
            rows.append({"method": method, "amount": "10/class", "n_labels": 100, "seed": seed,
                         "test_accuracy": accuracy, "official_test_accuracy": accuracy, "seconds": 1.0})
    results = pd.DataFrame(rows)
    summary = helpers.summary_table(results)
    vs_finetuned = helpers.compare(results, "contrastive_finetune", ["fixmatch", "pseudolabel"], margin=0.5)
    vs_supervised = helpers.compare(results, "supervised", ["fixmatch", "pseudolabel"], margin=0.5)
    text = conclusion.semi_paragraph(vs_finetuned, vs_supervised, summary, "contrastive_finetune")
    assert "the best semi-supervised model is FixMatch (random init)" in text
    gain = vs_finetuned.set_index("method").loc["fixmatch"]
    assert f"it {conclusion.claim(gain, 2)}" in text and "Holm" in text
    assert ("that Holm's correction keeps" in text) and ("significant" not in text)


def test_the_sweep_summary_is_the_summary_table_of_its_fits_with_their_part_of_the_unlabelled_set():
    rows = [{"method": f"siamese{part}_finetune", "pretext": "siamese", "use": "finetune", "unlabelled": images,
             "amount": "10/class", "n_labels": 100, "seed": seed, "test_accuracy": accuracy + 0.01 * seed,
             "seconds": 1.0}
            for part, images, accuracy in (("_u280", 280, 0.80), ("", 28000, 0.85)) for seed in range(3)]
    summary = conclusion.sweep_summary(pd.DataFrame(rows)).set_index("unlabelled")
    assert summary.loc[280, "mean"] == pytest.approx(0.81) and summary.loc[28000, "mean"] == pytest.approx(0.86)
    assert set(summary["pretext"]) == {"siamese"} and set(summary["seeds"]) == {3}


def front_page_of(gains: dict[str, np.ndarray]) -> str:
    """The first page's answer on constructed results: the primary and secondary families as notebook 6 makes them."""
    global AMOUNTS
    AMOUNTS = {**AMOUNTS, **{a: int(a[:-1]) * 280 for a in conclusion.ASSIGNMENT_FRACTIONS}}
    results = results_with(gains)
    primary, secondary = conclusion.primary_endpoint(results), conclusion.secondary_endpoint(results)
    family = pd.concat([primary.assign(family="primary"), secondary.assign(family="secondary")])
    return conclusion.front_page(results, helpers.summary_table(results), family)


@pytest.mark.parametrize("mean, verb", [(-1.0, "lowers"), (1.0, "raises"), (0.0, "changes")])
def test_the_front_page_words_the_assignments_mean_gain_by_its_interval(mean, verb):
    gains = {"10/class": steady(0.0, 20, 0.2), "1%": steady(0.0, 20, 0.2),
             **{a: steady(mean, 3, 0.05 if mean else 2.0) for a in conclusion.ASSIGNMENT_FRACTIONS}}
    text = front_page_of(gains)
    assert f"scratch, {verb} its test accuracy by" in text
    assert ("cannot tell from no change" in text) == (verb == "changes")
    assert text.count("\n| ") == 11  # the header and the ten fractions
    assert "at 10 labels per class, the pre-trained CNN is equivalent" in text
