"""The addendum to the plan (ANALYSIS_PLAN_ADDENDUM.md, issue 29): each start with its settings tuned where labels are
scarce (the ``tuned`` kind of fit), the weight-scale control, the addendum's families, its variance mend, the curve's
crossover and the sentences filled from them."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import helpers
from ssl_study.config import AUGMENTS, TUNED, TUNED_AT_ONE_PERCENT
from ssl_study.report import analysis, conclusion, curve, front
from ssl_study.report.analysis import Contrast

H = helpers.HEADLINE_PRETEXT
SCRATCH, SIAMESE, CONTROL = analysis.TUNED_SCRATCH, analysis.TUNED_SIAMESE, analysis.TUNED_CONTROL


def test_each_start_gets_its_own_tuned_settings_and_budget():
    """Scratch (notebook 3's untrained encoder: the CNN's own initialisation) and a pre-trained start get the settings
    tuned for them at the nearer primary amount, on a log scale; the control shares the Siamese start's; the budget
    scales the profile's images and epoch cap."""
    profile = helpers.PROFILES["full"]
    fits = {(f.pretext, f.n_labels): f for name in ("random", H, helpers.SCALE_CONTROL)
            for f in helpers.plan_fits("tuned", profile, 28_000, "d", "s", pretext=name,
                                       encoders={s: "e" for s in range(30)})}
    for (start, n), fit in fits.items():
        tuned = TUNED[("scratch" if start == "random" else "pretrained",
                       "10/class" if n < TUNED_AT_ONE_PERCENT else "1%")]
        assert fit.recipe.learning_rate == fit.recipe.finetune_learning_rate == tuned.learning_rate
        assert fit.recipe.augment == AUGMENTS[tuned.augment]
        scaled = dataclasses.replace(profile, min_fit_images=tuned.budget * profile.min_fit_images,
                                     max_epochs=tuned.budget * profile.max_epochs)
        budget = helpers.training_budget(scaled, 28_000, fit.recipe)
        assert fit.epochs == int(budget.set_index("labels").loc[n, "epochs"])
    assert {n for _, n in fits} == {100, 200, 280, 500, 1000, 2000, 2800}  # the curve
    assert sorted(s for s in helpers.PROFILES["full"].seeds_of(helpers.SCALE_CONTROL, "tuned", "1%")) == list(range(30))
    assert not helpers.PROFILES["full"].seeds_of(helpers.SCALE_CONTROL, "tuned", "20/class")  # the control: primary
    assert not helpers.PROFILES["full"].seeds_of(helpers.SCALE_CONTROL, "knn", "10/class")  # not an "any" encoder


def test_the_tuned_arms_read_as_the_addendum_names_them():
    assert helpers.method_label(SCRATCH) == "trained from scratch, tuned recipe"
    assert helpers.method_label(SIAMESE) == "Siamese, tuned recipe"
    assert helpers.method_label(CONTROL) == "weight-scale control, tuned recipe"
    assert helpers.method_style(SCRATCH)["color"] == helpers.style("none", "supervised")["color"]  # drawn as scratch


def test_the_first_runs_design_is_unchanged_by_the_addendum():
    """The addendum adds arms; every fit of the first confirmatory run keeps its plan (the frozen-feature arm stays at
    the first run's amounts, not the curve's)."""
    design = helpers.planned_fits(helpers.PROFILES["full"], 28_000)
    first = design[design["use"] != "tuned"]
    assert not first["amount"].isin(["20/class", "50/class", "100/class", "200/class"]).any()
    tuned = design[design["use"] == "tuned"].groupby(["method", "amount"])["seed"].count().unstack()
    assert tuned.loc[SIAMESE, "10/class"] == tuned.loc[SCRATCH, "1%"] == tuned.loc[CONTROL, "1%"] == 30
    assert tuned.loc[SIAMESE, "50/class"] == tuned.loc[SCRATCH, "10%"] == 10
    assert helpers.PROFILES["full"].sweep_seeds == (0, 1, 2, 3, 4)


def shared_flips(seeds: int, n_test: int = 2000) -> np.ndarray:
    """Per-image differences that are the same in every seed: everything the seeds share, nothing of their own."""
    rng = np.random.default_rng(3)
    row = rng.choice([-1, 0, 1], size=n_test, p=[0.05, 0.85, 0.10]).astype("float64")
    return np.tile(row, (seeds, 1))


@pytest.mark.parametrize("seeds", [3, 30])
def test_the_mended_variance_adds_the_whole_between_seed_covariance(seeds):
    """Where the seeds share every flipped image, the covariance between seeds *is* the test images' variance of one
    seed's gain; the first run's term is (n - 1) / n of it (visible at 3 seeds), the addendum's all of it."""
    per_image = shared_flips(seeds)
    per_seed = 100 * per_image.mean(axis=1)
    first = analysis.gain_test(per_seed, per_image, 0.5)
    mended = analysis.gain_test(per_seed, per_image, 0.5, full_covariance=True)
    weights = analysis._image_weights(per_image.shape[1])
    one_seed = (100 * (weights @ per_image[0]) / weights.sum(axis=1)).var(ddof=1)
    assert mended["se"] ** 2 == pytest.approx(one_seed, rel=1e-6)  # no spread over seeds: all of it is shared
    assert first["se"] ** 2 == pytest.approx(one_seed * (seeds - 1) / seeds, rel=1e-6)


def test_the_addendums_families_use_the_mended_variance_and_keep_their_own_correction():
    plan = analysis.contrasts(("10/class", "1%"), [H], tuned_amounts=("10/class", "20/class", "1%"))
    mine = [c for c in plan if c.other in (SIAMESE, CONTROL)]
    assert {c.family for c in mine} == {"addendum primary", "weight scale", "descriptive"}
    assert all(c.full_covariance for c in mine) and not any(c.full_covariance for c in plan if c not in mine)
    counts = {f: sum(len(c.amounts) for c in mine if c.family == f) for f in ("addendum primary", "weight scale")}
    assert counts == {"addendum primary": 2, "weight scale": 4}
    assert not [c for c in analysis.contrasts(("10/class", "1%"), [H]) if c.other == SIAMESE]  # none without the arms


CURVE = ("10/class", "20/class", "1%", "50/class")
LABELS = {"10/class": 100, "20/class": 200, "1%": 280, "50/class": 500}


def curve_results(gains: dict[str, float], seeds: int = 10, spread: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for amount, gain in gains.items():
        noise = rng.standard_normal(seeds)
        for seed in range(seeds):
            base = 0.9 + 0.01 * rng.standard_normal()
            for method, acc in ((SCRATCH, base), (SIAMESE, base + (gain + spread * noise[seed]) / 100)):
                rows.append({"method": method, "amount": amount, "n_labels": LABELS[amount], "seed": seed,
                             "test_accuracy": acc})
    return pd.DataFrame(rows)


def test_the_crossover_is_where_the_gains_interval_first_includes_zero_with_a_bootstrap_range():
    contrast = Contrast("descriptive", "q", SIAMESE, SCRATCH, CURVE, full_covariance=True)
    found = curve.crossover(curve_results({"10/class": 2.0, "20/class": 1.2, "1%": 0.0, "50/class": 0.0}), None,
                            contrast, list(CURVE))
    assert found["amount"] == "1%" and found["seeds"] == 10
    assert CURVE.index(found["low"]) <= CURVE.index("1%") <= CURVE.index(found["high"])
    assert sum(found["shares"].values()) == pytest.approx(1.0)
    beyond = curve.crossover(curve_results({a: 3.0 for a in CURVE}), None, contrast, list(CURVE))
    assert beyond["amount"] is None and beyond["shares"]["beyond"] > 0.9
    results = curve_results({"10/class": 2.0, "20/class": 1.2, "1%": 0.0, "50/class": 0.0})
    tests = analysis.analyse(results, None, [contrast], require_images=False)
    text = front._more_labels(tests, found)  # the first page's clause
    assert "the gain's 95 % interval is above zero at 100 and 200 labels, and first includes zero at 280 labels" in text
    said = front._more_labels(analysis.analyse(curve_results({a: 3.0 for a in CURVE}), None, [contrast],
                                               require_images=False), beyond)
    assert "stays above zero at every amount." in said


def test_the_crossover_is_read_from_each_amounts_own_interval_with_all_its_seeds():
    """The point crossover uses each amount's test as the curve's figure shows it (every seed of that amount), even
    where an amount has more seeds than the curve's common ones (the primary amounts: 30 against 10)."""
    results = curve_results({"10/class": 0.5, "20/class": 0.0, "1%": 0.0, "50/class": 0.0}, seeds=30, spread=1.0)
    results = results[(results["amount"] == "10/class") | (results["seed"] < 10)]
    contrast = Contrast("descriptive", "q", SIAMESE, SCRATCH, CURVE, full_covariance=True)
    found = curve.crossover(results, None, contrast, list(CURVE))
    own = analysis.analyse(results, None, [contrast], require_images=False).set_index("amount")
    first = next((a for a in CURVE if own.loc[a, "ci_low"] <= 0 <= own.loc[a, "ci_high"]), None)
    assert found["amount"] == first and found["seeds"] == 10 and own.loc["10/class", "pairs"] == 30


def test_a_start_tuned_at_the_largest_budget_tried_is_said_so():
    said = conclusion.budget_note()
    top = [k for k, t in TUNED.items() if t.budget >= helpers.CHOICES["mnist"].tuned_budget_top]
    assert bool(said) == bool(top)
    if any(start == "pretrained" for start, _ in top):
        assert said.startswith("The Siamese start took the largest budget the selection tried (8x")
        assert "still rising" in said


def test_the_addendums_sentences_follow_the_wording_rule_and_set_the_first_run_beside_it():
    rng = np.random.default_rng(2)
    rows = []
    for amount, n in (("10/class", 100), ("1%", 280)):
        for seed in range(30):
            base = 0.9 + 0.01 * rng.standard_normal()
            accs = {SCRATCH: base, SIAMESE: base + 0.015 + 0.004 * rng.standard_normal(),
                    CONTROL: base + 0.004 * rng.standard_normal(), "supervised": base - 0.01,
                    f"{H}_recipe": base - 0.01 + 0.004 * rng.standard_normal()}
            rows += [{"method": m, "amount": amount, "n_labels": n, "seed": seed, "test_accuracy": a}
                     for m, a in accs.items()]
    results = pd.DataFrame(rows)
    plan = analysis.contrasts(("10/class", "1%"), [H], tuned_amounts=("10/class", "1%"))
    tests = analysis.analyse(results, None, plan, require_images=False)
    said = " ".join(conclusion.weight_scale_sentences(tests))
    assert said.count("the CNN from the Siamese encoder is better than the weight-scale control") == 2
    assert "training from scratch by 1." not in said  # the addendum's own verdict: the first page's, said once
    summary = helpers.summary_table(results.assign(seconds=1.0))
    said = front.headline(tests, summary)  # the answer from the addendum's tuned arms
    assert said[0].startswith("Yes, where labels are scarce: with 10 labels per class (100 images), each with its own "
                              "settings tuned for so few labels, a CNN whose encoder")
    assert said[-1].startswith("The first run, which trained both with one recipe, found at 10 labels per class ")
    assert "points: equivalent, within ±0.96, and at 1 % of the labels " in said[-1]
    page = front.front_page(tests, summary, "abc", None, "abc1234")
    assert "its addendum (frozen in commit abc1234 before its run)" in page
    shown = [words for words, _ in front.comparison_rows(tests)]
    assert shown[:2] == ["Siamese start vs from scratch, each tuned for few labels"] * 2
    assert "Siamese start vs untrained weights at its scale, both tuned" in shown


def test_the_addendums_chosen_settings_are_the_selections_winners_and_the_configs():
    """The table of section 2 of ANALYSIS_PLAN_ADDENDUM.md, `ssl_study.config.TUNED` and the winners of the merged
    selection (``experiments/results/scarce.json``) say the same, to the reported digit."""
    import json
    import re

    from experiments.selection_scarce import winners

    runs = pd.DataFrame(json.loads((helpers.ROOT / "experiments" / "results" / "scarce.json").read_text())["runs"])
    text = (helpers.ROOT / "ANALYSIS_PLAN_ADDENDUM.md").read_text()
    row_pattern = r"^\| (scratch|Siamese) \| (10/class|1 %) \| (\d+)x \| (\w+) \| ([\d.e-]+) \| ([\d.]+) % \|"
    rows = re.findall(row_pattern, text, re.M)
    assert len(rows) == 4
    best = winners(runs).set_index(["arm", "labels"])
    for arm, amount, budget, augment, rate, accuracy in rows:
        start = "scratch" if arm == "scratch" else "pretrained"
        key = "10/class" if amount == "10/class" else "1%"
        row = best.loc[(arm.lower(), 100 if key == "10/class" else 280)]
        assert (int(budget), augment, float(rate)) == (row["budget"], row["augment"], row["learning_rate"])
        assert TUNED[(start, key)] == helpers.CHOICES["mnist"].tuned[(start, key)]
        assert (TUNED[(start, key)].budget, TUNED[(start, key)].augment, TUNED[(start, key)].learning_rate) == (
            int(budget), augment, float(rate))
        assert f"{100 * row['accuracy']:.2f}" == accuracy


def test_the_curve_is_drawn_on_one_log_axis_named_by_its_amounts():
    """100 to 2,800 labels would split into the low-label panel and a panel titled "the assignment's amounts" that
    holds none of them; the curve asks for one panel."""
    import matplotlib

    matplotlib.use("Agg")
    from ssl_study.report import plots

    summary = helpers.summary_table(curve_results({a: 1.0 for a in CURVE}, seeds=3).assign(seconds=1.0))
    fig = plots.plot_accuracy_vs_labels(summary, "curve", one_panel=True)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 1 and shown[0].get_xscale() == "log"
    assert "assignment" not in " ".join(ax.get_title() for ax in fig.axes)
