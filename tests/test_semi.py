"""The unlabelled set as the variable: notebook 4's sweep pre-trains on nested parts of it with as many images seen,
and notebook 5's semi-supervised methods never read its labels while training and mask unsure images out of the
consistency loss."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_pipeline import PROFILE, Tiny, world  # noqa: F401  (the module's fixture, reused)

import helpers
import ssl_study.compute.training
import ssl_study.study.workers
from ssl_study.compute import semi
from ssl_study.compute.semi import pseudolabel
from ssl_study.study.inputs import Inputs


def test_the_consistency_loss_counts_only_the_images_the_weak_view_is_sure_of():
    keras = helpers.import_keras()
    weak = np.array([[0.97, 0.01, 0.02], [0.50, 0.30, 0.20], [0.05, 0.94, 0.01], [0.02, 0.01, 0.97]], "float32")
    strong = np.array([[0.60, 0.20, 0.20], [0.10, 0.10, 0.80], [0.30, 0.40, 0.30], [0.25, 0.25, 0.50]], "float32")
    numpy = keras.ops.convert_to_numpy
    loss, mask = semi.consistency_loss(weak, strong, threshold=0.95)
    assert np.array_equal(numpy(mask), [1, 0, 0, 1])
    expected = -(np.log(0.60) + np.log(0.50)) / 4  # the mean over all four images, two of them masked out
    assert numpy(loss) == pytest.approx(expected, rel=1e-5)
    changed = strong.copy()
    changed[[1, 2]] = [[0.98, 0.01, 0.01], [0.01, 0.01, 0.98]]  # whatever the masked images predict ...
    assert numpy(semi.consistency_loss(weak, changed, 0.95)[0]) == pytest.approx(expected, rel=1e-5)  # ... no change
    assert numpy(semi.consistency_loss(weak, strong, 0.999)[0]) == 0.0  # nobody sure enough: no unlabelled loss


def test_the_sweep_pre_trains_on_nested_parts_of_the_unlabelled_set_seeing_as_many_images(world):  # noqa: F811
    inputs = world["inputs"]
    profile = replace(PROFILE, sweep_pretexts=("tiny",), unlabelled_fractions=(0.25, 0.5, 1.0), sweep_seeds=(0, 1))
    inputs = Inputs(profile, inputs.mnist, inputs.split)
    runs = helpers.plan_sweep_runs({"tiny": Tiny()}, inputs)
    assert len(runs) == len(profile.sweep_seeds) * 3
    whole = {r.seed: r for r in helpers.plan_pretext_runs({"tiny": Tiny()}, inputs)}
    unlabelled = inputs.split["unlabelled"]
    for seed in profile.sweep_seeds:
        mine = sorted((r for r in runs if r.seed == seed), key=lambda r: r.images or len(unlabelled))
        assert mine[-1] == whole[seed] and not mine[-1].part  # the notebook's own run
        pools = [np.concatenate(helpers.pretext_indices(unlabelled, r.images, r.settings.val_fraction, seed))
                 for r in mine]
        for small, large in zip(pools, pools[1:]):
            assert len(small) < len(large) and np.isin(small, large).all()  # nested
        assert np.isin(pools[-1], unlabelled).all()
        seen = [len(helpers.pretext_indices(unlabelled, r.images, r.settings.val_fraction, seed)[0])
                * getattr(r, "repeats", 1) for r in mine]
        assert max(seen) / min(seen) < 1.2  # as many images seen, up to the rounding of the repeats
    assert len({helpers.sweep_stage(r) for r in runs}) == 3


def _scrambled(mnist, unlabelled: np.ndarray, digit: int):
    """The course's images with every unlabelled image labelled ``digit`` (everything else unchanged)."""
    labels = mnist.labels.copy()
    labels[unlabelled] = digit
    return replace(mnist, labels=labels)


@pytest.mark.parametrize("kind", list(helpers.SEMI_METHODS))
def test_a_semi_supervised_run_never_reads_the_unlabelled_labels(world, monkeypatch, kind):  # noqa: F811
    """Scrambling the unlabelled images' labels gives the same model; only the pseudo-label report changes."""
    inputs = world["inputs"]
    settings = {"pseudolabel": helpers.PseudoLabelSettings(rounds=2, student_images=64, threshold=0.2),
                "fixmatch": helpers.FixMatchSettings(steps=6, labelled_batch=8, unlabelled_ratio=2, reports=2,
                                                     threshold=0.2)}[kind]
    run = helpers.SemiRun(kind, "2/class", 20, 0, 1, 32, helpers.Recipe(), settings, inputs.data_fp, inputs.split_fp)
    paths = {"split": str(inputs.split_path), "encoders": {}}
    truth = ssl_study.study.workers.load_mnist(verbose=False)
    real_evaluate = ssl_study.study.workers.evaluate

    def run_with(mnist):
        models = []
        monkeypatch.setattr(ssl_study.study.workers, "load_mnist", lambda verbose=False: mnist)
        monkeypatch.setattr(ssl_study.study.workers, "evaluate",
                            lambda model, x, y: (models.append(model.get_weights()), real_evaluate(model, x, y))[1])
        ssl_study.study.workers._inputs.cache_clear()
        try:
            return {**ssl_study.study.workers._run_semi(run, paths), "weights": models[0]}
        finally:
            ssl_study.study.workers._inputs.cache_clear()

    honest = run_with(truth)
    scrambled = run_with(_scrambled(truth, inputs.split["unlabelled"], 3))
    assert all(np.array_equal(a, b) for a, b in zip(honest["weights"], scrambled["weights"]))
    assert honest["row"]["test_accuracy"] == scrambled["row"]["test_accuracy"]
    assert honest["history"]["coverage"] == scrambled["history"]["coverage"]
    assert honest["history"]["all_accuracy"] != scrambled["history"]["all_accuracy"]  # the report reads them
    assert honest["row"]["method"] == kind and len(honest["history"]["round"]) == (
        settings.rounds + 1 if kind == "pseudolabel" else settings.reports)


def test_a_student_trains_on_the_labels_and_the_sure_pseudo_labels_only(monkeypatch):
    """Pseudo-labelling: each student's images are the labels (repeated to their share) and exactly the unlabelled
    images whose teacher's top probability reaches the threshold, with the teacher's classes."""
    rng = np.random.default_rng(0)
    x_lab, y_lab = rng.random((20, 28, 28, 1), dtype="float32"), np.repeat(np.arange(10), 2).astype("int32")
    x_unl = rng.random((60, 28, 28, 1), dtype="float32")
    fits = []
    real_fit = ssl_study.compute.training.fit_classifier

    def spy(model, x, y, *args, **kwargs):
        fits.append((x.copy(), y.copy()))
        return real_fit(model, x, y, 1, 16, 0, 1e-3)

    monkeypatch.setattr(ssl_study.compute.training, "fit_classifier", spy)
    teachers = []
    real_predict = pseudolabel.predict_pseudo_labels

    def predict(model, x):
        teachers.append(real_predict(model, x))
        return teachers[-1]

    monkeypatch.setattr(pseudolabel, "predict_pseudo_labels", predict)
    settings = helpers.PseudoLabelSettings(rounds=2, student_images=64, threshold=0.11, label_share=0.5)
    helpers.get_semi("pseudolabel", settings).train(x_lab, y_lab, x_unl, 0, 1, 16)
    assert len(fits) == 3  # the teacher, two students
    assert np.array_equal(fits[0][0], x_lab) and np.array_equal(fits[0][1], y_lab)
    for (x, y), labels in zip(fits[1:], teachers):
        keep = labels["confidence"] >= settings.threshold
        repeats = max(1, int(np.ceil(settings.label_share * keep.sum() / len(x_lab))))
        assert np.array_equal(x, np.concatenate([np.concatenate([x_lab] * repeats), x_unl[keep]]))
        assert np.array_equal(y, np.concatenate([np.concatenate([y_lab] * repeats), labels["pseudo"][keep]]))


def test_the_sweep_table_names_each_fits_part_of_the_unlabelled_set_the_whole_included(world):  # noqa: F811
    inputs = world["inputs"]  # a profile whose pretext runs use every unlabelled image (pretext_images None)
    profile = replace(PROFILE, sweep_pretexts=("tiny",), unlabelled_fractions=(0.5, 1.0))
    inputs = Inputs(profile, inputs.mnist, inputs.split)
    runs = helpers.plan_sweep_runs({"tiny": Tiny()}, inputs)
    fits = [[helpers.Fit("knn", "2/class", 20, run.seed, 0, 32, helpers.Recipe(), inputs.data_fp, inputs.split_fp,
                         helpers.sweep_stage(run), "fingerprint") for run in runs]]
    table = pd.DataFrame({column: ["knn" if column == "use" else 0] * len(runs) for column in helpers.RESULT_COLUMNS})
    sweep = helpers.sweep_table(fits, helpers.Outcome(table, {}, {}, {}), runs, inputs)
    n = len(inputs.split["unlabelled"])
    assert sorted(sweep["unlabelled"].unique()) == [int(round(0.5 * n)), n]
    assert set(sweep["pretext"]) == {"tiny"} and set(sweep["use"]) == {"knn"}
