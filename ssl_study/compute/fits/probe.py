"""A linear probe: the encoder frozen, a softmax layer trained on its features; its head is kept, for the
fine-tuning that starts from it."""

from __future__ import annotations

from ..training import train_probe
from .base import FitData, FitKind, register


@register
class Probe(FitKind):
    name = "probe"
    title = "linear probe"
    line = ("--", "s")

    def run(self, fit, data: FitData):
        model, record = train_probe(data.weights(), data.x, data.y, fit.epochs, fit.batch_size, fit.seed, fit.recipe)
        return model, record, model.get_layer("softmax").get_weights()
