"""Semi-supervised learning on the same CNN: the unlabelled set used as a teacher's pupil, not only as pre-training data.

Two methods, each one unit (its settings, its training function, one line in `SEMI_METHODS`):

* **pseudo-labelling** (teacher -> student, the course material's scheme): a teacher is trained on the labels (from
  random weights, or probed and fine-tuned from a pre-trained encoder); it labels the unlabelled images; those it is
  at least ``threshold`` sure of, with the labels, train a fresh student from the same starting point; the student is
  the next round's teacher.
* **FixMatch-style consistency** (Sohn et al., 2020): every step trains on a batch of labels (cross-entropy on a weak
  view) and a larger batch of unlabelled images, whose weak view's prediction, where at least ``threshold`` sure,
  is the target of the strong view's (`consistency_loss`). Weak view: the supervised recipe's shifts and rotations;
  strong view: the pretext tasks' augmenter (rotation, zoom, shift, blur, erasing, noise).

Neither function is given the unlabelled images' labels: they return the pseudo-labels and confidences of each round,
and the caller (`ssl_study.tasks`) scores those against the true labels for the report only. Both use the backend-
neutral Keras 3 API (the consistency loss is a `keras.Model.compute_loss` override), so they run on TensorFlow or JAX.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .config import INPUT_SHAPE, LIGHT_AUGMENT, AugmentConfig, Recipe
from .models import build_augmenter, build_classifier, import_keras
from .training import fit_classifier, train_probe


@dataclass(frozen=True)
class PseudoLabelSettings:
    """Teacher -> student pseudo-labelling (chosen on validation data: experiments/results/semi.md)."""

    threshold: float = 0.9  #: a pseudo-label is kept where the teacher's top probability is at least this (of 0.9, 0.95)
    rounds: int = 4  #: students trained one after the other, each taught by the one before (of 1-4: still rising at 4)
    student_images: int = 160_000  #: images one student sees in training (its epochs follow)
    label_share: float = 0.1  #: the labels are repeated so that they are at least this share of a student's images


@dataclass(frozen=True)
class FixMatchSettings:
    """FixMatch-style consistency training (chosen on validation data: experiments/results/semi.md)."""

    threshold: float = 0.95  #: the unlabelled images whose weak view the model is at least this sure of are trained on
    #: (of 0.9 and 0.95, which tied within 0.1 points on validation data)
    steps: int = 3000  #: training steps (one labelled and one unlabelled batch each; about 5 minutes on one core)
    labelled_batch: int = 64
    unlabelled_ratio: int = 7  #: unlabelled images per labelled image in a step (448 with 64 labels)
    learning_rate: float = 3e-3  #: Adam, cosine-decayed to 1 % over ``steps``
    unlabelled_weight: float = 1.0  #: weight of the consistency loss beside the labels' cross-entropy
    reports: int = 6  #: times the pseudo-labels of the whole unlabelled set are recorded (evenly over training)
    strong: AugmentConfig = AugmentConfig()  #: the pretext augmenter's settings


def _start(seed: int, encoder_weights: list | None, head_weights: list | None = None):
    """The prescribed CNN under ``seed``: random weights, or the given encoder's (and Dense layer's)."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = build_classifier()
    if encoder_weights is not None:
        model.get_layer("encoder").set_weights(encoder_weights)
    if head_weights is not None:
        model.get_layer("softmax").set_weights(head_weights)
    return model


def predict_pseudo_labels(model, x_unlabelled: np.ndarray) -> dict:
    """The model's pseudo-labels of the unlabelled images and its confidence (top probability) in each."""
    probabilities = model.predict(x_unlabelled, batch_size=2048, verbose=0)
    return {"pseudo": probabilities.argmax(1).astype("int8"), "confidence": probabilities.max(1).astype("float32")}


# ----------------------------------------------------------------------------------------------------------------------
# Teacher -> student pseudo-labelling
# ----------------------------------------------------------------------------------------------------------------------


def train_pseudo_label(x_labelled, y_labelled, x_unlabelled, epochs: int, batch_size: int, seed: int,
                       recipe: Recipe = Recipe(), settings: PseudoLabelSettings = PseudoLabelSettings(),
                       encoder_weights: list | None = None, watch: Callable | None = None) -> tuple[object, dict]:
    """Teacher -> student pseudo-labelling. The teacher is the supervised fit (random weights) or the probed and
    fine-tuned one (``encoder_weights``) on the labels, for ``epochs`` as in notebooks 2 and 5. Each round the
    current teacher labels the unlabelled images; a fresh student, from the teacher's starting point, trains on the
    labels and the pseudo-labels of confidence >= ``settings.threshold`` with the shared recipe, for
    ``settings.student_images`` images; it becomes the next teacher.

    Returns the last student and a record: seconds, and per round the pseudo-labels, confidences and kept images
    (round 1: the teacher's labels; the last entry: the final student's predictions, nothing kept), with
    ``watch(model)`` of the model that made them where ``watch`` is given (the selection experiment's validation
    score)."""
    start = time.perf_counter()
    head = None
    if encoder_weights is not None:  # the probe first, as in notebook 5: fine-tuning starts from its Dense layer
        probe, _ = train_probe(encoder_weights, x_labelled, y_labelled, epochs, batch_size, seed, recipe)
        head = probe.get_layer("softmax").get_weights()
    rate = recipe.learning_rate if encoder_weights is None else recipe.finetune_learning_rate
    teacher = _start(seed, encoder_weights, head)
    fit_classifier(teacher, x_labelled, y_labelled, epochs, batch_size, seed, rate, recipe)
    rounds = []
    for r in range(1, settings.rounds + 1):
        labels = predict_pseudo_labels(teacher, x_unlabelled)
        keep = labels["confidence"] >= settings.threshold
        rounds.append({**labels, "kept": keep, **({"watch": watch(teacher)} if watch else {})})
        repeats = max(1, int(np.ceil(settings.label_share * keep.sum() / len(x_labelled))))
        x = np.concatenate([np.concatenate([x_labelled] * repeats), x_unlabelled[keep]])
        y = np.concatenate([np.concatenate([y_labelled] * repeats), labels["pseudo"][keep].astype("int32")])
        student_epochs = max(1, int(round(settings.student_images / max(len(x), recipe.min_epoch_images))))
        student = _start(seed + 1000 * r, encoder_weights, head)
        fit_classifier(student, x, y, student_epochs, batch_size, seed + 1000 * r, rate, recipe)
        teacher = student
    rounds.append({**predict_pseudo_labels(teacher, x_unlabelled), "kept": None,  # the last student's, for the report
                   **({"watch": watch(teacher)} if watch else {})})
    return teacher, {"rounds": rounds, "epochs": epochs, "seconds": time.perf_counter() - start}


# ----------------------------------------------------------------------------------------------------------------------
# FixMatch-style consistency
# ----------------------------------------------------------------------------------------------------------------------


def consistency_loss(weak, strong, threshold: float):
    """FixMatch's unlabelled loss: the cross-entropy of the strong view's probabilities ``strong`` against the weak
    view's most likely class, for the images whose weak top probability is at least ``threshold`` (the weak view is
    a target: no gradient flows through it); images below the threshold count as zero. Mean over all images, so
    the loss grows as the mask fills. Returns ``(loss, mask)``."""
    keras = import_keras()
    ops = keras.ops
    weak = ops.stop_gradient(weak)
    mask = ops.cast(ops.max(weak, axis=-1) >= threshold, "float32")
    cross_entropy = keras.losses.sparse_categorical_crossentropy(ops.argmax(weak, axis=-1), strong)
    return ops.mean(mask * cross_entropy), mask


def _fixmatch_model(cnn, settings: FixMatchSettings, seed: int):
    """A Keras model around ``cnn`` whose training loss is FixMatch's: inputs (labelled batch, unlabelled batch)."""
    keras = import_keras()
    ops = keras.ops

    class FixMatch(keras.Model):
        def __init__(self):
            super().__init__()
            self.cnn = cnn
            self.weak = build_augmenter(LIGHT_AUGMENT, seed=seed, name="weak_view")
            self.strong = build_augmenter(settings.strong, seed=seed + 1, name="strong_view")

        def build(self, input_shape=None):  # the CNN is built; the two augmenters have no weights
            for view in (self.weak, self.strong):
                view.build((None, *INPUT_SHAPE))

        def call(self, inputs, training=False):
            labelled, unlabelled = inputs
            if not training:
                return self.cnn(labelled)
            n, m = ops.shape(labelled)[0], ops.shape(unlabelled)[0]
            views = ops.concatenate([self.weak(labelled, training=True), self.weak(unlabelled, training=True),
                                     self.strong(unlabelled, training=True)])
            p = self.cnn(views, training=True)
            return p[:n], p[n:n + m], p[n + m:]

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            labelled, weak, strong = y_pred
            supervised = ops.mean(keras.losses.sparse_categorical_crossentropy(y, labelled))
            unsupervised, _ = consistency_loss(weak, strong, settings.threshold)
            return supervised + settings.unlabelled_weight * unsupervised

    return FixMatch()


def train_fixmatch(x_labelled, y_labelled, x_unlabelled, seed: int, settings: FixMatchSettings = FixMatchSettings(),
                   encoder_weights: list | None = None, watch: Callable | None = None) -> tuple[object, dict]:
    """FixMatch-style training of the prescribed CNN from random weights or from ``encoder_weights`` (with a random
    Dense layer): ``settings.steps`` steps of ``labelled_batch`` labels and ``unlabelled_ratio`` times as many
    unlabelled images, both drawn in seeded random order (the labels repeated as often as needed). Adam with a
    cosine-decaying learning rate. Returns the CNN and a record: seconds, steps, and the pseudo-labels and confidences
    of the unlabelled set at ``settings.reports`` points of training (the last: the final model's), with ``watch(cnn)``
    there where it is given."""
    keras = import_keras()
    start = time.perf_counter()
    cnn = _start(seed, encoder_weights)
    model = _fixmatch_model(cnn, settings, seed)
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, decay_steps=settings.steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule))
    rng = np.random.default_rng(seed)
    n_unlabelled = settings.labelled_batch * settings.unlabelled_ratio
    lab_order, unl_order = np.empty(0, int), np.empty(0, int)
    report_at = set(np.linspace(0, settings.steps, settings.reports + 1).astype(int)[1:])
    rounds = []
    for step in range(1, settings.steps + 1):
        if len(lab_order) < settings.labelled_batch:
            lab_order = np.concatenate([lab_order, rng.permutation(len(x_labelled))])
        if len(unl_order) < n_unlabelled:
            unl_order = np.concatenate([unl_order, rng.permutation(len(x_unlabelled))])
        lab, lab_order = lab_order[:settings.labelled_batch], lab_order[settings.labelled_batch:]
        unl, unl_order = unl_order[:n_unlabelled], unl_order[n_unlabelled:]
        model.train_on_batch((x_labelled[lab], x_unlabelled[unl]), y_labelled[lab])
        if step in report_at:
            labels = predict_pseudo_labels(cnn, x_unlabelled)
            rounds.append({**labels, "kept": labels["confidence"] >= settings.threshold, "step": step,
                           **({"watch": watch(cnn)} if watch else {})})
    return cnn, {"rounds": rounds, "epochs": 0, "steps": settings.steps, "seconds": time.perf_counter() - start}


def scaled(settings, factor: float):
    """``settings`` with its budget (FixMatch's steps, a student's images) times ``factor`` (the quick profile's smoke
    test), at least 10 steps or one batch of images."""
    if factor == 1:
        return settings
    if isinstance(settings, FixMatchSettings):
        return replace(settings, steps=max(10, int(settings.steps * factor)))
    return replace(settings, student_images=max(128, int(settings.student_images * factor)))


#: the semi-supervised methods: name -> (settings class, training function); a method's results are named
#: ``<name>`` from random weights and ``<pretext>_<name>`` from that pretext's encoder
SEMI_METHODS = {"pseudolabel": (PseudoLabelSettings, train_pseudo_label), "fixmatch": (FixMatchSettings, train_fixmatch)}
