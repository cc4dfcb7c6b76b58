"""The CNN, its encoder, the Siamese network, pairs, weights and artefacts."""

import json

import numpy as np
import pandas as pd
import pytest

import helpers

keras = pytest.importorskip("keras")


def test_classifier_is_the_prescribed_cnn():
    model = helpers.build_classifier()
    assert model.count_params() == 21_994
    table = helpers.layer_table(model)
    assert table["type"].tolist() == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert table["output"].tolist() == [(14, 14, 64), (7, 7, 64), (7, 7, 32), (3, 3, 32), (288,), (10,)]
    conv1 = model.get_layer("encoder").get_layer("conv1")
    assert conv1.strides == (2, 2) and conv1.padding == "same" and conv1.kernel_size == (3, 3)


def test_encoder_outputs_288_features():
    encoder = helpers.build_encoder()
    assert encoder.output_shape == (None, 288)
    assert encoder.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0).shape == (2, 288)
    assert helpers.architecture_fingerprint(encoder) == helpers.architecture_fingerprint(helpers.build_encoder())


def test_weights_round_trip_into_the_classifier(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    path = tmp_path / "enc.weights.h5"
    encoder.save_weights(path)
    model = helpers.build_classifier()
    before = model.get_layer("softmax").get_weights()
    model.get_layer("encoder").load_weights(path)
    for saved, loaded in zip(encoder.get_weights(), model.get_layer("encoder").get_weights()):
        assert np.array_equal(saved, loaded)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype="float32")
    assert np.allclose(encoder.predict(x, verbose=0), model.get_layer("encoder").predict(x, verbose=0))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_layer("softmax").get_weights()))


@pytest.mark.parametrize("n_images,n_pairs", [(2, 10), (50, 1000), (1000, 257)])
def test_pairs_are_balanced_and_correctly_labelled(n_images, n_pairs):
    first, second, target = helpers.make_pairs(n_images, n_pairs, np.random.default_rng(0))
    assert len(first) == len(second) == len(target) == n_pairs
    assert target.sum() == n_pairs // 2
    assert np.array_equal(target == 1, first == second)
    assert first.min() >= 0 and max(first.max(), second.max()) < n_images


def test_pair_dataset_draws_only_from_the_images_it_is_given():
    """The pretext sees only the array it is handed; every view in every batch is one of those images."""
    images = np.random.default_rng(0).random((40, 28, 28, 1), dtype="float32")
    pairs = helpers.pair_dataset(images, pairs_per_epoch=100, batch_size=32, seed=0)
    flat = images.reshape(40, -1)
    for k in range(len(pairs)):
        (a, b), target = pairs[k]
        for view in (a, b):
            assert (view.reshape(len(view), -1)[:, None, :] == flat[None]).all(-1).any(-1).all()
        assert np.array_equal(target == 1, (a == b).all(axis=(1, 2, 3)))
    first_epoch = pairs.first.copy()
    pairs.on_epoch_end()
    assert not np.array_equal(first_epoch, pairs.first)  # fresh pairs every epoch


def test_pretext_uses_only_unlabelled_images():
    """The indices that notebook 4 gives the pretext come from the unlabelled set alone."""
    labels = np.repeat(np.arange(10), 100)
    split = helpers.make_split(labels, seed=0)
    pool = helpers.pretext_pool(split, n_images=None, seed=0)
    assert np.isin(pool, split["unlabelled"]).all()
    assert not np.isin(pool, np.concatenate([split["labelled"], split["test"]])).any()
    assert len(helpers.pretext_pool(split, n_images=50, seed=0)) == 50


def test_augmenter_changes_views_only_in_training():
    augmenter = helpers.build_augmenter(seed=0)
    x = np.zeros((8, 28, 28, 1), "float32")
    x[:, 10:18, 12:16] = 1.0
    assert np.array_equal(keras.ops.convert_to_numpy(augmenter(x, training=False)), x)
    views = keras.ops.convert_to_numpy(augmenter(x, training=True))
    assert views.shape == x.shape and not np.allclose(views, x)
    assert not np.allclose(views[0], views[1])  # independent per image


def test_siamese_shares_one_encoder():
    encoder = helpers.build_encoder()
    siamese = helpers.build_siamese(encoder, helpers.build_augmenter(seed=0), head_units=16)
    assert siamese.count_params() == encoder.count_params() + 288 * 16 + 16 + 16 + 1
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype="float32")
    p = siamese.predict((x, x), verbose=0)
    assert p.shape == (3, 1) and ((p > 0) & (p < 1)).all()


def test_artefact_metadata_refuses_missing_changed_and_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(helpers, "ROOT", tmp_path)
    path = tmp_path / "thing.npz"
    with pytest.raises(helpers.ArtefactError, match="missing: run notebooks/01_split.ipynb"):
        helpers.read_meta(path, "01_split.ipynb")
    np.savez(path, a=np.arange(3))
    helpers.write_meta(path, data_fingerprint="abc")
    assert helpers.read_meta(path, "01_split.ipynb", data_fingerprint="abc")["data_fingerprint"] == "abc"
    with pytest.raises(helpers.ArtefactError, match="stale"):
        helpers.read_meta(path, "01_split.ipynb", data_fingerprint="other")
    np.savez(path, a=np.arange(4))
    with pytest.raises(helpers.ArtefactError, match="changed after"):
        helpers.read_meta(path, "01_split.ipynb")


def test_results_table_keeps_other_methods(tmp_path, monkeypatch):
    profile = helpers.Profile("unit", (0.5, 1.0), (), (0,), 1, 1, 1, 10)
    monkeypatch.setattr(helpers, "ARTEFACTS_DIR", tmp_path)
    monkeypatch.setattr(helpers, "ROOT", tmp_path)
    profile.artefacts.mkdir()

    def rows(method, accuracy):
        return pd.DataFrame([{"method": method, "amount": f"{f:.0%}", "fraction": f, "n_labels": int(f * 100), "seed": 0,
                              "test_accuracy": accuracy, "macro_f1": accuracy, "epochs": 1, "best_epoch": 1,
                              "seconds": 0.1} for f in profile.fractions])

    helpers.save_results(rows("supervised", 0.9), profile, "fp", "02")
    helpers.save_results(rows("siamese_finetune", 0.95), profile, "fp", "05")
    helpers.save_results(rows("supervised", 0.8), profile, "fp", "02")
    table = helpers.load_results(profile, "fp", {"supervised": "02", "siamese_finetune": "05"})
    assert len(table) == 4
    gains = helpers.paired_gain(table, "supervised", "siamese_finetune")
    assert np.allclose(gains["gain"], 15.0) and gains["pairs"].tolist() == [1, 1]
    with pytest.raises(helpers.ArtefactError, match="stale"):
        helpers.load_results(profile, "other split", {"supervised": "02"})
    with pytest.raises(helpers.ArtefactError, match="no rows of 'probe'"):
        helpers.load_results(profile, "fp", {"probe": "07"})
    assert json.loads(helpers.meta_path(profile.artefacts / "results.csv").read_text())["made_by"] == {
        "supervised": "02", "siamese_finetune": "05"}


def test_fit_improves_a_classifier_on_a_tiny_problem():
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat(np.arange(10), 30)).astype("int32")
    x = np.zeros((300, 28, 28, 1), "float32")
    for k, label in enumerate(y):  # class c = a bar in row band c // 2 (5 px apart), left or right half by c % 2
        row, col = 5 * (label // 2) + 3, 2 + 14 * (label % 2)
        x[k, row : row + 2, col : col + 10] = 1.0
    x += rng.normal(0, 0.1, x.shape).astype("float32")
    model = helpers.build_classifier()
    fit = helpers.fit_classifier(model, x[:250], y[:250], x[250:], y[250:], epochs=15, batch_size=32, seed=0)
    assert fit["epochs"] >= 1 and fit["best_epoch"] <= fit["epochs"]
    assert helpers.evaluate(model, x[250:], y[250:])["accuracy"] > 0.8


def test_probe_leaves_the_encoder_unchanged_and_trains_the_head():
    keras.utils.set_random_seed(0)
    model = helpers.build_classifier()
    model.get_layer("encoder").trainable = False
    encoder_before = [w.copy() for w in model.get_layer("encoder").get_weights()]
    head_before = [w.copy() for w in model.get_layer("softmax").get_weights()]
    x = np.random.default_rng(0).random((120, 28, 28, 1), dtype="float32")
    y = np.repeat(np.arange(10), 12).astype("int32")
    helpers.fit_classifier(model, x[:100], y[:100], x[100:], y[100:], epochs=2, batch_size=32, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(encoder_before, model.get_layer("encoder").get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(head_before, model.get_layer("softmax").get_weights()))


def test_json_artefacts_round_trip_and_refuse_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(helpers, "ROOT", tmp_path)
    path = helpers.save_json({"10/class/0": [[1, 2], [3, 4]]}, tmp_path / "confusions_x.json", split_fingerprint="a")
    assert helpers.load_json(path, "02.ipynb", split_fingerprint="a") == {"10/class/0": [[1, 2], [3, 4]]}
    with pytest.raises(helpers.ArtefactError, match="stale.*run notebooks/02.ipynb"):
        helpers.load_json(path, "02.ipynb", split_fingerprint="b")
