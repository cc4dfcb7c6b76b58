"""Every registered pretext task, and the frozen-feature evaluation: shapes, a finite loss, a training step that
changes the encoder, targets built right; k-NN and logistic regression on a separable toy set; the untrained
control."""

import numpy as np
import pytest

import helpers
from ssl_study.compute.pretexts.autoencoder import build_autoencoder
from ssl_study.compute.pretexts.contrastive import nt_xent_logits
from ssl_study.compute.pretexts.rotation import rotate_all, rotation_targets

keras = pytest.importorskip("keras")
OFF = helpers.AugmentConfig(rotation=0, zoom=0, translation=0, flip_probability=0, blur_probability=0,
                            noise_stddev=0, erase_probability=0)


def digits(n=16, seed=0):
    """Images with an asymmetric blob, so that every rotation looks different."""
    x = np.zeros((n, 28, 28, 1), "float32")
    rng = np.random.default_rng(seed)
    for i in range(n):
        r, c = rng.integers(3, 12, size=2)
        x[i, r:r + 6, c:c + 12] = 1.0
        x[i, r:r + 14, c:c + 3] = 1.0
    return x


def test_the_four_shipped_pretexts_are_registered_and_every_unit_is_a_complete_one():
    """Holds when a unit is added: the package's four are there, and every registered one names itself and builds."""
    assert {"siamese", "rotation", "contrastive", "autoencoder"} <= set(helpers.PRETEXTS)
    for name, cls in helpers.PRETEXTS.items():
        assert cls.name == name and cls.title and issubclass(cls.Settings, helpers.PretextSettings)
        assert cls.build is not helpers.Pretext.build and cls.targets is not helpers.Pretext.targets


@pytest.mark.parametrize("name", sorted(helpers.PRETEXTS))
def test_a_pretext_has_the_shapes_a_finite_loss_and_a_step_that_changes_the_encoder(name):
    pretext = helpers.get_pretext(name, batch_size=8)
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    before = [w.copy() for w in encoder.get_weights()]
    model = pretext.build(encoder, seed=0)
    x = digits(16)
    y = pretext.targets(x)
    out = model.predict(x, batch_size=8, verbose=0)
    assert out.shape[:y.ndim] == y.shape  # one target per output, or a class index per row of scores
    model.compile(keras.optimizers.Adam(1e-3), pretext.loss)
    loss = model.train_on_batch(x[:8], y[:8])
    assert np.isfinite(np.asarray(loss)).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, encoder.get_weights()))
    assert model.get_layer(encoder.name) is encoder  # the one encoder, trained in place


@pytest.mark.parametrize("name", sorted(helpers.PRETEXTS))
def test_pretrain_reports_the_knn_monitor_and_the_budget(name):
    pretext = helpers.get_pretext(name, batch_size=8)
    encoder = helpers.build_encoder()
    x = digits(24)
    labels = np.arange(24) % 2
    run = helpers.pretrain(pretext, encoder, x[:16], x[16:], seed=0, epochs=2,
                           monitor=(x[:12], labels[:12], x[12:], labels[12:]))
    assert len(run["history"]["knn"]) == 2 and 0 <= run["knn_before"] <= 1
    assert run["images_seen"] == 2 * 16 * pretext.views
    assert isinstance(pretext.analyse(run["model"], x, labels % 10), dict)


def test_rotation_labels_match_the_applied_rotation():
    x = digits(3)
    turned = keras.ops.convert_to_numpy(rotate_all(keras.ops.convert_to_tensor(x)))
    assert turned.shape == (3, 4, 28, 28, 1)
    for k in range(4):  # copy k is the image turned by k quarter turns anticlockwise, and its target is k
        assert np.array_equal(turned[:, k, :, :, 0], np.rot90(x[:, :, :, 0], k, axes=(1, 2)))
    assert (rotation_targets(3) == np.arange(4)).all()


def test_rotation_network_sees_the_four_copies_in_order():
    keras.utils.set_random_seed(0)
    encoder = helpers.build_encoder()
    model = helpers.get_pretext("rotation", augment=OFF).build(encoder, seed=0)
    x = digits(2)
    # the network's scores for the four copies equal the head on the encoder of each rotated copy
    head = model.get_layer("head")
    expected = np.stack([head.predict(encoder.predict(np.rot90(x, k, axes=(1, 2)), verbose=0), verbose=0)
                         for k in range(4)], axis=1)
    assert np.allclose(model.predict(x, verbose=0), expected, atol=1e-5)


def test_nt_xent_puts_each_views_partner_first_and_masks_itself():
    z = np.eye(4, 8, dtype="float32")  # four orthogonal projections
    logits = keras.ops.convert_to_numpy(nt_xent_logits(keras.ops.convert_to_tensor(z),
                                                       keras.ops.convert_to_tensor(z), 0.5))
    assert logits.shape == (4, 2, 9)
    assert np.allclose(logits[:, :, 0], 1 / 0.5)  # identical views: cosine 1 / temperature, first
    assert np.allclose(logits[:, :, 1:][logits[:, :, 1:] > -1e8], 0)  # the others orthogonal
    assert ((logits[:, :, 1:] < -1e8).sum(axis=2) == 2).all()  # the partner's second copy and the view itself
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(np.zeros((4, 2)), logits)
    shuffled = keras.ops.convert_to_numpy(nt_xent_logits(keras.ops.convert_to_tensor(z),
                                                         keras.ops.convert_to_tensor(z[::-1].copy()), 0.5))
    worse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(np.zeros((4, 2)), shuffled)
    assert float(loss) < float(worse)  # matching views cost less than mismatched ones


def test_autoencoder_target_is_the_clean_image_and_its_input_is_corrupted():
    pretext = helpers.get_pretext("autoencoder", corrupt=helpers.AugmentConfig(
        rotation=0, zoom=0, translation=0, flip_probability=0, blur_probability=0, noise_stddev=0.3,
        erase_probability=0.5))
    x = digits(4)
    assert np.array_equal(pretext.targets(x), x)
    model = build_autoencoder(helpers.build_encoder(), pretext.settings.corrupt, seed=0)
    assert model.output_shape == (None, 28, 28, 1)
    corrupted = keras.ops.convert_to_numpy(model.get_layer("corrupt")(x, training=False))
    assert not np.allclose(corrupted, x)  # corrupted also at evaluation
    plain = build_autoencoder(helpers.build_encoder(), None, seed=0)
    assert np.array_equal(keras.ops.convert_to_numpy(plain.get_layer("corrupt")(x)), x)


@pytest.mark.parametrize("kind", helpers.FROZEN_KINDS)
def test_frozen_classifiers_separate_a_separable_toy_set(kind):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 12)
    features = rng.normal(size=(120, 20)) * 0.3 + 3 * np.eye(10, 20)[labels]
    model, record = helpers.train_frozen(kind, features, labels, seed=0)
    test_labels = np.repeat(np.arange(10), 5)
    test = rng.normal(size=(50, 20)) * 0.3 + 3 * np.eye(10, 20)[test_labels]
    assert helpers.evaluate(model, test, test_labels)["accuracy"] == 1.0
    assert record["choice"].split("=")[0] in ("k", "C") and record["history"]["cv_accuracy"]


def test_frozen_classifier_is_deterministic_for_a_seed():
    """The same subset and seed give the same choice and the same model (what it is trained on: test_pipeline)."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 10)
    features = rng.normal(size=(100, 8)) + np.eye(10, 8)[labels]
    a = helpers.train_frozen("logistic", features, labels, seed=3)
    b = helpers.train_frozen("logistic", features.copy(), labels.copy(), seed=3)
    assert a[1]["choice"] == b[1]["choice"]
    assert np.array_equal(a[0].predict(features), b[0].predict(features))


def test_effective_rank_sees_collapse():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(500, 16))
    collapsed = np.outer(rng.normal(size=500), rng.normal(size=16)) + 1e-6 * rng.normal(size=(500, 16))
    assert helpers.effective_rank(spread) > 12 and helpers.effective_rank(collapsed) < 1.5
