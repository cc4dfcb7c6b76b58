"""What a method is: an **encoder** (where the CNN's convolutions start from) and a **use** (how it is trained or
read), with one display label and one figure style, all taken from the units that define them.

Encoders: ``none`` (the supervised CNN's own random initialisation), ``random`` (notebook 3's untrained encoder, the
control), ``pixels`` (no encoder: the raw pixels), and every registered pretext task (its `Pretext.label`,
`Pretext.colour`). Uses: ``supervised``, ``recipe`` (the supervised recipe from the encoder, random head), ``probe``,
``finetune`` (from the probe), ``knn``, ``logistic``, and every registered
semi-supervised method (its `SemiMethod.title`, `SemiMethod.line`). A method's id in the results (``supervised``,
``siamese_finetune``, ``fixmatch``, ``contrastive_pseudolabel``) is made by `method_id` and read back through the
`catalogue` of every id the registries can make -- never by splitting the id.
"""

from __future__ import annotations

import zlib

FIXED_ENCODERS = {"none": "random init", "random": "untrained encoder", "pixels": "raw pixels"}
FIXED_USES = {"supervised": "supervised", "recipe": "fine-tuned", "finetune": "probed, then fine-tuned",
              "probe": "linear probe", "knn": "k-NN",
              "logistic": "logistic regression"}
#: colours of the encoders that are not units (a pretext's is its own `Pretext.colour`)
FIXED_COLOURS = {"none": "#222222", "random": "#8c8c8c", "pixels": "#8c564b"}
#: line style and marker of the uses that are not units (a semi-supervised method's marker is its own)
FIXED_STYLES = {"supervised": ("-", "D"), "recipe": ("-", "X"), "finetune": ((0, (6, 2)), "o"), "probe": ("--", "s"), "knn": (":", "^"),
                "logistic": ("-.", "v")}


def _registries() -> tuple[dict, dict]:
    from .pretexts import PRETEXTS
    from .semi import SEMI_METHODS

    return PRETEXTS, SEMI_METHODS


def method_id(encoder: str, use: str) -> str:
    """The id of a method in the results: ``supervised``; ``<use>`` for a semi-supervised method from random
    weights; ``<encoder>_<use>`` otherwise."""
    return use if encoder == "none" else f"{encoder}_{use}"


def catalogue() -> dict[str, tuple[str, str]]:
    """Every method id the registered units can make -> (encoder, use)."""
    pretexts, semis = _registries()
    encoders = [*FIXED_ENCODERS, *pretexts]
    uses = [*FIXED_USES, *semis]
    return {method_id(e, u): (e, u) for e in encoders for u in uses}


def parts(method: str) -> tuple[str, str]:
    """(encoder, use) of a method id, from the `catalogue`."""
    try:
        return catalogue()[method]
    except KeyError:
        raise KeyError(f"{method!r} is not a method of the registered encoders and uses") from None


def encoder_label(encoder: str) -> str:
    """An encoder's name for readers: a pretext's `Pretext.label`, "untrained encoder", "raw pixels"."""
    pretexts, _ = _registries()
    if encoder in pretexts:
        return pretexts[encoder].label or encoder
    return FIXED_ENCODERS.get(encoder, encoder)


def use_label(use: str) -> str:
    """A use's name for readers: "fine-tuned", "k-NN", a semi-supervised method's `SemiMethod.title`."""
    _, semis = _registries()
    return semis[use].title if use in semis else FIXED_USES.get(use, use)


def label(encoder: str, use: str) -> str:
    """A method's name for readers: "Siamese, fine-tuned", "trained from scratch" (the supervised CNN), "FixMatch
    (random init)"."""
    if encoder == "none":
        return "trained from scratch" if use == "supervised" else f"{use_label(use)} (random init)"
    return f"{encoder_label(encoder)}, {use_label(use)}"


def style(encoder: str, use: str) -> dict:
    """Colour (by encoder), line style and marker (by use) and label of a method, the same in every figure; a unit
    without a colour of its own gets one from a fixed palette, stable across runs."""
    import seaborn as sns

    pretexts, semis = _registries()
    colour = FIXED_COLOURS.get(encoder) or getattr(pretexts.get(encoder), "colour", None) \
        or sns.color_palette("Set2", 8)[zlib.crc32(encoder.encode()) % 8]
    line, marker = FIXED_STYLES.get(use) or (semis[use].line if use in semis else ("-", "o"))
    return {"color": colour, "linestyle": line, "marker": marker, "label": label(encoder, use)}


def method_label(method: str) -> str:
    """`label` of a method id."""
    return label(*parts(method))


def method_style(method: str) -> dict:
    """`style` of a method id."""
    return style(*parts(method))
