"""The supervised recipe with each start's settings tuned where labels are scarce (issue 29,
ANALYSIS_PLAN_ADDENDUM.md): budget, augmentation and learning rate chosen on validation data at 10 labels per class and
at 1 %, separately for random weights and for a pre-trained start (the dataset's `ssl_study.config.Choices.tuned`).
From notebook 3's
untrained encoder it is the CNN trained from scratch (the untrained encoder is the CNN's own initialisation); from the
Siamese encoder, the addendum's pre-trained arm; from the weight-scale control, its control."""

from __future__ import annotations

from dataclasses import replace

from ...config import AUGMENTS, TUNED_AT_ONE_PERCENT, Recipe, choices
from ..training import train_supervised
from .base import FitData, FitKind, register


@register
class Tuned(FitKind):
    name = "tuned"
    title = "tuned recipe"
    scratch_label = "trained from scratch, tuned recipe"
    line = ("-", "P")
    version = 2  # 2: the settings chosen by the whole selection (the Siamese start's at 8x)

    def settings_for(self, encoder: str, n_labels: int, recipe: Recipe) -> tuple[Recipe, int]:
        """The tuned settings of ``encoder``'s start (``random``: scratch; any other: pre-trained) at the primary amount
        nearest ``n_labels`` (`TUNED_AT_ONE_PERCENT`): the recipe with that augmentation and learning rate, and the
        budget factor."""
        start = "scratch" if encoder == "random" else "pretrained"
        tuned = choices().tuned[(start, "1%" if n_labels >= TUNED_AT_ONE_PERCENT else "10/class")]
        return replace(recipe, learning_rate=tuned.learning_rate, finetune_learning_rate=tuned.learning_rate,
                       augment=AUGMENTS[tuned.augment]), tuned.budget

    def run(self, fit, data: FitData):
        model, record = train_supervised(data.x, data.y, fit.epochs, fit.batch_size, fit.seed, fit.recipe,
                                         data.weights())
        return model, record, None
