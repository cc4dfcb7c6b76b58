"""The supervised recipe from a pre-trained encoder's weights and the baseline's random Dense layer: only the
encoder's initial weights differ from the supervised fit (the assignment's fine-tuning)."""

from __future__ import annotations

from ..training import train_supervised
from .base import FitData, FitKind, register


@register
class FromEncoder(FitKind):
    name = "recipe"
    title = "fine-tuned"
    line = ("-", "X")

    def run(self, fit, data: FitData):
        model, record = train_supervised(data.x, data.y, fit.epochs, fit.batch_size, fit.seed, fit.recipe,
                                         data.weights())
        return model, record, None
