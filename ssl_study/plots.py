"""Figures: digits, pretext examples, accuracy against labels, gains, confusions, time to accuracy, curves.
Every method keeps one colour across the notebooks' figures (`method_colours`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .config import Profile




def savefig(fig, profile: Profile, name: str) -> Path:
    """Save a figure as PNG in the profile's figure folder and return its path."""
    path = profile.figures / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def plot_digits(images: np.ndarray, titles: Sequence[str], ncols: int = 10, size: float = 1.1):
    """A grid of digits with titles."""
    import matplotlib.pyplot as plt

    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(np.squeeze(image), cmap="gray_r", vmin=0, vmax=1 if image.dtype != np.uint8 else 255)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_pairs(view_a: np.ndarray, view_b: np.ndarray, target: np.ndarray, n: int = 8):
    """Example pairs of the pretext task: two rows per pair column, titled by the target."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, n, figsize=(n * 1.1, 2.6))
    for k in range(n):
        for row, view in enumerate((view_a, view_b)):
            axes[row, k].imshow(np.squeeze(view[k]), cmap="gray_r", vmin=0, vmax=1)
            axes[row, k].axis("off")
        axes[0, k].set_title("same (1)" if target[k] == 1 else "different (0)", fontsize=8)
    fig.tight_layout()
    return fig


def method_colours(methods) -> dict:
    """One colour per method, by the methods' sorted names, so that a method keeps its colour across figures."""
    import seaborn as sns

    methods = sorted(set(methods))
    return dict(zip(methods, sns.color_palette(n_colors=len(methods))))


def plot_accuracy_vs_labels(summary: pd.DataFrame, title: str, ax=None):
    """Mean test accuracy against labelled images (log axis), one line per method, with its 95 % CI band; on ``ax``
    (a panel of a larger figure) or a figure of its own."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.4))
    fig = ax.figure
    palette = method_colours(summary["method"].unique())
    for method, group in summary.groupby("method"):
        ax.plot(group["n_labels"], group["mean"], "o-", color=palette[method], label=method)
        band = group["ci95"].fillna(0)
        ax.fill_between(group["n_labels"], group["mean"] - band, group["mean"] + band, color=palette[method], alpha=0.2)
    ax.set_xscale("log")
    ax.set(xlabel="labelled training images (log scale)", ylabel="test accuracy", title=title)
    ax.legend(title="method (band: 95 % CI over seeds)")
    fig.tight_layout()
    return fig


def plot_gains(gains: pd.DataFrame):
    """Paired gain over the supervised baseline per label amount, with 95 % CIs, one series per method."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    methods = sorted(gains["method"].unique())
    palette = method_colours([*methods, "supervised"])
    for k, method in enumerate(methods):
        group, colour = gains[gains["method"] == method], palette[method]
        x = group["n_labels"] * (1.06 ** (k - (len(methods) - 1) / 2))  # side by side on the log axis
        err = np.vstack([group["gain"] - group["ci_low"], group["ci_high"] - group["gain"]])
        ax.errorbar(x, group["gain"], yerr=np.nan_to_num(err), fmt="o-", capsize=3, color=colour, label=method)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="labelled training images (log scale)", ylabel="gain over supervised (points)",
           title="Gain of pre-training (paired by seed), with 95 % CI")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusions(confusions: dict[str, dict[str, list]], amounts: Sequence[str]):
    """Confusion matrices (test set, summed over seeds) per method (rows) at the given amounts (columns)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    methods = list(confusions)
    fig, axes = plt.subplots(len(methods), len(amounts), figsize=(4.6 * len(amounts), 4.2 * len(methods)),
                             squeeze=False)
    for row, method in enumerate(methods):
        for col, amount in enumerate(amounts):
            runs = [np.asarray(c) for key, c in confusions[method].items() if key.rsplit("/", 1)[0] == amount]
            total = np.sum(runs, axis=0)
            share = total / total.sum(axis=1, keepdims=True)
            sns.heatmap(share, ax=axes[row, col], cmap="Blues", vmin=0, vmax=0.1, cbar=False, square=True,
                        annot=np.where(share >= 0.005, np.round(100 * share).astype(int).astype(str), ""), fmt="",
                        annot_kws={"fontsize": 7})
            axes[row, col].set(title=f"{method}, {amount}", xlabel="predicted", ylabel="true")
    fig.suptitle("Confusions in % of each true digit (diagonal off the colour scale)", y=1.0)
    fig.tight_layout()
    return fig


def plot_time_to_accuracy(results: pd.DataFrame, cost: pd.Series):
    """Mean test accuracy against the training seconds it cost (``cost``, one per row; log axis)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    means = results.assign(total_seconds=cost).groupby(["method", "n_labels"], as_index=False)[
        ["total_seconds", "test_accuracy"]].mean()
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    sns.lineplot(data=means, x="total_seconds", y="test_accuracy", hue="method", style="method", markers=True,
                 dashes=False, sort=False, ax=ax)
    ax.set_xscale("log")
    ax.set(xlabel="training seconds per model, pre-training included (log scale)", ylabel="mean test accuracy",
           title="Time to accuracy (points: label amounts)")
    fig.tight_layout()
    return fig


def plot_history(history: dict, metrics: Sequence[str], title: str):
    """Training curves: one panel per metric, training and validation."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", label="held-out")
        ax.set(xlabel="epoch", ylabel=metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
