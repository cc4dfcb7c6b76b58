"""The CNN, its encoder, the Siamese network, pairs, weights and artefacts."""


import numpy as np
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


def test_pretext_targets_are_one_positive_and_one_negative_per_image():
    targets = helpers.pretext_targets(5)
    assert targets.shape == (5, 2) and (targets[:, 0] == 1).all() and (targets[:, 1] == 0).all()


def test_siamese_scores_two_views_of_one_image_and_of_the_next_image():
    """Column 0 compares two views of image i, column 1 view a of image i with view b of image i + 1."""
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    off = helpers.AugmentConfig(rotation=0, zoom=0, translation=0, flip_probability=0, blur_probability=0,
                                noise_stddev=0, erase_probability=0)
    siamese = helpers.build_siamese(encoder, off, seed=0, head_units=16)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype="float32")
    x[2] = x[1]  # images 1 and 2 identical: the negative pair of image 1 then looks like a positive one
    p = siamese.predict(x, verbose=0)
    assert p.shape == (4, 2) and ((p > 0) & (p < 1)).all()
    head = siamese.get_layer("head")
    e = encoder.predict(x, verbose=0)
    same = head.predict(np.abs(e - e), verbose=0)[:, 0]
    different = head.predict(np.abs(e - np.roll(e, 1, axis=0)), verbose=0)[:, 0]
    assert np.allclose(p[:, 0], same, atol=1e-5) and np.allclose(p[:, 1], different, atol=1e-5)
    assert np.isclose(p[2, 1], p[2, 0], atol=1e-5)  # image 2's "next" (rolled) neighbour is image 1, its twin


def test_siamese_augments_views_independently_also_at_evaluation():
    siamese = helpers.build_siamese(helpers.build_encoder(), helpers.AugmentConfig(), seed=0, head_units=16)
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype="float32")
    p = siamese.predict(x, verbose=0)
    assert not np.allclose(p[:, 0], siamese.get_layer("head").predict(np.zeros((8, 288), "float32"), verbose=0)[:, 0])


def test_example_pairs_interleave_positives_and_negatives():
    augmenter = helpers.build_augmenter(seed=0)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype="float32")
    a, b, target = helpers.example_pairs(x, augmenter, seed=0)
    assert a.shape == b.shape == (6, 28, 28, 1) and target.tolist() == [1, 0, 1, 0, 1, 0]
    assert np.array_equal(a[0], a[1])  # image 0's positive and negative pair share its view a
    assert np.array_equal(b[3], b[0])  # image 1's negative partner is image 0's view b (rolled by one)


def test_pretext_uses_only_unlabelled_images():
    """The indices that notebook 4 gives a pretext task come from the unlabelled set alone."""
    labels = np.repeat(np.arange(10), 100)
    split = helpers.make_split(labels, seed=0)
    train, val = helpers.pretext_indices(split["unlabelled"], None, 0.1, seed=0)
    pool = np.concatenate([train, val])
    assert np.isin(pool, split["unlabelled"]).all() and len(np.unique(pool)) == len(split["unlabelled"])
    assert not np.isin(pool, np.concatenate([split["labelled"], split["test"]])).any()
    assert len(val) == 40 and len(np.concatenate(helpers.pretext_indices(split["unlabelled"], 50, 0.1, 0))) == 50


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
    siamese = helpers.build_siamese(encoder, seed=0, head_units=16)
    assert siamese.count_params() == encoder.count_params() + 288 * 16 + 16 + 16 + 1
    assert sum(layer is encoder for layer in siamese.layers) == 1


def _centre_of_mass(images: np.ndarray) -> np.ndarray:
    rows, cols = np.mgrid[:28, :28]
    mass = images[..., 0].sum(axis=(1, 2))
    return np.stack([(images[..., 0] * rows).sum(axis=(1, 2)) / mass,
                     (images[..., 0] * cols).sum(axis=(1, 2)) / mass], 1)


OFF = dict(rotation=0.0, zoom=0.0, translation=0.0, flip_probability=0.0, blur_probability=0.0, noise_stddev=0.0,
           erase_probability=0.0)


def test_affine_rotates_and_zooms_about_the_image_centre():
    """A blob at the centre stays there under rotation, zoom and flips: the transform's centre is right."""
    x = np.zeros((64, 28, 28, 1), "float32")
    x[:, 11:17, 12:16] = 1.0  # centred on (13.5, 13.5)
    cfg = helpers.AugmentConfig(**{**OFF, "rotation": 0.1, "zoom": 0.2, "flip_probability": 0.5})
    views = keras.ops.convert_to_numpy(helpers.build_augmenter(cfg, seed=0)(x, training=True))
    assert not np.allclose(views, x)
    assert np.allclose(_centre_of_mass(views), 13.5, atol=0.05)


def test_affine_shifts_by_at_most_the_translation():
    x = np.zeros((64, 28, 28, 1), "float32")
    x[:, 11:17, 12:16] = 1.0
    cfg = helpers.AugmentConfig(**{**OFF, "translation": 0.1})
    views = keras.ops.convert_to_numpy(helpers.build_augmenter(cfg, seed=0)(x, training=True))
    shift = _centre_of_mass(views) - 13.5
    assert np.abs(shift).max() <= 0.1 * 28 + 0.05 and np.abs(shift).max() > 1.0
    assert np.allclose(views.sum(axis=(1, 2, 3)), x[0].sum(), rtol=1e-3)  # nothing leaves the frame


def test_blur_erase_and_noise_do_what_they_say():
    augmenter = helpers.build_augmenter(helpers.AugmentConfig(**{**OFF, "blur_probability": 1.0}), seed=0)
    assert np.isclose(augmenter.blur_kernel.sum(), 1.0)
    x = np.zeros((32, 28, 28, 1), "float32")
    x[:, 10:18, 10:18] = 1.0
    blurred = keras.ops.convert_to_numpy(augmenter(x, training=True))
    assert np.allclose(blurred.sum(axis=(1, 2, 3)), 64.0, rtol=1e-3) and (blurred.max(axis=(1, 2, 3)) <= 1.0).all()
    ones = np.ones((200, 28, 28, 1), "float32")
    erased = keras.ops.convert_to_numpy(
        helpers.build_augmenter(helpers.AugmentConfig(**{**OFF, "erase_probability": 0.5}),
                                seed=0)(ones, training=True))
    fraction = 1 - erased.mean(axis=(1, 2, 3))
    assert 0.3 < (fraction > 0).mean() < 0.7 and fraction.max() <= 0.155  # 0.15, give or take whole pixels
    assert set(np.unique(erased)) <= {0.0, 1.0}
    noisy = keras.ops.convert_to_numpy(
        helpers.build_augmenter(helpers.AugmentConfig(**{**OFF, "noise_stddev": 0.1}), seed=0)(ones, training=True))
    assert abs((noisy - 1).std() - 0.1) < 0.005


def test_pretext_batches_of_one_image_are_refused():
    helpers.check_pretext_batches(256, 128)
    with pytest.raises(ValueError, match="batch of one"):
        helpers.check_pretext_batches(257, 128)


def test_fit_improves_a_classifier_on_a_tiny_problem():
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat(np.arange(10), 30)).astype("int32")
    x = np.zeros((300, 28, 28, 1), "float32")
    for k, label in enumerate(y):  # class c = a bar in row band c // 2 (5 px apart), left or right half by c % 2
        row, col = 5 * (label // 2) + 3, 2 + 14 * (label % 2)
        x[k, row : row + 2, col : col + 10] = 1.0
    x += rng.normal(0, 0.1, x.shape).astype("float32")
    model = helpers.build_classifier()
    fit = helpers.fit_classifier(model, x[:250], y[:250], epochs=15, batch_size=32, seed=0, learning_rate=6e-3)
    assert fit["epochs"] == 15 and len(fit["history"]["loss"]) == 15  # a fixed schedule: nothing stops early
    assert helpers.evaluate(model, x[250:], y[250:])["accuracy"] > 0.8


def test_probe_leaves_the_encoder_unchanged_and_equals_the_frozen_cnn():
    """The probe trains a Dense layer on cached features; the CNN with that head predicts the same."""
    keras.utils.set_random_seed(0)
    model = helpers.build_classifier()
    encoder = model.get_layer("encoder")
    encoder_before = [w.copy() for w in encoder.get_weights()]
    x = np.random.default_rng(0).random((120, 28, 28, 1), dtype="float32")
    y = np.repeat(np.arange(10), 12).astype("int32")
    features = helpers.encode(encoder, x)
    head = helpers.build_linear_head()
    head_before = [w.copy() for w in head.get_weights()]
    helpers.fit_classifier(head, features[:100], y[:100], epochs=2, batch_size=32, seed=0, learning_rate=6e-3)
    assert all(np.array_equal(a, b) for a, b in zip(encoder_before, encoder.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(head_before, head.get_weights()))
    model.get_layer("softmax").set_weights(head.get_weights())
    assert np.allclose(model.predict(x, verbose=0), head.predict(features, verbose=0), atol=1e-5)


def test_the_probe_of_train_probe_is_the_frozen_encoder_and_a_linear_classifier():
    """`train_probe` (what notebook 5's probes run) leaves the encoder's weights as they were, and the CNN it returns
    predicts what a linear classifier -- the softmax of W . features + b -- predicts from the encoder's features."""
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 28, 28, 1), dtype="float32"), np.repeat(np.arange(10), 30).astype("int32")
    model, _ = helpers.train_probe(encoder.get_weights(), x[:250], y[:250], epochs=1, batch_size=128, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_layer("encoder").get_weights(), encoder.get_weights()))
    weights, bias = model.get_layer("softmax").get_weights()
    logits = helpers.encode(encoder, x) @ weights + bias
    linear = np.exp(logits - logits.max(1, keepdims=True))
    assert np.allclose(model.predict(x, verbose=0), linear / linear.sum(1, keepdims=True), atol=1e-5)


def test_the_weight_scale_control_has_the_reference_scale_and_its_own_directions():
    """Issue 29's control: each kernel rescaled to the reference kernel's norm, its direction kept; biases kept."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(3, 3, 1, 4)).astype("float32"), np.zeros(4, "float32")]
    reference = [rng.normal(scale=5, size=(3, 3, 1, 4)).astype("float32"), rng.normal(size=4).astype("float32")]
    kernel, bias = helpers.rescaled_like(weights, reference)
    assert np.linalg.norm(kernel) == pytest.approx(np.linalg.norm(reference[0]), rel=1e-6)
    cosine = (kernel * weights[0]).sum() / (np.linalg.norm(kernel) * np.linalg.norm(weights[0]))
    assert cosine == pytest.approx(1.0, abs=1e-6) and np.array_equal(bias, weights[1])
