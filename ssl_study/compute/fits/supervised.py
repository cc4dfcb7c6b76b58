"""The supervised CNN trained from its own random initialisation with the shared recipe: the baseline."""

from __future__ import annotations

from ..training import train_supervised
from .base import FitData, FitKind, register


@register
class Supervised(FitKind):
    name = "supervised"
    title = "supervised"
    line = ("-", "D")
    encoder = False

    def run(self, fit, data: FitData):
        model, record = train_supervised(data.x, data.y, fit.epochs, fit.batch_size, fit.seed, fit.recipe)
        return model, record, None
