"""The 40/40/20 split and the nested label subsets."""

import numpy as np
import pytest

import helpers

LABELS = np.repeat(np.arange(10), 700)  # 7,000 balanced labels
rng = np.random.default_rng(1)
UNEVEN = rng.choice(10, 5_000, p=np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum())


def test_sizes_disjoint_and_complete():
    split = helpers.make_split(LABELS, seed=0)
    assert [len(split[k]) for k in helpers.SPLIT_NAMES] == [2800, 2800, 1400]
    together = np.concatenate([split[k] for k in helpers.SPLIT_NAMES])
    assert np.array_equal(np.sort(together), np.arange(len(LABELS)))


def test_full_mnist_sizes():
    labels = np.resize(np.arange(10), 70_000)
    split = helpers.make_split(labels, seed=42)
    assert [len(split[k]) for k in helpers.SPLIT_NAMES] == [28_000, 28_000, 14_000]


@pytest.mark.parametrize("labels", [LABELS, UNEVEN])
def test_split_is_stratified(labels):
    split = helpers.make_split(labels, seed=3)
    overall = np.bincount(labels, minlength=10) / len(labels)
    for name in helpers.SPLIT_NAMES:
        share = np.bincount(labels[split[name]], minlength=10) / len(split[name])
        assert np.abs(share - overall).max() < 2 / len(split[name]) + 1e-9


def test_split_is_deterministic_and_seed_dependent():
    a, b, c = (helpers.make_split(LABELS, seed=s) for s in (5, 5, 6))
    assert all(np.array_equal(a[k], b[k]) for k in helpers.SPLIT_NAMES)
    assert not np.array_equal(a["test"], c["test"])
    assert helpers.split_fingerprint(a) == helpers.split_fingerprint(b) != helpers.split_fingerprint(c)


def test_bad_proportions():
    with pytest.raises(ValueError):
        helpers.make_split(LABELS, seed=0, proportions=(0.5, 0.5, 0.2))


@pytest.mark.parametrize("labels", [LABELS, UNEVEN])
def test_subsets_are_nested_stratified_and_sized(labels):
    sizes = [int(round(f * len(labels))) for f in (0.01, 0.1, 0.3, 0.5, 1.0)]
    subsets = helpers.nested_subsets(labels, sizes, seed=0)
    overall = np.bincount(labels, minlength=10) / len(labels)
    for size, small, large in zip(sizes, subsets, subsets[1:] + [subsets[-1]]):
        assert len(small) == size == len(np.unique(small))  # without replacement
        assert np.isin(small, large).all()  # nested
        counts = np.bincount(labels[small], minlength=10)
        assert np.abs(counts - overall * size).max() <= 1.5  # each class within about one image of its share


def test_subsets_depend_on_the_seed_only():
    a, b, c = (helpers.nested_subsets(LABELS, [700], seed=s)[0] for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_train_val_split_is_stratified_and_disjoint():
    index = np.arange(1000)
    labels = np.repeat(np.arange(10), 100)
    train, val = helpers.train_val_split(index, labels, 0.1, seed=0)
    assert len(val) == 100 and not np.intersect1d(train, val).size
    assert np.bincount(labels[val]).tolist() == [10] * 10


@pytest.mark.parametrize("name", list(helpers.PROFILES))
def test_every_amount_of_a_profile_is_nested_and_stratified(name):
    """The profile's amounts on a labelled set with the study's class counts, as notebooks 2 and 5 draw them."""
    labels = np.repeat(np.arange(10), [2761, 3151, 2796, 2856, 2730, 2525, 2751, 2917, 2730, 2783])
    amounts = helpers.PROFILES[name].amounts(len(labels))
    assert [n for _, n in amounts] == sorted(n for _, n in amounts)
    for seed in helpers.PROFILES[name].seeds:
        subsets = helpers.nested_subsets(labels, [n for _, n in amounts], seed)
        for (amount, n), small, large in zip(amounts, subsets, subsets[1:] + subsets[-1:]):
            assert len(small) == n and np.isin(small, large).all()
            counts = np.bincount(labels[small], minlength=10)
            assert np.abs(counts - n * np.bincount(labels) / len(labels)).max() <= 1.5, amount
            if amount == "10/class":
                assert counts.min() >= 9 and counts.max() <= 12


def test_profile_amounts():
    full = helpers.PROFILES["full"].amounts(28_000)
    assert full[:7] == [("10/class", 100), ("20/class", 200), ("1%", 280), ("50/class", 500), ("100/class", 1000),
                        ("200/class", 2000), ("10%", 2800)]  # the primary amounts and the addendum's curve between
    assert full[-1] == ("100%", 28_000) and len(full) == 16
    assert [a for a, _ in full[6:]] == list(helpers.ASSIGNMENT_AMOUNTS)  # the assignment's ten fractions
    assert helpers.PROFILES["full"].amounts_of("tuned", 28_000) == tuple(a for a, _ in full[:7])


@pytest.mark.parametrize("name", sorted(helpers.PROFILES))
def test_training_budget_gives_every_fit_enough_passes_and_images(name):
    profile, recipe = helpers.PROFILES[name], helpers.Recipe()
    budget = helpers.training_budget(profile, 28_000, recipe)
    assert budget["labels"].is_monotonic_increasing  # every label of a subset is trained on: nothing held out
    per_epoch = budget["repeats"] * budget["labels"]
    assert (per_epoch >= recipe.min_epoch_images).all()
    assert ((budget["repeats"] == 1) | (budget["labels"] * (budget["repeats"] - 1) < recipe.min_epoch_images)).all()
    passes = budget["repeats"] * budget["epochs"]
    assert (passes >= profile.epochs_at_full).all()
    capped = budget["epochs"] >= profile.max_epochs
    assert (capped | (budget["images seen"] >= profile.min_fit_images)).all()
    assert (budget["epochs"] <= max(profile.max_epochs, profile.epochs_at_full)).all()


def test_a_recipe_of_more_passes_than_the_cap_makes_them_on_large_subsets_and_leaves_small_ones_as_they_were():
    """``max_epochs`` caps the floor of images, not the passes (issue 30: Fashion-MNIST's recipe may be chosen at more
    passes than MNIST's cap of 40). Where the passes are at most the cap -- every profile of MNIST -- each fit keeps
    the epochs the committed run gave it (the fit cache's keys hold them)."""
    from dataclasses import replace

    import numpy as np

    def capped_everything(n, profile, recipe):  # the reading before: the cap on the passes too
        repeats = int(np.ceil(recipe.min_epoch_images / n))
        epochs = max(int(np.ceil(profile.epochs_at_full / repeats)),
                     int(np.ceil(profile.min_fit_images / (repeats * n))))
        return repeats, int(min(profile.max_epochs, epochs))

    recipe = helpers.Recipe()
    for profile in helpers.PROFILES.values():
        for _, n in profile.amounts(28_000):
            assert helpers.epochs_for(n, profile, recipe) == capped_everything(n, profile, recipe)
    more = replace(helpers.PROFILES["full"], epochs_at_full=80)
    assert helpers.epochs_for(28_000, more, recipe) == (1, 80) and helpers.epochs_for(2_800, more, recipe) == (1, 80)
    assert helpers.epochs_for(100, more, recipe) == helpers.epochs_for(100, helpers.PROFILES["full"], recipe)


def test_the_design_says_which_encoder_is_trained_how_where_and_under_which_seeds():
    from dataclasses import replace

    Arm = helpers.Arm
    profile = replace(helpers.PROFILES["quick"], fractions=(0.5,), per_class=(2,), seeds=(0,), arms=(
        Arm("none", "supervised", None, (0,)), Arm("none", "supervised", ("2/class",), (0, 1, 2)),
        Arm(helpers.HEADLINE_PRETEXT, "recipe", ("2/class",), (0, 1, 2)), Arm("random", "finetune", ("50%",), (0,)),
        Arm("other", "finetune", ("2/class",), (0,)), Arm("any", "frozen", None, (0,))))
    plan = lambda kind, pretext=None: helpers.plan_fits(kind, profile, 400, "d", "s", pretext=pretext,
                                                        encoders={s: "w" for s in range(3)})
    seeds = lambda fits: {a: sorted(f.seed for f in fits if f.amount == a) for a in ("2/class", "50%")}
    assert seeds(plan("supervised")) == {"2/class": [0, 1, 2], "50%": [0]}
    assert seeds(plan("recipe", helpers.HEADLINE_PRETEXT)) == {"2/class": [0, 1, 2], "50%": []}
    assert seeds(plan("probe", "random")) == seeds(plan("finetune", "random")) == {"2/class": [], "50%": [0]}
    other = next(p for p in helpers.PRETEXTS if p not in (helpers.HEADLINE_PRETEXT, helpers.choices().best_pretext))
    assert seeds(plan("finetune", other)) == {"2/class": [0], "50%": []}  # an "other" pretext
    assert seeds(plan("knn", "pixels")) == {"2/class": [0], "50%": [0]}
    assert profile.all_seeds == (0, 1, 2)
    assert helpers.pretext_seeds(profile, helpers.HEADLINE_PRETEXT) == (0, 1, 2)
    assert helpers.pretext_seeds(profile, other) == (0,) and profile.encoder_seeds("random") == (0, 1, 2)
    table = helpers.planned_fits(profile, 400)
    assert len(table[table["method"] == f"{helpers.HEADLINE_PRETEXT}_recipe"]) == 3
    assert not len(table[table["method"] == "random_recipe"])  # the untrained encoder under the recipe: supervised

def test_ci_never_scores_a_model_on_the_confirmatory_test_set():
    """The quick profile (CI's) has a split of its own, and notebook 1 makes the split of its profile's seed."""
    import nbformat

    assert helpers.PROFILES["full"].split_seed == helpers.CONFIRMATORY_SPLIT_SEED
    assert helpers.PROFILES["quick"].split_seed not in (helpers.CONFIRMATORY_SPLIT_SEED, helpers.EXPLORATORY_SPLIT_SEED)
    notebook = nbformat.read(helpers.NOTEBOOKS_DIR / helpers.NOTEBOOK_SPLIT, as_version=4)
    assert any("SEED = helpers.PROFILES[PROFILE].split_seed" in cell.source for cell in notebook.cells)
