"""Kinds of fit: how a label subset trains the CNN (``supervised``, ``recipe``, ``probe``, ``finetune``) or a
classifier on frozen features (``knn``, ``logistic``).

A kind is one unit, as a pretext task is (`ssl_study.compute.pretexts`): a subclass of `FitKind` in a module of its
own in this folder, registered with `register` and one import line below. The design, the worker, the keys, the
labels and the figures discover it through `FIT_KINDS`.
"""

from __future__ import annotations

from .base import FIT_KINDS, FitData, FitKind, frozen_kinds, register  # noqa: F401

# The registry: one line per module of kinds.
from . import supervised  # noqa: E402,F401
from . import recipe  # noqa: E402,F401
from . import probe  # noqa: E402,F401
from . import finetune  # noqa: E402,F401
from . import frozen  # noqa: E402,F401
from . import tuned  # noqa: E402,F401

from .. import plugins  # noqa: E402  (units registered outside the package: $SSL_UNITS)

plugins.load()

FROZEN_KINDS = frozen_kinds()  #: the kinds on frozen features (units registered later: `frozen_kinds`)
