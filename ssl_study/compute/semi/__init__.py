"""Semi-supervised learning on the same CNN: the unlabelled set used as a teacher's pupil, not only as pre-training
data.

A method is one unit, as a pretext task is (`ssl_study.compute.pretexts`): a subclass of `SemiMethod` in a module of its
own in this folder -- its settings, how it trains the CNN on the labels and the unlabelled images, how its budget
scales -- registered with `register` and one import line at the end of this file. Notebooks 5 and 6, the runner, the
experiments and the tests discover it through `SEMI_METHODS`:

* ``pseudolabel`` (`pseudolabel.PseudoLabel`): teacher -> student pseudo-labelling, the course material's scheme;
* ``fixmatch`` (`fixmatch.FixMatch`): FixMatch-style consistency between a weak and a strong view (Sohn et al., 2020).

No method is given the unlabelled images' labels: `SemiMethod.train` returns, with the trained CNN, the pseudo-labels
and confidences of each round, and the caller (`ssl_study.study.workers`) scores those against the true labels for the
report only. They use the backend-neutral Keras 3 API, so they run on TensorFlow or JAX.
"""

from .base import SEMI_METHODS, Round, SemiMethod, SemiSettings, get_semi, predict_pseudo_labels, register  # noqa: F401

# The registry: one line per method.
from . import pseudolabel  # noqa: E402,F401
from . import fixmatch  # noqa: E402,F401
from .fixmatch import FixMatch, FixMatchSettings, consistency_loss  # noqa: E402,F401
from .pseudolabel import PseudoLabel, PseudoLabelSettings  # noqa: E402,F401

from .. import plugins  # noqa: E402  (units registered outside the package: $SSL_UNITS)

plugins.load()
