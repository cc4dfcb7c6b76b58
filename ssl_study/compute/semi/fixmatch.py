"""FixMatch-style consistency (Sohn et al., 2020), as one semi-supervised unit.

Every step trains on a batch of labels (cross-entropy on a weak view) and a larger batch of unlabelled images, whose
weak view's prediction, where at least ``threshold`` sure, is the target of the strong view's (`consistency_loss`).
Weak view: the supervised recipe's shifts and rotations; strong view: the pretext tasks' augmenter (rotation, zoom,
shift, blur, erasing, noise). The consistency loss is a `keras.Model.compute_loss` override, so it runs on TensorFlow
or JAX.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ...config import INPUT_SHAPE, LIGHT_AUGMENT, AugmentConfig, Recipe
from ..models import build_augmenter, import_keras
from ..training import start_classifier
from .base import SemiMethod, SemiSettings, predict_pseudo_labels, register


@dataclass(frozen=True)
class FixMatchSettings(SemiSettings):
    """FixMatch-style consistency training (chosen on validation data: experiments/results/semi.md; the steps, with
    FixMatch's own moving average of the weights and weight decay, on the confirmatory split:
    experiments/results/semi_fixmatch.md)."""

    threshold: float = 0.95  #: the unlabelled images whose weak view the model is at least this sure of are trained on
    #: (of 0.9 and 0.95, which tied within 0.1 points on validation data)
    steps: int = 6000  #: training steps (one labelled and one unlabelled batch each; about 9 minutes on one core):
    #: 6,000 beat 3,000 by 0.80 +- 0.28 points, and is the most the run's budget pays for (ANALYSIS_PLAN.md, section 3)
    labelled_batch: int = 64
    unlabelled_ratio: int = 7  #: unlabelled images per labelled image in a step (448 with 64 labels)
    learning_rate: float = 3e-3  #: Adam, cosine-decayed to 1 % over ``steps``
    unlabelled_weight: float = 1.0  #: weight of the consistency loss beside the labels' cross-entropy
    ema_momentum: float = 0.999  #: evaluate an exponential moving average of the weights with this momentum (0: off;
    #: 0.999 is FixMatch's own)
    weight_decay: float = 0.05  #: decoupled weight decay (AdamW's), per unit of learning rate (0: off)
    reports: int = 6  #: times the pseudo-labels of the whole unlabelled set are recorded (evenly over training)
    strong: AugmentConfig = AugmentConfig()  #: the pretext augmenter's settings


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


@register
class FixMatch(SemiMethod):
    """FixMatch-style training of the prescribed CNN from random weights or from ``encoder_weights`` (with a random
    Dense layer): ``steps`` steps of ``labelled_batch`` labels and ``unlabelled_ratio`` times as many unlabelled
    images, both drawn in seeded random order (the labels repeated as often as needed). Adam with a cosine-decaying
    learning rate, optionally decoupled weight decay and an exponential moving average of the weights (the model
    returned and its last report are the average's; the earlier reports are the raw weights'). The rounds' record: the
    pseudo-labels and confidences of the unlabelled set at ``reports`` points of training (the last: the final model's).
    The supervised fit's epochs, batch size and recipe are not used."""

    name = "fixmatch"
    title = "FixMatch"
    line = ("-", "*")
    Settings = FixMatchSettings
    version = 3  #: 2: optional weight decay and a moving average of the weights; 3: both on, 6,000 steps

    def train(self, x_labelled, y_labelled, x_unlabelled, seed, epochs, batch_size, recipe=Recipe(),
              encoder_weights=None, watch: Callable | None = None):
        settings = self.settings
        keras = import_keras()
        start = time.perf_counter()
        cnn = start_classifier(seed, encoder_weights)
        model = _fixmatch_model(cnn, settings, seed)
        schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, decay_steps=settings.steps,
                                                          alpha=0.01)
        model.compile(keras.optimizers.Adam(schedule, weight_decay=settings.weight_decay or None,
                                            use_ema=settings.ema_momentum > 0,
                                            ema_momentum=settings.ema_momentum or 0.99))
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
            if step == settings.steps and settings.ema_momentum:  # the model kept is the weights' moving average
                model.optimizer.finalize_variable_values(model.trainable_variables)
            if step in report_at:
                labels = predict_pseudo_labels(cnn, x_unlabelled)
                rounds.append({**labels, "kept": labels["confidence"] >= settings.threshold, "step": step,
                               **({"watch": watch(cnn)} if watch else {})})
        return cnn, {"rounds": rounds, "epochs": 0, "steps": settings.steps, "seconds": time.perf_counter() - start}

    def scaled(self, factor: float):
        """The steps times ``factor``, at least 10."""
        return self.settings if factor == 1 else replace(self.settings,
                                                         steps=max(10, int(self.settings.steps * factor)))
