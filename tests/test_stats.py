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


def test_summary_table_gives_each_method_and_amount_its_mean():
    rows = [{"method": m, "amount": "1%", "n_labels": 280, "seed": seed, "test_accuracy": a, "seconds": 1.0}
            for seed, (b, o) in enumerate(zip([0.80, 0.82, 0.81], [0.85, 0.86, 0.87]))
            for m, a in (("supervised", b), ("pre", o))]
    summary = helpers.summary_table(pd.DataFrame(rows)).set_index("method")
    assert (summary.loc["pre", "mean"] == pytest.approx(0.86)
            and summary.loc["supervised", "mean"] == pytest.approx(0.81))


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
