"""The pipeline end to end on a small synthetic tree: a pretext task defined only here runs through pre-training,
probe and fine-tuning; fits are computed once (cache, resume after an interruption); parallel runs, on loky and on a
local Dask cluster, give the results of a sequential one; and stale inputs are refused along the notebooks' chain."""

import contextlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from conftest import make_tree, png_bytes

import helpers
import ssl_study.study.executor
import ssl_study.compute.training
import ssl_study.study.workers
from ssl_study.study import keys
from ssl_study.study.store import Store
from ssl_study.compute import pretexts

PROFILE = helpers.Profile("unit", fractions=(0.5,), per_class=(2,), seeds=(0, 1), epochs_at_full=1, min_fit_images=0,
                          max_epochs=1, pretext_epochs=1, pretext_images=None, batch_size=32,
                          arms=(helpers.Arm("none", "supervised", None, (0, 1)),
                                helpers.Arm("any", "frozen", None, (0, 1))))


@dataclass(frozen=True)
class TinySettings(helpers.PretextSettings):
    epochs: int = 1
    batch_size: int = 32


class Tiny(helpers.Pretext):
    """A test-only pretext: is the image brighter than the batch's median image? One Dense layer on the encoder."""

    name = "tiny"
    title = "Tiny (brighter than the median?)"
    Settings = TinySettings
    monitor = "binary_accuracy"

    def build(self, encoder, seed):
        keras = helpers.import_keras()
        images = keras.Input(helpers.INPUT_SHAPE)
        return keras.Model(images, keras.layers.Dense(1, activation="sigmoid")(encoder(images)))

    def targets(self, images):
        brightness = images.mean(axis=(1, 2, 3))
        return (brightness > np.median(brightness)).astype("float32")[:, None]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 400-image course tree, its split and initial encoders, in a profile of its own (tmp folders throughout)."""
    import joblib

    root = tmp_path_factory.mktemp("world")
    tree = make_tree(root / "src", per_class=20)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"MNIST_PNG": tree, "SSL_OUTPUT": root / "out", "SSL_FIT_CACHE": root / "cache",
                            "SSL_DATA_CACHE": root / "data-cache"}.items():
            mp.setenv(name, str(value))
        mp.setitem(pretexts.PRETEXTS, "tiny", Tiny)
        joblib.externals.loky.get_reusable_executor().shutdown(wait=True)  # workers must see this environment
        PROFILE.artefacts.mkdir(parents=True)
        mnist = helpers.load_mnist(verbose=False)
        helpers.save_split(helpers.make_split(mnist.labels, 0), PROFILE, mnist, 0, (0.4, 0.4, 0.2))
        keras = helpers.import_keras()
        for seed in PROFILE.seeds:
            keras.utils.set_random_seed(seed)
            helpers.save_initial_encoder(helpers.build_encoder(), PROFILE, seed)
        yield {"root": root, "tree": tree, "inputs": helpers.load_inputs(PROFILE, verbose=False)}


def supervised_fits(inputs):
    return helpers.plan_fits("supervised", PROFILE, inputs.n_labelled, inputs.data_fp, inputs.split_fp)


def test_a_pretext_defined_only_here_runs_through_pretraining_probe_and_finetuning(world):
    inputs = world["inputs"]
    runs = helpers.plan_pretext_runs({"tiny": Tiny()}, inputs)
    results = helpers.run_pretexts(runs, inputs, jobs=1)
    assert [r.seed for r in runs] == [0, 1] and all(r["train_images"] == 144 for r in results)
    for run, result in zip(runs, results):
        helpers.save_pretext_encoder(run, result, inputs, Tiny.monitor)
    encoders = helpers.pretrained_encoders(inputs, "tiny")
    files = {meta["identity"]: helpers.encoder_weights(PROFILE, "tiny", seed) for seed, meta in encoders.items()}
    fingerprints = {seed: meta["identity"] for seed, meta in encoders.items()}
    assert fingerprints == {run.seed: keys.task_key("pretext", run) for run in runs}
    plan = lambda kind: helpers.plan_fits(kind, PROFILE, inputs.n_labelled, inputs.data_fp, inputs.split_fp,
                                          pretext="tiny", encoders=fingerprints, seeds=PROFILE.seeds)
    probes = helpers.run_fits(plan("probe"), inputs, 1, files)
    finetuned = helpers.run_fits(plan("finetune"), inputs, 1, files)
    table = helpers.combine(probes, finetuned).table
    assert sorted(table["method"].unique()) == ["tiny_finetune", "tiny_probe"]
    assert sorted(zip(table["amount"], table["seed"])) == sorted([("2/class", 0), ("50%", 0), ("2/class", 1),
                                                                 ("50%", 1)] * 2)
    assert [w.shape for w in probes.heads["tiny_probe"]["50%/1"]] == [(288, 10), (10,)]
    assert table["test_accuracy"].between(0, 1).all()
    helpers.save_outcome(helpers.combine(finetuned, probes), "pretrained", inputs, files.values())
    loaded = helpers.load_outcome("pretrained", inputs)
    assert len(loaded.table) == 8
    # the bits saved beside the results give each row's accuracy: sorting on saving kept them together
    n_test = len(inputs.split["test"])
    accuracy = [np.unpackbits(bits, count=n_test).mean() for bits in loaded.correct]
    assert np.allclose(accuracy, loaded.table["test_accuracy"])
    # an encoder re-trained after notebook 5 used it: notebook 5's results are refused
    path = helpers.encoder_weights(PROFILE, "tiny", 0)
    encoder, _ = helpers.load_encoder(path, helpers.NOTEBOOK_PRETEXT)
    encoder.set_weights([w + 0.01 for w in encoder.get_weights()])
    helpers.save_encoder(encoder, path, helpers.NOTEBOOK_PRETEXT, inputs=[inputs.split_path],
                         data_fingerprint=inputs.data_fp, identity=fingerprints[0])
    with pytest.raises(helpers.ArtefactError, match="earlier encoder_tiny_seed0.weights.h5.*05_finetune"):
        helpers.load_outcome("pretrained", inputs)


def test_the_untrained_encoder_under_the_recipe_is_the_supervised_cnn(world):
    """The 2 x 2's untrained-encoder x recipe cell is the supervised baseline itself: the same initial weights (notebook
    3's encoder of the seed, the same random Dense layer), the same training, the same predictions -- so the design
    does not fit it twice; and the recipe from another encoder differs from it in the encoder's weights only."""
    inputs = world["inputs"]
    init = helpers.pretrained_encoders(inputs, "random")
    files = {meta["identity"]: helpers.encoder_weights(PROFILE, "init", seed) for seed, meta in init.items()}
    plan = lambda kind, pretext=None: helpers.plan_fits(kind, PROFILE, inputs.n_labelled, inputs.data_fp,
                                                        inputs.split_fp, pretext=pretext, amounts=("2/class",),
                                                        encoders={s: m["identity"] for s, m in init.items()},
                                                        seeds=(0,))
    supervised = helpers.run_fits(plan("supervised"), inputs, 1)
    recipe = helpers.run_fits(plan("recipe", "random"), inputs, 1, files)
    assert recipe.table["method"].tolist() == ["random_recipe"]
    assert recipe.table["test_accuracy"].tolist() == supervised.table["test_accuracy"].tolist()
    assert np.array_equal(recipe.correct, supervised.correct)
    assert recipe.correct.shape == (1, int(np.ceil(len(inputs.split["test"]) / 8)))


def test_notebook_5_plan_evaluates_every_encoder_frozen_and_the_untrained_control(world):
    """k-NN and logistic regression for the pretext's encoder, the untrained encoder of notebook 3 and the raw pixels
    at every amount; probe and fine-tuning at the profile's fine-tuning amounts; the control really is untrained."""
    import dataclasses

    finetune = helpers.Arm("any", "finetune", ("2/class",), (0, 1))
    inputs = dataclasses.replace(world["inputs"], profile=replace(PROFILE, arms=(*PROFILE.arms, finetune)))
    runs = helpers.plan_pretext_runs({"tiny": Tiny()}, inputs)
    for run, result in zip(runs, helpers.run_pretexts(runs, inputs, jobs=1)):  # from the cache, if computed before
        helpers.save_pretext_encoder(run, result, inputs, Tiny.monitor)
    stages = helpers.plan_encoder_fits(inputs, ["tiny", "random"])
    keras = helpers.import_keras()
    for seed in PROFILE.seeds:  # the control's encoder is the one notebook 3 saved: a fresh, untrained encoder
        keras.utils.set_random_seed(seed)
        fresh = helpers.build_encoder()
        saved, meta = helpers.load_encoder(helpers.encoder_weights(PROFILE, "init", seed), helpers.NOTEBOOK_ENCODER)
        assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), saved.get_weights()))
        untrained = keys.initial_encoder_key(seed)
        assert meta["identity"] == untrained
        assert {f.encoder for f in stages[0] if f.pretext == "random" and f.seed == seed} == {untrained}
        assert untrained not in {f.encoder for f in stages[0] if f.pretext == "tiny"}
    outcome = helpers.run_fits(stages, inputs, 1, helpers.encoder_files(inputs, ["tiny", "random"]))
    counts = outcome.table.groupby("method").size().to_dict()
    frozen = {f"{e}_{k}": 4 for e in ("tiny", "random", "pixels") for k in helpers.FROZEN_KINDS}
    assert counts == {**frozen, **{f"{e}_{k}": 2 for e in ("tiny", "random") for k in ("probe", "finetune")}}
    knn = outcome.table[outcome.table["method"].str.endswith("_knn")]
    assert knn["setting"].str.match(r"k=\d+$").all() and (knn["epochs"] == 0).all()
    assert outcome.table["test_accuracy"].between(0, 1).all()


def test_a_frozen_fit_sees_the_subset_alone_and_is_scored_on_the_test_images(world, monkeypatch):
    """k-NN / logistic regression are trained on exactly the label subset's features, every one of its labels and
    nothing else, and scored on the test images' features."""
    inputs = world["inputs"]
    seen = {}

    def spy_train(kind, features, labels, seed):
        seen["train"] = (features.copy(), labels.copy())
        return ssl_study.compute.training.train_frozen(kind, features, labels, seed)

    def spy_evaluate(model, x, y):
        seen["test"] = (x.copy(), y.copy())
        return ssl_study.compute.training.evaluate(model, x, y)

    monkeypatch.setattr(ssl_study.compute.fits.frozen, "train_frozen", spy_train)
    monkeypatch.setattr(ssl_study.study.workers, "evaluate", spy_evaluate)
    fit = helpers.plan_fits("knn", PROFILE, inputs.n_labelled, inputs.data_fp, inputs.split_fp, pretext="pixels")[0]
    result = ssl_study.study.workers._run_fit(fit, {"split": str(inputs.split_path), "encoders": {}})
    subset = helpers.nested_subsets(inputs.labels("labelled"), [fit.n_labels], fit.seed)[0]
    pixels = inputs.images("labelled").reshape(inputs.n_labelled, -1)
    assert np.array_equal(seen["train"][0], pixels[subset]) and np.array_equal(seen["train"][1],
                                                                               inputs.labels("labelled")[subset])
    assert np.array_equal(seen["test"][1], inputs.labels("test")) and len(seen["test"][0]) == len(inputs.split["test"])
    assert result["row"]["method"] == "pixels_knn" and result["row"]["n_labels"] == len(subset)


def test_a_result_computed_with_other_library_versions_is_not_served(world):
    """The backend, Keras, numpy, scipy and scikit-learn versions are part of every key."""
    fit = supervised_fits(world["inputs"])[0]
    env = keys.environment()
    assert env["backend"] == helpers.import_keras().backend.backend()
    for library in ("keras", env["backend"], *keys.LIBRARIES):
        assert keys.task_key("fit", fit, {**env, library: "0.1"}) != keys.task_key("fit", fit, env)


def test_each_fit_is_computed_once(world, monkeypatch):
    inputs = world["inputs"]
    first = helpers.run_fits(supervised_fits(inputs), inputs, jobs=1)
    monkeypatch.setattr(ssl_study.compute.training, "fit_classifier",
                        lambda *a, **k: pytest.fail("a cached fit re-ran"))
    again = helpers.run_fits(supervised_fits(inputs), inputs, jobs=1)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert first.histories == again.histories


def test_a_change_of_settings_computes_the_fit_again(world):
    inputs = world["inputs"]
    fit = supervised_fits(inputs)[0]
    store = Store(PROFILE.cache)
    paths = {"split": str(inputs.split_path), "encoders": {}, "cache": str(PROFILE.cache)}
    helpers.run_fits([fit], inputs, jobs=1)
    assert store.has("fit", keys.task_key("fit", fit))
    other = replace(fit, recipe=replace(fit.recipe, learning_rate=1e-3))
    assert not store.has("fit", keys.task_key("fit", other))
    assert not store.has("fit", keys.task_key("fit", replace(fit, data="other data")))
    with pytest.raises(RuntimeError, match="restart the kernel"):  # a version bumped since this process started
        ssl_study.study.executor._compute(other, "fit", "k", paths, keys.environment(), {"version": 0})


def test_an_interrupted_run_keeps_every_finished_fit_and_resumes(world, monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "cache"))
    inputs = world["inputs"]
    fits = supervised_fits(inputs)
    real, trained = ssl_study.compute.training.train_supervised, []

    def interrupted_on_the_third(*args, **kwargs):
        if len(trained) == 2:
            raise KeyboardInterrupt
        trained.append(args[4])  # the seed
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl_study.compute.fits.supervised, "train_supervised", interrupted_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        helpers.run_fits(fits, inputs, jobs=1)
    monkeypatch.setattr(ssl_study.compute.fits.supervised, "train_supervised",
                        lambda *a, **k: (trained.append("again"), real(*a, **k))[1])
    resumed = helpers.run_fits(fits, inputs, jobs=1)
    assert trained == [0, 0, "again", "again"]  # two finished before the interruption; only the other two re-ran
    reference = helpers.run_fits(fits, inputs, jobs=1)
    pd.testing.assert_frame_equal(resumed.table.drop(columns="seconds"), reference.table.drop(columns="seconds"))


def test_parallel_workers_give_the_sequential_results(world, monkeypatch, tmp_path):
    inputs = world["inputs"]
    sequential = helpers.run_fits(supervised_fits(inputs), inputs, jobs=1)
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "parallel"))
    parallel = helpers.run_fits(supervised_fits(inputs), inputs, jobs=2)
    columns = ["method", "amount", "seed", "test_accuracy", "official_test_accuracy", "macro_f1", "epochs"]
    pd.testing.assert_frame_equal(sequential.table[columns], parallel.table[columns])
    assert sequential.histories == parallel.histories


def test_a_local_dask_cluster_computes_every_fit(world, monkeypatch, tmp_path):
    """SSL_BACKEND=dask without a scheduler address: the project starts a local cluster of SSL_JOBS (two) workers, the
    fits computed there fill the cache, and they equal the sequential run's. (They did not always before Keras drew
    its default initialiser seeds from a generator of the task's own thread: `models._ThreadSeeds`.)"""
    pytest.importorskip("dask.distributed")
    inputs = world["inputs"]
    sequential = helpers.run_fits(supervised_fits(inputs), inputs, jobs=1)
    monkeypatch.setenv("SSL_FIT_CACHE", str(tmp_path / "dask"))
    monkeypatch.setenv("SSL_BACKEND", "dask")
    monkeypatch.setenv("SSL_JOBS", "2")
    monkeypatch.delenv("SSL_DASK_SCHEDULER", raising=False)
    started = []
    real = ssl_study.study.executor._backend

    def spy():
        from dask.distributed import get_client

        with real():
            client = get_client()
            client.wait_for_workers(2, timeout=120)  # workers may still be registering
            started.append(len(client.scheduler_info()["workers"]))
            yield

    monkeypatch.setattr(ssl_study.study.executor, "_backend", contextlib.contextmanager(spy))
    on_dask = helpers.run_fits(supervised_fits(inputs), inputs, jobs=2)
    assert started == [2]
    pd.testing.assert_frame_equal(sequential.table.drop(columns="seconds"), on_dask.table.drop(columns="seconds"))
    assert sequential.histories == on_dask.histories
    assert (on_dask.table["test_accuracy"].between(0, 1).all()
            and ssl_study.study.executor.count_cached(PROFILE.cache) == 4)


def test_tampered_results_are_refused_until_their_notebook_re_runs(world):
    inputs = world["inputs"]
    outcome = helpers.run_fits(supervised_fits(inputs), inputs, jobs=1)
    helpers.save_outcome(outcome, "supervised", inputs)
    results = PROFILE.artefacts / "results_supervised.csv"
    # results tampered: refused, and re-running notebook 2 (save_outcome) replaces the file completely
    tampered = pd.read_csv(results)
    tampered.loc[0, "test_accuracy"] = 0.999
    tampered.to_csv(results, index=False)
    with pytest.raises(helpers.ArtefactError, match="changed after notebooks/02_supervised_baseline.ipynb wrote it"):
        helpers.load_outcome("supervised", inputs)
    helpers.save_outcome(outcome, "supervised", inputs)
    assert helpers.load_outcome("supervised", inputs).table["test_accuracy"].max() < 0.999


def test_one_changed_pixel_makes_the_split_and_everything_after_it_stale(world, tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "src", per_class=20)
    monkeypatch.setenv("MNIST_PNG", str(tree))
    image = np.zeros((28, 28), np.uint8)
    image[5, 5] = 255
    (tree / "training" / "4" / "0.png").write_bytes(png_bytes(image))
    with pytest.raises(helpers.ArtefactError, match="other MNIST images.*re-run notebooks/01_split.ipynb"):
        helpers.load_inputs(PROFILE, verbose=False)


def test_the_official_test_accuracy_scores_only_the_images_from_mnists_test_set(world):
    inputs = world["inputs"]
    official = ssl_study.study.workers._official_test(inputs.mnist, inputs.split)
    assert np.array_equal(official, inputs.mnist.origin[inputs.split["test"]] == "testing")
    assert 0 < official.sum() < len(official)  # the pooled split mixes both origins
    fit = supervised_fits(inputs)[0]
    correct = np.zeros(len(official), bool)
    correct[np.flatnonzero(official)[:3]] = True  # right on three official images, wrong everywhere else
    scores = {"accuracy": correct.mean(), "macro_f1": 0.0, "correct": correct, "confusion": []}
    row = ssl_study.study.workers._result(fit, {"history": {}, "epochs": 1, "seconds": 1.0},
                                          scores, official, 160)["row"]
    assert row["official_test_accuracy"] == pytest.approx(3 / official.sum())
    assert row["test_accuracy"] == pytest.approx(3 / len(official))


def test_an_initial_encoder_made_by_other_code_is_refused(world, monkeypatch):
    """An initial encoder's side-car names it by `keys.initial_encoder_key` of its seed: a bumped ``init`` version (the
    architecture or its initialisation changed) makes notebook 3's saved encoders stale, in one sentence."""
    path = helpers.encoder_weights(PROFILE, "init", 0)
    assert helpers.check_encoder(path, helpers.NOTEBOOK_ENCODER)["identity"] == keys.initial_encoder_key(0)
    monkeypatch.setattr(keys, "initial_encoder_key", lambda seed, env=None: "another version")
    with pytest.raises(helpers.ArtefactError, match="made by other code than this: re-run notebooks/03_encoder"):
        helpers.check_encoder(path, helpers.NOTEBOOK_ENCODER)
