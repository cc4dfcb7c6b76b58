"""How notebook 4 shows what a pretext unit computed, looked up by the unit's name: its example figure (drawn from
the plain data of `Pretext.examples`) and its diagnostics (`Pretext.analyse`) as a table or a
figure (the sentence on what they say: `ssl_study.report.reasons`). A unit without an entry here shows nothing
extra."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..config import get_dataset
from .images import plot_digits, plot_pairs
from .words import in_dataset_words


def show_examples(pretext, images: np.ndarray, seed: int):
    """The figure of what ``pretext`` learns from, for a few ``images`` (None: the unit has no examples)."""
    example = pretext.examples(images, seed)
    if example is None:
        return None
    if example["kind"] == "pairs":
        return plot_pairs(example["a"], example["b"], example["target"], n=len(example["target"]))
    return plot_digits(example["images"], example["titles"], ncols=example["ncols"])


def _siamese_table(analysis: dict):
    table = pd.DataFrame(analysis["pair errors"], index=["error rate"])  # its keys say "digit": the dataset's word
    return table.rename(columns=lambda c: in_dataset_words(c, get_dataset())).style.format("{:.1%}")


def _rotation_table(analysis: dict):
    table = pd.DataFrame(analysis["rotation accuracy per digit"], index=["rotation accuracy"])
    names = get_dataset().class_names  # the classes by their names ("0", ..., "9"; "T-shirt/top", ...)
    return table.rename(columns=lambda c: names[int(c)] if str(c).isdigit() else c).style.format("{:.1%}")


def _autoencoder_figure(analysis: dict):
    shown = np.concatenate([analysis["inputs"], analysis["reconstructions"], analysis["targets"]])
    n = len(analysis["inputs"])
    return plot_digits(shown, ["input"] * n + ["reconstruction"] * n + ["clean"] * n, ncols=n)


#: a pretext's diagnostics as notebook 4 shows them: a styled table or a figure
ANALYSIS_VIEWS: dict[str, Callable] = {"siamese": _siamese_table, "rotation": _rotation_table,
                                       "autoencoder": _autoencoder_figure}


def show_analysis(name: str, analysis: dict):
    """What the pretext ``name``'s `Pretext.analyse` found, as notebook 4 shows it (None: nothing to show)."""
    view = ANALYSIS_VIEWS.get(name)
    return view(analysis) if view and analysis else None
