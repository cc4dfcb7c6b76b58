"""Teacher -> student pseudo-labelling, the course material's scheme, as one semi-supervised unit."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ...config import Recipe
from ..training import probe_then_finetune, train_supervised
from .base import SemiMethod, SemiSettings, predict_pseudo_labels, register


@dataclass(frozen=True)
class PseudoLabelSettings(SemiSettings):
    """Teacher -> student pseudo-labelling (chosen on validation data: experiments/results/semi.md; the rounds on the
    confirmatory split, experiments/results/semi_pseudolabel.md)."""

    #: a pseudo-label is kept where the teacher's top probability is at least this (of 0.9, 0.95)
    threshold: float = 0.9
    rounds: int = 7  #: students trained one after the other, each taught by the one before (of 1-8: 7, a tie with 8)
    student_images: int = 160_000  #: images one student sees in training (its epochs follow)
    label_share: float = 0.1  #: the labels are repeated so that they are at least this share of a student's images


@register
class PseudoLabel(SemiMethod):
    """The teacher is the supervised fit on the labels (random weights) or, from a pre-trained encoder, the probed and
    fine-tuned one (`probe_then_finetune`), for the supervised fit's epochs, as in notebooks 2 and 5. Each round the
    current teacher labels the unlabelled images; a fresh student, from the teacher's starting point, trains on the
    labels and the pseudo-labels of confidence >= ``threshold`` with the shared recipe, for ``student_images``
    images; it becomes the next teacher. The rounds' record: round 1 holds the teacher's labels, the last entry the
    final student's predictions (nothing kept)."""

    name = "pseudolabel"
    title = "pseudo-labelling"
    Settings = PseudoLabelSettings
    version = 2  #: 2: seven rounds, chosen past the edge of four

    def train(self, x_labelled, y_labelled, x_unlabelled, seed, epochs, batch_size, recipe=Recipe(),
              encoder_weights=None, watch: Callable | None = None):
        settings = self.settings
        start = time.perf_counter()
        head = None
        if encoder_weights is None:
            teacher, _ = train_supervised(x_labelled, y_labelled, epochs, batch_size, seed, recipe)
        else:  # the probe first, as in notebook 5: fine-tuning starts from its Dense layer
            fits = probe_then_finetune(encoder_weights, x_labelled, y_labelled, epochs, batch_size, seed, recipe)
            teacher, _ = fits["finetune"]
            head = fits["probe"][0].get_layer("softmax").get_weights()
        rounds = []
        for r in range(1, settings.rounds + 1):
            labels = predict_pseudo_labels(teacher, x_unlabelled)
            keep = labels["confidence"] >= settings.threshold
            rounds.append({**labels, "kept": keep, **({"watch": watch(teacher)} if watch else {})})
            repeats = max(1, int(np.ceil(settings.label_share * keep.sum() / len(x_labelled))))
            x = np.concatenate([np.concatenate([x_labelled] * repeats), x_unlabelled[keep]])
            y = np.concatenate([np.concatenate([y_labelled] * repeats), labels["pseudo"][keep].astype("int32")])
            student_epochs = max(1, int(round(settings.student_images / max(len(x), recipe.min_epoch_images))))
            teacher, _ = train_supervised(x, y, student_epochs, batch_size, seed + 1000 * r, recipe, encoder_weights,
                                          head)
        rounds.append({**predict_pseudo_labels(teacher, x_unlabelled), "kept": None,  # the last student's
                       **({"watch": watch(teacher)} if watch else {})})
        return teacher, {"rounds": rounds, "epochs": epochs, "seconds": time.perf_counter() - start}

    def scaled(self, factor: float):
        """A student's images times ``factor``, at least one batch."""
        return self.settings if factor == 1 else replace(
            self.settings, student_images=max(128, int(self.settings.student_images * factor)))
