"""What a method is: an **encoder** (where the CNN's convolutions start from) and a **use** (how it is trained or
read), with one display label and one figure style, all taken from the units that define them.

Encoders: ``none`` (the supervised CNN's own random initialisation), ``random`` (notebook 3's untrained encoder, the
control), ``pixels`` (no encoder: the raw pixels), and every registered pretext task (its `Pretext.label`). Uses:
every registered kind of fit (`FitKind.title`: ``supervised``, ``recipe`` -- the supervised recipe from the encoder,
random head --, ``probe``, ``finetune`` -- from the probe --, ``knn``, ``logistic``) and every registered
semi-supervised method (its `SemiMethod.title`). A method's id in the results (``supervised``,
``siamese_finetune``, ``fixmatch``, ``contrastive_pseudolabel``) is made by `method_id` and read back through the
`catalogue` of every id the registries can make -- never by splitting the id.
"""

from __future__ import annotations

from ..compute.fits import FIT_KINDS
from ..compute.pretexts import PRETEXTS
from ..compute.semi import SEMI_METHODS
from ..config import HEADLINE_PRETEXT, SCALE_CONTROL
from .ids import method_id

BASELINE = method_id("none", "supervised")  #: the supervised CNN trained from scratch: the assignment's baseline
HEADLINE = method_id(HEADLINE_PRETEXT, "recipe")  #: the assignment's model: the recipe from the Siamese encoder
FIXED_ENCODERS = {"none": "random init", "random": "untrained encoder", "pixels": "raw pixels",
                  SCALE_CONTROL: "weight-scale control"}


def uses() -> dict:
    """Every use a method can have -> its unit: the kinds of fit, then the semi-supervised methods."""
    return {**FIT_KINDS, **SEMI_METHODS}


def catalogue() -> dict[str, tuple[str, str]]:
    """Every method id the registered units can make -> (encoder, use)."""
    encoders = [*FIXED_ENCODERS, *PRETEXTS]
    return {method_id(e, u): (e, u) for e in encoders for u in uses()}


def parts(method: str) -> tuple[str, str]:
    """(encoder, use) of a method id, from the `catalogue`."""
    try:
        return catalogue()[method]
    except KeyError:
        raise KeyError(f"{method!r} is not a method of the registered encoders and uses") from None


def encoder_label(encoder: str) -> str:
    """An encoder's name for readers: a pretext's `Pretext.label`, "untrained encoder", "raw pixels"."""
    if encoder in PRETEXTS:
        return PRETEXTS[encoder].label or encoder
    return FIXED_ENCODERS.get(encoder, encoder)


#: the headline pretext's name in prose and tables ("Siamese"), from its unit
HEADLINE_LABEL = encoder_label(HEADLINE_PRETEXT)


def use_label(use: str) -> str:
    """A use's name for readers: its unit's title ("fine-tuned", "k-NN", "FixMatch")."""
    unit = uses().get(use)
    return unit.title if unit else use


def label(encoder: str, use: str) -> str:
    """A method's name for readers: "Siamese, fine-tuned", "trained from scratch" (the supervised CNN), "FixMatch
    (random init)"."""
    if encoder == "none":
        return "trained from scratch" if use == "supervised" else f"{use_label(use)} (random init)"
    if encoder == "random" and getattr(uses().get(use), "scratch_label", None):  # the untrained encoder is the CNN's
        return uses()[use].scratch_label  # own initialisation: a kind may call that start training from scratch
    return f"{encoder_label(encoder)}, {use_label(use)}"


def method_label(method: str) -> str:
    """`label` of a method id."""
    return label(*parts(method))
