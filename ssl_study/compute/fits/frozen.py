"""Classifiers on frozen features (an encoder's 288, or the raw pixels), their setting chosen by cross-validation on
the label subset: k-nearest neighbours and logistic regression."""

from __future__ import annotations

from ..training import train_frozen
from .base import FitData, FitKind, register


class Frozen(FitKind):
    frozen = True

    def run(self, fit, data: FitData):
        model, record = train_frozen(self.name, data.x, data.y, fit.seed)
        return model, record, None


@register
class Knn(Frozen):
    name = "knn"
    title = "k-NN"
    line = (":", "^")


@register
class Logistic(Frozen):
    name = "logistic"
    title = "logistic regression"
    line = ("-.", "v")
