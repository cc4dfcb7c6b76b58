"""Units defined only for the tests, registered through $SSL_UNITS (`ssl_study.compute.plugins`): a pretext task and a
semi-supervised method and a kind of fit that no module of the package names, to show that notebooks 4-6 discover
units."""

from dataclasses import dataclass

import numpy as np

from ssl_study.config import INPUT_SHAPE
from ssl_study.compute.fits import FitData, FitKind
from ssl_study.compute.fits import register as register_fit
from ssl_study.compute.models import import_keras
from ssl_study.compute.pretexts import Pretext, PretextSettings, register
from ssl_study.compute.semi import SemiMethod, SemiSettings, predict_pseudo_labels
from ssl_study.compute.semi import register as register_semi
from ssl_study.compute.training import train_supervised


@dataclass(frozen=True)
class TinySettings(PretextSettings):
    epochs: int = 1
    batch_size: int = 32


@register
class Tiny(Pretext):
    """Is the image brighter than the batch's median image? One Dense layer on the encoder."""

    name = "tiny"
    title = "Tiny (brighter than the median?)"
    label = "Tiny"
    Settings = TinySettings
    monitor = "binary_accuracy"

    def build(self, encoder, seed):
        keras = import_keras()
        images = keras.Input(INPUT_SHAPE)
        return keras.Model(images, keras.layers.Dense(1, activation="sigmoid")(encoder(images)))

    def targets(self, images):
        brightness = images.mean(axis=(1, 2, 3))
        return (brightness > np.median(brightness)).astype("float32")[:, None]


@dataclass(frozen=True)
class LabelsOnlySettings(SemiSettings):
    threshold: float = 0.9


@register_semi
class LabelsOnly(SemiMethod):
    """The supervised fit on the labels alone, reporting its pseudo-labels of the unlabelled images once."""

    name = "labelsonly"
    title = "labels only"
    Settings = LabelsOnlySettings

    def train(self, x_labelled, y_labelled, x_unlabelled, seed, epochs, batch_size, recipe=None,
              encoder_weights=None, watch=None):
        from ssl_study.config import Recipe

        model, record = train_supervised(x_labelled, y_labelled, epochs, batch_size, seed, recipe or Recipe(),
                                         encoder_weights)
        return model, {"rounds": [{**predict_pseudo_labels(model, x_unlabelled), "kept": None}],
                       "epochs": epochs, "seconds": record["seconds"]}


@register_fit
class Halfway(FitKind):
    """The supervised recipe from the encoder for half the epochs: a kind of fit that no module of the package
    names."""

    name = "halfway"
    title = "half the recipe"

    def run(self, fit, data: FitData):
        model, record = train_supervised(data.x, data.y, max(1, fit.epochs // 2), fit.batch_size, fit.seed,
                                         fit.recipe, data.weights())
        return model, record, None
