"""Figures of images: a grid of digits with titles, and the pairs of a Siamese batch (what a pretext task learns
from, drawn from the plain data of `Pretext.examples`; an autoencoder's reconstructions)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def plot_digits(images: np.ndarray, titles: Sequence[str], ncols: int = 10, size: float = 1.1):
    """A grid of digits with titles."""
    import matplotlib.pyplot as plt

    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False,
                             layout="constrained")  # room for a suptitle added later
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0, vmax=1 if image.dtype != np.uint8 else 255)
        ax.set_title(title, fontsize=8)
    return fig


def plot_pairs(view_a: np.ndarray, view_b: np.ndarray, target: np.ndarray, n: int = 8):
    """Example pairs of the pretext task: two rows per pair column, titled by the target."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, n, figsize=(n * 1.1, 2.6), layout="constrained")  # room for a suptitle added later
    for k in range(n):
        for row, view in enumerate((view_a, view_b)):
            axes[row, k].imshow(np.squeeze(view[k]), cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].axis("off")
        axes[0, k].set_title("same (1)" if target[k] == 1 else "different (0)", fontsize=8)
    return fig
