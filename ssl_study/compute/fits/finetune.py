"""Probe-then-fine-tune: the whole CNN trained with the recipe from the encoder's weights and the head of its linear
probe (of the same encoder, amount and seed)."""

from __future__ import annotations

from ..training import train_supervised
from .base import FitData, FitKind, register


@register
class Finetune(FitKind):
    name = "finetune"
    title = "probed, then fine-tuned"
    line = ((0, (6, 2)), "o")
    after = "probe"

    def run(self, fit, data: FitData):
        probe = data.earlier(self.after)
        model, record = train_supervised(data.x, data.y, fit.epochs, fit.batch_size, fit.seed, fit.recipe,
                                         data.weights(), probe["head"])
        return model, record, None
