"""The analysis plan's code (`ssl_study.report.analysis`) on constructed results of each kind: the verdicts and words
its wording rule allows, Holm's correction within a family, the margins, and the test-image term of the intervals."""

import helpers

MNIST = helpers.CHOICES["mnist"]  #: what MNIST's selection chose, and the commits that froze its plan
import numpy as np
import pandas as pd
import pytest

from ssl_study.report import analysis
from ssl_study.report.analysis import Contrast, Correctness

AMOUNTS = ("10/class", "1%")


def results_with(gains: dict[str, float], seeds: int = 30, spread: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Results of ``supervised`` and ``siamese_recipe`` at the primary amounts whose per-seed paired gain is
    ``gains[amount]`` points plus normal noise of standard deviation ``spread`` points."""
    rng = np.random.default_rng(seed)
    rows = []
    for amount in AMOUNTS:
        for s in range(seeds):
            base = 0.9 + rng.normal(0, 0.01)
            other = base + (gains[amount] + rng.normal(0, spread)) / 100
            rows += [{"method": "supervised", "amount": amount, "seed": s, "test_accuracy": base},
                     {"method": "siamese_recipe", "amount": amount, "seed": s, "test_accuracy": other}]
    return pd.DataFrame(rows)


PRIMARY = [Contrast("primary", "Siamese weights", "siamese_recipe", "supervised", AMOUNTS)]


@pytest.mark.parametrize("gains, expected", [
    ({"10/class": 2.0, "1%": 1.5}, ["better", "better"]),
    ({"10/class": -2.0, "1%": -1.5}, ["worse", "worse"]),
    ({"10/class": 0.0, "1%": 0.0}, ["equivalent", "equivalent"]),  # margins 0.96 and 0.53 points, 30 seeds
    ({"10/class": 2.0, "1%": 0.0}, ["better", "equivalent"]),
])
def test_each_kind_of_result_gets_the_word_the_plan_allows(gains, expected):
    tests = analysis.analyse(results_with(gains, spread=0.3), None, PRIMARY, require_images=False)
    assert tests["verdict"].tolist() == expected
    for (_, row), kind in zip(tests.iterrows(), expected):
        text = analysis.words(row)
        assert {"better": "is better by", "worse": "is worse by", "equivalent": "is equivalent, within ±"}[kind] in text
        assert "30 seeds" in text and "95 % interval [" in text


def test_a_result_the_data_cannot_decide_is_never_called_no_difference():
    noisy = results_with({"10/class": 0.4, "1%": 0.3}, seeds=4, spread=1.5)
    tests = analysis.analyse(noisy, None, PRIMARY, require_images=False)
    assert (tests["verdict"] == "undetected").all()
    for _, row in tests.iterrows():
        text = analysis.words(row)
        assert text.startswith("shows no difference the data can detect with 4 seeds")
        assert f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]" in text


def test_one_seed_is_not_tested():
    row = analysis.analyse(results_with({"10/class": 1.0, "1%": 1.0}, seeds=1), None, PRIMARY,
                           require_images=False).iloc[0]
    assert row["verdict"] == "untested" and "not tested" in analysis.words(row)


def test_holm_corrects_within_a_family_only():
    """Two amounts each with an uncorrected p of about 0.04: one family of two tests keeps neither (Holm doubles the
    smaller p); the same numbers as two families of one test keep both."""
    z = np.random.default_rng(0).normal(size=30)
    z = (z - z.mean()) / z.std(ddof=1)  # per-seed gains of mean 0.39 and standard deviation 1: t = 2.14, p = 0.041
    rows = [{"method": m, "amount": a, "seed": k, "test_accuracy": 0.9 + (0.0039 + 0.01 * z[k] if m != "supervised"
                                                                          else 0)}
            for a in AMOUNTS for k in range(30) for m in ("supervised", "siamese_recipe")]
    data = pd.DataFrame(rows)
    together = analysis.analyse(data, None, PRIMARY, require_images=False)
    apart = analysis.analyse(data, None, [Contrast(f"family {a}", "q", "siamese_recipe", "supervised", (a,))
                                          for a in AMOUNTS], require_images=False)
    assert (together["p_value"] < 0.05).all() and (together["p_value"] > 0.025).all()
    assert (together["verdict"] != "better").all() and (apart["verdict"] == "better").all()


def test_a_pooled_contrast_is_one_test_of_the_per_seed_mean():
    data = results_with({"10/class": 1.0, "1%": 0.0}, seeds=10, spread=0.2)
    row = analysis.analyse(data, None, [Contrast("f", "q", "siamese_recipe", "supervised", AMOUNTS, pooled=True)],
                           require_images=False)
    assert len(row) == 1 and row["amounts"].iloc[0] == 2 and abs(row["gain"].iloc[0] - 0.5) < 0.15
    assert row["margin"].iloc[0] == pytest.approx(0.1 * 5.28)  # the strictest of its amounts' margins


def test_the_margins_are_a_tenth_of_the_exploratory_runs_supervised_errors():
    summary = pd.read_csv(analysis.EXPLORATORY_SUMMARY)
    errors = (100 * (1 - summary[summary["method"] == "supervised"].set_index("amount")["mean"]))
    for amount, error in analysis.EXPLORATORY_ERRORS.items():
        assert error == pytest.approx(errors[amount], abs=0.006)
    assert analysis.margin(["10/class"]) == pytest.approx(0.955) and analysis.margin(["1%"]) == pytest.approx(0.528)


def correctness_study(shared: float, own: float, seeds: int = 10, n_test: int = 4000):
    """Results and correctness bits of two methods whose per-image differences are a share ``shared`` of the test
    images flipped the same way in every seed (what all seeds share) and a share ``own`` flipped at random per seed."""
    rng = np.random.default_rng(1)
    base = np.tile(rng.random(n_test) < 0.9, (seeds, 1))  # the baseline right on the same images in every seed
    other = base.copy()
    common = rng.random(n_test) < shared
    for s in range(seeds):
        flips = common | (rng.random(n_test) < own)
        other[s, flips] = ~other[s, flips]
    rows, bits = [], []
    for s in range(seeds):
        for method, c in (("supervised", base[s]), ("siamese_recipe", other[s])):
            rows.append({"method": method, "amount": "10/class", "seed": s, "test_accuracy": c.mean()})
            bits.append(np.packbits(c))
    table = pd.DataFrame(rows)
    return table, Correctness(table, np.array(bits), n_test)


PLAN_10 = [Contrast("f", "q", "siamese_recipe", "supervised", ("10/class",))]


def test_the_interval_adds_the_part_of_the_test_images_error_that_the_seeds_share():
    """Flips of their own in each seed are in the spread over seeds already: they add (almost) nothing. Flips shared
    by every seed do not show in that spread: they add their sampling variance, about 100^2 x share / images."""
    table, correct = correctness_study(shared=0.0, own=0.04)
    with_images = analysis.analyse(table, correct, PLAN_10).iloc[0]
    seeds_only = analysis.analyse(table, None, PLAN_10, require_images=False).iloc[0]
    assert with_images["images_bootstrapped"] and not seeds_only["images_bootstrapped"]
    assert with_images["gain"] == pytest.approx(seeds_only["gain"])
    assert with_images["image_share"] < 0.2
    table, correct = correctness_study(shared=0.03, own=0.01)
    with_images = analysis.analyse(table, correct, PLAN_10).iloc[0]
    seeds_only = analysis.analyse(table, None, PLAN_10, require_images=False).iloc[0]
    assert with_images["image_share"] > 0.5
    added = with_images["se"] ** 2 - seeds_only["se"] ** 2
    assert added == pytest.approx(1e4 * 0.03 / 4000, rel=0.35)


def test_no_claim_without_the_test_images_term():
    """The plan's intervals include the test images: without the correctness bits a test is reported, not worded."""
    table, correct = correctness_study(shared=0.0, own=0.04)
    table.loc[table["method"] == "siamese_recipe", "test_accuracy"] += 0.05  # a large gain: better, were it tested
    assert analysis.analyse(table, None, PLAN_10)["verdict"].iloc[0] == "untested"
    assert analysis.analyse(table, None, PLAN_10, require_images=False)["verdict"].iloc[0] == "better"


def test_bits_that_do_not_give_the_results_accuracy_are_refused():
    table, correct = correctness_study(shared=0.0, own=0.04)
    table.loc[0, "test_accuracy"] += 0.01
    with pytest.raises(ValueError, match="not of the same fits"):
        analysis.analyse(table, correct, PLAN_10)
    with pytest.raises(ValueError, match="rows of correctness"):
        Correctness(table, np.zeros((3, 500), "uint8"), 4000)


def test_a_planned_test_without_data_stays_in_its_family():
    """A missing test is not dropped: it is reported untested and counted by Holm's correction as p = 1."""
    data = results_with({"10/class": 2.0, "1%": 1.5}, spread=0.3)
    data = data[data["amount"] != "1%"]
    tests = analysis.analyse(data, None, PRIMARY, require_images=False).set_index("amount")
    assert tests.loc["1%", "verdict"] == "untested" and tests.loc["10/class", "tests_in_family"] == 2
    assert tests.loc["10/class", "p_holm"] == pytest.approx(min(1, 2 * tests.loc["10/class", "p_value"]))


def test_a_test_that_cannot_be_worded_counts_as_p_1_in_its_family():
    """A test without the test images' term keeps its seeds-only p in the table, but Holm's correction of the others
    counts it as p = 1, so that it cannot loosen them."""
    table, correct = correctness_study(shared=0.0, own=0.04)
    table.loc[table["method"] == "siamese_recipe", "test_accuracy"] += 0.05
    plan = [Contrast("f", "a", "siamese_recipe", "supervised", ("10/class",)),
            Contrast("f", "b", "siamese_recipe", "supervised", ("10/class",))]
    tests = analysis.analyse(table, Correctness(table, None, 4000), plan)  # no bits: neither test has the term
    assert (tests["verdict"] == "untested").all() and (tests["p_holm"] == 1.0).all()
    assert (tests["p_value"] < 1e-6).all()


def test_a_test_on_fewer_seed_pairs_than_planned_is_not_worded():
    data = results_with({"10/class": 2.0, "1%": 1.5}, spread=0.3)
    planned = {(m, a): frozenset(range(30)) for m in ("supervised", "siamese_recipe") for a in AMOUNTS}
    tests = analysis.analyse(data, None, PRIMARY, require_images=False, planned=planned)
    assert (tests["verdict"] == "better").all() and (tests["planned_pairs"] == 30).all()
    short = analysis.analyse(data[data["seed"] < 25], None, PRIMARY, require_images=False, planned=planned)
    assert (short["verdict"] == "untested").all()
    assert "on 25 seeds of 30 planned (not tested)" in analysis.words(short.iloc[0])


def test_a_difference_inside_the_margin_is_a_difference_and_says_so():
    data = results_with({"10/class": 0.3, "1%": 0.3}, spread=0.05)  # certain, and well inside 0.96 and 0.53
    tests = analysis.analyse(data, None, PRIMARY, require_images=False)
    assert (tests["verdict"] == "better").all() and (tests["p_equivalence_holm"] < 0.05).all()
    assert "inside the margin of equivalence of ±0.96 points" in analysis.words(tests.iloc[0])


def test_the_plan_has_the_families_of_analysis_plan_md():
    plan = analysis.contrasts(pretexts=["siamese", "contrastive", "rotation"], semi="fixmatch")
    families = pd.Series([c.family for c in plan]).value_counts().to_dict()
    assert families == {"primary": 1, "2 x 2": 3, "assignment": 1, "other pretexts": 2, "other pretexts' weights": 2,
                        "semi-supervised": 1, "descriptive": 4}
    assignment = next(c for c in plan if c.family == "assignment")
    assert assignment.pooled and len(assignment.amounts) == 10
    tests_per_family = {f: sum(1 if c.pooled else len(c.amounts) for c in plan if c.family == f) for f in families}
    assert tests_per_family == {"primary": 2, "2 x 2": 6, "assignment": 1, "other pretexts": 2,
                                "other pretexts' weights": 2, "semi-supervised": 1, "descriptive": 16}
    text = helpers.ROOT / "ANALYSIS_PLAN.md"
    plan_text = open(text).read()
    for family in families:
        assert family.lower() in plan_text.lower()


def test_the_plan_has_not_changed_since_the_commit_that_froze_it():
    """Once `MNIST.plan_commit` names the commit that froze ANALYSIS_PLAN.md, the plan may not change, and the
    committed results cite that commit."""
    import json
    import subprocess

    import helpers

    if not MNIST.plan_commit:
        assert "**Status: draft.**" in (helpers.ROOT / "ANALYSIS_PLAN.md").read_text()
        return
    git = lambda *args: subprocess.run(["git", *args], cwd=helpers.ROOT, capture_output=True, text=True)  # noqa: E731
    if git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout")
    assert git("merge-base", "--is-ancestor", MNIST.plan_commit, "HEAD").returncode == 0
    assert git("diff", "--quiet", MNIST.plan_commit, "--", "ANALYSIS_PLAN.md").returncode == 0  # the working tree
    assert "**Status: frozen" in (helpers.ROOT / "ANALYSIS_PLAN.md").read_text()
    meta = json.loads(helpers.meta_path(helpers.ARTEFACTS_DIR / "full" / "gains.csv").read_text())
    assert meta.get("plan_commit") == MNIST.plan_commit


def test_every_pretext_of_the_full_run_gets_the_plans_budget_of_encoder_passes():
    """ANALYSIS_PLAN.md, section 3: 64 encoder passes per unlabelled image for every task (epochs x views)."""
    import helpers

    assert helpers.PROFILES["full"].pretext_epochs is None  # each task's own epochs
    for name, cls in helpers.PRETEXTS.items():
        if cls.__module__.startswith("ssl_study."):
            assert cls.Settings().epochs * cls.views == 64, name


def test_the_semi_supervised_method_chosen_on_validation_data_has_the_planned_five_seeds():
    import helpers

    full = helpers.PROFILES["full"]
    chosen = full.semi_plan(MNIST.semi_method, 28_000)
    assert [start for start, _, _ in chosen] == [None] and len(chosen[0][2]) >= 5
    others = [m for m in helpers.SEMI_METHODS if m != MNIST.semi_method]
    assert all(len(seeds) == 3 for m in others for _, _, seeds in full.semi_plan(m, 28_000))


def test_the_addendum_has_not_changed_since_the_commit_that_froze_it():
    """ANALYSIS_PLAN_ADDENDUM.md (issue 29) as the plan: a draft until `MNIST.addendum_commit` names the commit that
    froze it; from then on unchanged, the commit an ancestor of every results commit, and the committed tests cite
    it."""
    import json
    import subprocess

    text = (helpers.ROOT / "ANALYSIS_PLAN_ADDENDUM.md").read_text()
    if not MNIST.addendum_commit:
        assert "**Status: draft.**" in text
        return
    git = lambda *args: subprocess.run(["git", *args], cwd=helpers.ROOT, capture_output=True, text=True)  # noqa: E731
    if git("rev-parse", "--git-dir").returncode:
        pytest.skip("not a git checkout")
    assert git("merge-base", "--is-ancestor", MNIST.addendum_commit, "HEAD").returncode == 0
    assert git("diff", "--quiet", MNIST.addendum_commit, "--", "ANALYSIS_PLAN_ADDENDUM.md").returncode == 0
    assert "**Status: frozen" in text
    meta = json.loads(helpers.meta_path(helpers.ARTEFACTS_DIR / "full" / "gains.csv").read_text())
    assert meta.get("addendum_commit") == MNIST.addendum_commit
