"""Pretext tasks: self-supervised ways to pre-train the encoder on the unlabelled set.

A pretext task is one unit (as in solo-learn or lightly): a subclass of `Pretext` that holds its settings, builds the
network it trains (its augmentation, the shared encoder, its head) and says what its targets, loss and metric are.
Adding one means one module in this folder, with the class decorated by `register`, and one import line at the end of
this file; notebooks 4-6, the runner, the experiments and the tests discover it through `PRETEXTS`.

`pretrain` trains any of them; notebook 4, the selection experiments (``experiments/``) and ``benchmarks/`` all call it.
"""

from .base import (  # noqa: F401
    MONITOR_IMAGES, PRETEXTS, Pretext, PretextSettings, get_pretext, knn_monitor, monitor_slice, pretext_indices,
    pretrain, register,
)

# The registry: one line per pretext task.
from . import siamese  # noqa: E402,F401
from . import rotation  # noqa: E402,F401
from . import contrastive  # noqa: E402,F401
from . import autoencoder  # noqa: E402,F401

from .. import plugins  # noqa: E402  (units registered outside the package: $SSL_UNITS)

plugins.load()
