"""How a method looks in every figure: a colour by encoder (a pretext's own `Pretext.colour`), a line style and
marker by use (its unit's own ``line``: `FitKind.line`, `SemiMethod.line`), and its label.
"""

from __future__ import annotations

import zlib

from ..compute.pretexts import PRETEXTS
from ..config import SCALE_CONTROL
from ..study.methods import label, parts, uses


#: colours of the encoders that are not units (a pretext's is its own `Pretext.colour`)
FIXED_COLOURS = {"none": "#222222", "random": "#8c8c8c", "pixels": "#8c564b", SCALE_CONTROL: "#bcbd22"}


def style(encoder: str, use: str) -> dict:
    """Colour (by encoder), line style and marker (by use) and label of a method, the same in every figure; a unit
    without a colour of its own gets one from a fixed palette, stable across runs."""
    import seaborn as sns

    if encoder == "random" and getattr(uses().get(use), "scratch_label", None):
        encoder = "none"  # a kind that calls the untrained encoder's start training from scratch: drawn as scratch
    colour = FIXED_COLOURS.get(encoder) or getattr(PRETEXTS.get(encoder), "colour", None) \
        or sns.color_palette("Set2", 8)[zlib.crc32(encoder.encode()) % 8]
    line, marker = getattr(uses().get(use), "line", ("-", "o"))
    return {"color": colour, "linestyle": line, "marker": marker, "label": label(encoder, use)}


def method_style(method: str) -> dict:
    """`style` of a method id."""
    return style(*parts(method))
