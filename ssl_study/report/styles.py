"""How a method looks in every figure: a colour by encoder (a pretext's own `Pretext.colour`), lightened or darkened
for the uses that share a figure with the encoder's other uses (`USE_SHADES`), a line style and marker by use (its
unit's own ``line``: `FitKind.line`, `SemiMethod.line`), and its label.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..compute.pretexts import PRETEXTS
from ..config import SCALE_CONTROL
from ..study.methods import label, parts, uses


#: colours of the encoders that are not units (a pretext's is its own `Pretext.colour`)
FIXED_COLOURS = {"none": "#222222", "random": "#8c8c8c", "pixels": "#8c564b", SCALE_CONTROL: "#bcbd22"}

#: uses drawn in a shade of their encoder's colour (above 0: that share of white mixed in; below 0: of black), so that
#: two uses of one encoder in one figure (the Siamese encoder fine-tuned under the recipe and probed, then fine-tuned)
#: differ in colour as well as in line; the other uses keep the encoder's own colour
USE_SHADES = {"finetune": -0.35, "probe": 0.4}


def shade(colour, amount: float) -> tuple[float, float, float]:
    """``colour`` with ``amount`` of white (``amount`` > 0) or of black (< 0) mixed in, as RGB."""
    from matplotlib.colors import to_rgb

    rgb, target = np.array(to_rgb(colour)), (1.0 if amount > 0 else 0.0)
    return tuple(float(c) for c in rgb + abs(amount) * (target - rgb))


def style(encoder: str, use: str) -> dict:
    """Colour (by encoder, in its use's shade: `USE_SHADES`), line style and marker (by use) and label of a method,
    the same in every figure; a unit without a colour of its own gets one from a fixed palette, stable across runs."""
    import seaborn as sns

    drawn = encoder  # a kind that calls the untrained encoder's start training from scratch: drawn as scratch
    if encoder == "random" and getattr(uses().get(use), "scratch_label", None):
        drawn = "none"  # (its label stays the kind's own: `label`)
    colour = FIXED_COLOURS.get(drawn) or getattr(PRETEXTS.get(drawn), "colour", None) \
        or sns.color_palette("Set2", 8)[zlib.crc32(drawn.encode()) % 8]
    if use in USE_SHADES:
        colour = shade(colour, USE_SHADES[use])
    line, marker = getattr(uses().get(use), "line", ("-", "o"))
    return {"color": colour, "linestyle": line, "marker": marker, "label": label(encoder, use)}


def method_style(method: str) -> dict:
    """`style` of a method id."""
    return style(*parts(method))
