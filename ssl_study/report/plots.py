"""Figures: digits, pretext examples, accuracy against labels, gains, confusions, time to accuracy, curves.
Every method keeps one colour, line style and label across the notebooks' figures (`ssl_study.study.methods.style`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..config import get_dataset
from ..study.methods import method_label
from .images import plot_digits, plot_pairs  # noqa: F401 (figures of images: there)
from .styles import method_style, style

#: Keras' metric names, shown to a reader in words
METRIC_LABELS = {"binary_accuracy": "accuracy (%)", "sparse_categorical_accuracy": "accuracy (%)",
                 "accuracy": "accuracy (%)", "mse": "error (mean squared)", "loss": "loss"}
_CODE_NAME = re.compile(r"[a-z]+(_[a-z0-9]+)+|mse|on|value")


def score_text(value: float, metric: str) -> str:
    """A pretext task's held-out score in words: an accuracy in %, an error with its name ("0.0123 mean squared
    error")."""
    if "accuracy" in metric:
        return f"{value:.1%} accuracy"
    return f"{value:.4f} {METRIC_LABELS.get(metric, metric).replace('error (mean squared)', 'mean squared error')}"


def code_names(fig) -> list[str]:
    """The axis labels, titles and legend titles and entries of ``fig`` that are code names (``siamese_finetune``,
    ``binary_accuracy``, ``mse``, a legend titled ``on``) rather than words."""
    texts = []
    for ax in fig.axes:
        texts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
    for legend in [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + fig.legends:
        texts += [legend.get_title().get_text(), *(t.get_text() for t in legend.get_texts())]
    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    return [t for t in texts if t and _CODE_NAME.fullmatch(t.strip())]


#: the smallest text of a figure that a page shows at its width (the index: 60 em, 960 px, for a 12-inch figure):
#: 10 points there are 11 pixels
READABLE = 10


def savefig(fig, profile, name: str) -> Path:
    """Save a figure as PNG in the profile's figure folder and return its path; refuses a figure that labels anything
    with a code name (`code_names`)."""
    raw = code_names(fig)
    if raw:
        raise ValueError(f"figure {name} labels with code names {raw}: give them words (plots.METRIC_LABELS, "
                         "methods.method_label)")
    path = profile.figures / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def _panels(n_labels, one_panel: bool = False) -> tuple[list, list]:
    """The label amounts of the two panels of an accuracy or gain figure: the low-label regime (up to 10 % of the
    labelled set, on a log axis) and the assignment's amounts (10 % to 100 %, on a linear axis); 10 % is in both. One
    panel (the second list empty, a log axis) where either side would hold fewer than two amounts, or where asked
    (``one_panel``: the addendum's curve, all of it in the low-label regime)."""
    n = sorted(set(n_labels))
    if one_panel:
        return n, []
    split = n[-1] / 10
    low, high = [k for k in n if k <= split * 1.001], [k for k in n if k >= split * 0.999]
    return (low, high) if len(low) >= 2 and len(high) >= 2 else (n, [])


def _amount_axis(ax, n_labels, amounts, log: bool) -> None:
    """One tick per label amount, named ("10/class" over its 100 images, "1%", ..., "100%"); log or linear."""
    from matplotlib.ticker import NullLocator

    ticks = dict(zip(n_labels, amounts))
    if log:
        ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [f"{ticks[n]}\n{int(n):,}" if n < 2000 else ticks[n] for n in sorted(ticks)],
                  fontsize=READABLE)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("labelled training images" + (" (log scale)" if log else ""))


def _percent_axis(ax, axis: str = "y", decimals: int | None = None) -> None:
    """Tick labels in percent (the axis holds fractions), with as many decimals as its ticks need to read exactly."""
    from matplotlib.ticker import PercentFormatter

    if decimals is None:
        ticks = 100 * np.asarray(getattr(ax, f"get_{axis}ticks")())
        decimals = next((d for d in range(4) if np.allclose(np.round(ticks, d), ticks, atol=1e-6)), 3)
    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0, decimals=decimals))


percent_axis = _percent_axis  #: for the notebooks' own figures


def _two_axes(axes, n_labels, width: float = 12, height: float = 4.2, one_panel: bool = False):
    """The axes of an accuracy or gain figure: ``axes`` (a pair, from a larger figure) or a new figure's; with the
    amounts of each (`_panels`). A second axis that is not needed is hidden."""
    import matplotlib.pyplot as plt

    low, high = _panels(n_labels, one_panel)
    if axes is None:
        if high:
            fig, axes = plt.subplots(1, 2, figsize=(width, height), gridspec_kw={"width_ratios": [1, 1.4]})
        else:
            fig, ax = plt.subplots(figsize=(width * 0.6, height))
            axes = [ax, None]
    elif not high:
        axes[1].set_visible(False)
    return axes[0].figure, [(axes[0], low, True)] + ([(axes[1], high, False)] if high else [])


def _finish(fig, panels, ylabel: str, title: str, axes):
    """Label the panels of `_two_axes` (y label, legend, the two panels' names, the title) and lay out a figure of
    its own."""
    panels[0][0].set(ylabel=ylabel)
    entries = {}  # every line of every panel once (a method shown only where labels are few is in the legend too)
    for ax, _, _ in panels:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    rows = -(-len(entries) // 2)  # the legend under the panels, two columns: the figure keeps its width
    fig.legend(entries.values(), entries.keys(), fontsize=READABLE, loc="lower center", ncols=2, frameon=False)
    if len(panels) == 2:
        panels[0][0].set_title("the low-label regime", fontsize=READABLE + 1)
        panels[1][0].set_title("the assignment's amounts", fontsize=READABLE + 1)
    fig.suptitle(title)
    if axes is None:
        fig.tight_layout(rect=(0, 0.045 * rows, 1, 1))
    return fig


def isolated(values: pd.Series) -> np.ndarray:
    """Where ``values`` (one method's, at every amount of a panel) has a value but neither neighbour has one: a band
    through such a point would have no width."""
    shown = values.notna().to_numpy()
    before, after = np.r_[False, shown[:-1]], np.r_[shown[1:], False]
    return shown & ~before & ~after


def _intervals(ax, x: pd.Series, mean: pd.Series, half: pd.Series, colour) -> bool:
    """A method's 95 % intervals: a band along its line where it has neighbouring amounts, an error bar with caps at
    an amount that stands alone (`isolated`); none where there is no interval (one seed). Whether it drew a bar."""
    alone = isolated(mean)
    band = half.fillna(0).where(~alone)
    ax.fill_between(x, mean - band, mean + band, color=colour, alpha=0.15)
    bars = alone & half.notna().to_numpy()
    if bars.any():
        ax.errorbar(x[bars], mean[bars], yerr=half[bars], fmt="none", ecolor=colour, elinewidth=1.5, capsize=5)
    return bool(bars.any())


def plot_accuracy_vs_labels(summary: pd.DataFrame, title: str, axes=None, one_panel: bool = False):
    """Mean test accuracy (percent) against labelled images, one line per method in its own style (`method_style`),
    with its 95 % CI band (an error bar with caps where a method has an amount alone: `_intervals`): two panels, each
    with its own accuracy scale, so that every amount is readable (`_panels`: up to 10 % on a log axis, then the
    assignment's 10 %-100 % on a linear one); on ``axes`` (a pair of panels of a larger figure) or a figure of its
    own."""
    fig, panels = _two_axes(axes, summary["n_labels"], one_panel=one_panel)
    bars = False
    for ax, shown, log in panels:
        part = summary[summary["n_labels"].isin(shown)]
        every = np.sort(part["n_labels"].unique())
        for method, group in part.groupby("method"):
            # every amount of the panel, NaN where the method has none: its line breaks there instead of jumping
            group = group.set_index("n_labels")[["mean", "ci95"]].reindex(every).reset_index()
            style = method_style(method)
            ax.plot(group["n_labels"], group["mean"], ms=4, **style)
            bars |= _intervals(ax, group["n_labels"], group["mean"], group["ci95"], style["color"])
        amounts = part.drop_duplicates("n_labels")
        _amount_axis(ax, amounts["n_labels"], amounts["amount"], log)
        _percent_axis(ax)
    shown = "bands and bars" if bars else "bands"
    return _finish(fig, panels, "test accuracy (%)", f"{title} ({shown}: 95 % intervals over seeds)" if title else "",
                   axes)


def plot_gains(gains: pd.DataFrame, title: str = "Gain over supervised (paired by seed), with 95 % CI", axes=None,
               one_panel: bool = False):
    """Paired gain over the baseline per label amount, with 95 % CIs, one series per method in its own style, on the
    two panels of `plot_accuracy_vs_labels` (series side by side within an amount); where ``gains`` has a ``margin``
    column (points), the band of equivalence (±margin at each amount) shaded behind."""
    fig, panels = _two_axes(axes, gains["n_labels"], one_panel=one_panel)
    methods = sorted(gains["method"].unique())
    for ax, shown, log in panels:
        part = gains[gains["n_labels"].isin(shown)]
        every = np.sort(part["n_labels"].unique())
        for k, method in enumerate(methods):  # NaN where a method has no gain: its line breaks there
            group = part[part["method"] == method].set_index("n_labels")[["gain", "ci_low", "ci_high"]].reindex(
                every).reset_index()
            offset = k - (len(methods) - 1) / 2
            x = group["n_labels"] * 1.05 ** offset if log else group["n_labels"] + 250 * offset
            err = np.vstack([group["gain"] - group["ci_low"], group["ci_high"] - group["gain"]])
            ax.errorbar(x, group["gain"], yerr=np.nan_to_num(err), capsize=3, ms=4, **method_style(method))
        ax.axhline(0, color="black", lw=0.8)
        amounts = part.drop_duplicates("n_labels").sort_values("n_labels")
        marked = amounts.dropna(subset=["margin"]) if "margin" in amounts else amounts.iloc[:0]
        if len(marked):  # a descriptive gain has no margin: no band, and no legend entry for one
            x, margin = marked["n_labels"].to_numpy(float), marked["margin"].to_numpy(float)
            if len(x) == 1:  # one amount: a step of its own width around it, not a band of no width
                x, margin = (x * [0.9, 1.1] if log else x + [-500, 500]), np.repeat(margin, 2)
            ax.fill_between(x, -margin, margin, step="mid", color="0.85", zorder=0,
                            label="equivalence margin" if ax is panels[-1][0] else None)
        _amount_axis(ax, amounts["n_labels"], amounts["amount"], log)
    return _finish(fig, panels, "gain in test accuracy (points)", title, axes)


def plot_confusions(confusions: dict[str, dict[str, list]], amounts: Sequence[str]):
    """Confusion matrices (test set, summed over seeds) per method (rows) at the given amounts (columns): each cell
    in % of its true class, off-diagonal cells on a colour scale up to 5 % (the diagonal is far above it), numbers
    from 1 % up, one colour bar."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    methods, noun = list(confusions), get_dataset().noun  # "digit", "garment class"
    fig, axes = plt.subplots(len(methods), len(amounts), figsize=(3.9 * len(amounts) + 1.0, 3.5 * len(methods)),
                             squeeze=False, layout="constrained")
    for row, method in enumerate(methods):
        for col, amount in enumerate(amounts):
            runs = [np.asarray(c) for key, c in confusions[method].items() if key.rsplit("/", 1)[0] == amount]
            total = np.sum(runs, axis=0)
            share = 100 * total / total.sum(axis=1, keepdims=True)
            off = np.where(np.eye(len(share), dtype=bool), np.nan, share)
            annot = np.where(share >= 1, np.round(share).astype(int).astype(str), "")
            np.fill_diagonal(annot, "")
            sns.heatmap(off, ax=axes[row, col], cmap="Reds", vmin=0, vmax=5, square=True, annot=annot, fmt="",
                        annot_kws={"fontsize": 8}, cbar=False, linewidths=0.3, linecolor="#eeeeee")
            for d in range(len(share)):  # the diagonal: its number only, on white
                axes[row, col].text(d + 0.5, d + 0.5, f"{share[d, d]:.0f}", ha="center", va="center", fontsize=7,
                                    color="#1f77b4", weight="bold")
            axes[row, col].set_title(f"{method_label(method)}, {amount}", fontsize=11)
            axes[row, col].set(xlabel=f"predicted {noun}", ylabel=f"true {noun}")
    fig.colorbar(axes[0, 0].collections[0], ax=axes, shrink=0.5, label=f"% of the true {noun} (off the diagonal)")
    fig.suptitle(f"Test-set confusions, summed over seeds, in % of each true {noun} (blue: correct)")
    return fig


def plot_time_to_accuracy(results: pd.DataFrame, cost: pd.Series):
    """Mean test accuracy against the training seconds it cost (``cost``, one per row; log axis): one point per
    method and label amount, each marked with its amount, no lines (a smaller amount can cost more: small subsets get
    more passes)."""
    import matplotlib.pyplot as plt

    means = results.assign(total_seconds=cost).groupby(["method", "n_labels", "amount"], as_index=False)[
        ["total_seconds", "test_accuracy"]].mean()
    fig, ax = plt.subplots(figsize=(9, 4.0))
    for method, group in means.groupby("method"):
        style = {k: v for k, v in method_style(method).items() if k != "linestyle"}
        ax.scatter(group["total_seconds"], group["test_accuracy"], s=28, alpha=0.85, **style)
        for x, y, amount in zip(group["total_seconds"], group["test_accuracy"], group["amount"]):
            ax.annotate(amount, (x, y), xytext=(4, -3), textcoords="offset points", fontsize=6, color="0.35")
    ax.set_xscale("log")
    _percent_axis(ax)
    ax.set(xlabel="training seconds per model, pre-training included (log scale)", ylabel="mean test accuracy",
           title="Time to accuracy (one point per label amount)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_history(history: dict, metrics: Sequence[str], title: str):
    """Training curves: one panel per metric, training and validation."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", ms=3, label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", ms=3, label="held-out")
        if "accuracy" in metric:
            _percent_axis(ax)
        ax.set(xlabel="epoch", ylabel=METRIC_LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sweep(summary: pd.DataFrame, title: str = "Accuracy against the unlabelled images pre-trained on"):
    """Notebook 4's sweep (`conclusion.sweep_summary`): one panel per label amount, mean test accuracy (95 % CI over
    seeds, where there are two or more) against the number of unlabelled images of the pretext run (log axis), one
    line per pretext and use."""
    import matplotlib.pyplot as plt

    amounts = summary.sort_values("n_labels")["amount"].unique()
    fig, axes = plt.subplots(1, len(amounts), figsize=(4.6 * len(amounts), 4.2), squeeze=False, layout="constrained")
    for ax, amount in zip(axes[0], amounts):
        for (pretext, use), line in summary[summary["amount"] == amount].groupby(["pretext", "use"], sort=False):
            line = line.sort_values("unlabelled")
            shown = style(pretext, use)
            ax.errorbar(line["unlabelled"], line["mean"], yerr=line["ci95"].fillna(0), capsize=3,
                        color=shown["color"], linestyle=shown["linestyle"], marker=shown["marker"],
                        label=shown["label"])
        ax.set_xscale("log")
        images = sorted(summary["unlabelled"].unique())
        ax.set_xticks(images, [f"{n:,}" for n in images])
        ax.minorticks_off()
        ax.set(xlabel="unlabelled images of the pretext run", title=f"{amount} of the labels"
               if amount.endswith("%") else f"{amount.split('/')[0]} labels per class")
        _percent_axis(ax)
    seeds = int(summary["seeds"].min())
    axes[0, 0].set_ylabel("test accuracy (%, mean and 95 % CI)" if seeds > 1 else "test accuracy (%, one seed)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=9)
    fig.suptitle(title)
    return fig
