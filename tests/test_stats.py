"""Statistics of the comparison: confidence intervals and paired differences, on data with known answers."""

import numpy as np
import pandas as pd
import pytest

import helpers


def test_mean_ci_matches_the_t_interval():
    mean, half = helpers.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)  # t(0.975, 2) * s / sqrt(n)
    mean, half = helpers.mean_ci([0.5])
    assert mean == 0.5 and np.isnan(half)


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = [abs(m - 10) <= h for m, h in (helpers.mean_ci(rng.normal(10, 2, 5)) for _ in range(4000))]
    assert 0.94 < np.mean(covered) < 0.96


def results(base, other):
    rows = []
    for seed, (b, o) in enumerate(zip(base, other)):
        rows += [{"method": "supervised", "amount": "1%", "n_labels": 280, "seed": seed, "test_accuracy": b,
                  "seconds": 1.0},
                 {"method": "pre", "amount": "1%", "n_labels": 280, "seed": seed, "test_accuracy": o, "seconds": 2.0}]
    return pd.DataFrame(rows)


def test_paired_gain_uses_the_per_seed_differences():
    # a large spread between seeds but a constant +1 point within each seed: paired, the gain is certain
    base = [0.80, 0.90, 0.70, 0.85]
    gain = helpers.paired_gain(results(base, [b + 0.01 for b in base]), "supervised", "pre").iloc[0]
    assert gain["gain"] == pytest.approx(1.0) and gain["pairs"] == 4
    assert gain["ci_low"] == pytest.approx(1.0) and gain["significant"]


def test_paired_gain_not_significant_when_differences_straddle_zero():
    gain = helpers.paired_gain(results([0.9, 0.9, 0.9], [0.91, 0.89, 0.905]), "supervised", "pre").iloc[0]
    assert gain["ci_low"] < 0 < gain["ci_high"] and not gain["significant"]
    assert 0 < gain["p_value"] < 1


def test_summary_table_and_markdown():
    table = results([0.80, 0.82, 0.81], [0.85, 0.86, 0.87])
    summary = helpers.summary_table(table)
    assert summary.set_index("method").loc["pre", "mean"] == pytest.approx(0.86)
    gains = helpers.compare(table, "supervised", ["pre"])
    markdown = helpers.summary_markdown(summary, gains, "supervised")
    assert "86.00%" in markdown and "+5.00" in markdown


def amounts_table(gains_by_amount: dict[str, list[float]], seeds: int = 3) -> pd.DataFrame:
    """Results where "pre" beats "supervised" by the given points per seed at each amount."""
    rows, rng = [], np.random.default_rng(0)
    for k, (amount, gains) in enumerate(gains_by_amount.items()):
        for seed in range(seeds):
            base = 0.8 + rng.normal() * 0.02
            rows += [{"method": "supervised", "amount": amount, "n_labels": 100 * (k + 1), "seed": seed,
                      "test_accuracy": base, "seconds": 1.0},
                     {"method": "pre", "amount": amount, "n_labels": 100 * (k + 1), "seed": seed,
                      "test_accuracy": base + gains[seed] / 100, "seconds": 1.0}]
    return pd.DataFrame(rows)


def test_compare_calls_significant_only_what_holm_keeps():
    # "a": a steady gain (tiny p); "b": p < 0.05 alone but not after Holm over three amounts; "c": noise
    table = amounts_table({"a": [5.0, 5.1, 4.9], "b": [1.0, 1.5, 0.8], "c": [0.5, -0.4, 0.1]})
    gains = helpers.compare(table, "supervised", ["pre"]).set_index("amount")
    assert gains.loc["b", "p_value"] < 0.05 < gains.loc["b", "p_holm"]
    assert [helpers.direction(gains.loc[a]) for a in "abc"] == ["helps", "no detectable difference",
                                                                 "no detectable difference"]
    hurt = helpers.compare(amounts_table({"a": [-5.0, -5.1, -4.9]}), "supervised", ["pre"]).iloc[0]
    assert helpers.direction(hurt) == "hurts"


def test_compare_uses_only_the_amounts_both_methods_have():
    table = amounts_table({"a": [1.0, 1.1, 0.9], "b": [1.0, 1.2, 0.8]})
    table = table[~((table["method"] == "pre") & (table["amount"] == "b"))]
    assert helpers.compare(table, "supervised", ["pre"])["amount"].tolist() == ["a"]


def test_ranking_orders_methods_by_mean_accuracy_per_amount():
    summary = helpers.summary_table(amounts_table({"a": [1.0, 1.0, 1.0], "b": [-1.0, -1.0, -1.0]}))
    ranked = helpers.ranking(summary, ["supervised", "pre"], ["a", "b"])
    assert ranked.loc["a", "rank 1"].startswith("pre ") and ranked.loc["b", "rank 1"].startswith("supervised ")
    summary = helpers.summary_table(amounts_table({"a": [1.0, 1.0, 1.0], "b": [-1.0, -1.0, -1.0]}))
    fewer = helpers.ranking(summary[~((summary["method"] == "pre") & (summary["amount"] == "b"))],
                            ["supervised", "pre"], ["a", "b"])
    assert fewer.loc["b", "rank 2"] == ""  # an amount without every method: a blank cell, not "nan"


def test_cost_seconds_adds_the_pretext_and_the_probe_the_head_came_from():
    results = pd.DataFrame({
        "method": ["supervised", "siamese_probe", "siamese_finetune"] * 2,
        "amount": ["1%"] * 3 + ["10%"] * 3, "seed": [0, 0, 0, 1, 1, 1],
        "seconds": [10.0, 1.0, 12.0, 20.0, 2.0, 22.0]}).sample(frac=1.0, random_state=3)  # any row order
    seconds = {0: 100.0, 1: 200.0}
    cost = helpers.cost_seconds(results, {"siamese_probe": seconds, "siamese_finetune": seconds},
                                head_from={"siamese_finetune": "siamese_probe"})
    expected = {("supervised", "1%"): 10.0, ("siamese_probe", "1%"): 101.0, ("siamese_finetune", "1%"): 113.0,
                ("supervised", "10%"): 20.0, ("siamese_probe", "10%"): 202.0, ("siamese_finetune", "10%"): 224.0}
    assert cost.tolist() == [expected[m, a] for m, a in zip(results["method"], results["amount"])]
    with pytest.raises(ValueError, match="no siamese_probe run"):
        helpers.cost_seconds(results[results["method"] != "siamese_probe"], {"siamese_finetune": {0: 1.0, 1: 1.0}},
                             head_from={"siamese_finetune": "siamese_probe"})
    with pytest.raises(ValueError, match="no pretext seconds"):
        helpers.cost_seconds(results, {"siamese_probe": {0: 1.0}})


def test_holm_adjusts_known_p_values():
    # m = 4 sorted p-values 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (monotone), 0.5
    adjusted = helpers.holm(np.array([0.03, 0.5, 0.01, 0.02, np.nan]))
    assert np.allclose(adjusted[:4], [0.06, 0.5, 0.04, 0.06]) and np.isnan(adjusted[4])
    assert np.allclose(helpers.holm(np.array([0.9, 0.8])), [1.0, 1.0])  # capped at 1
