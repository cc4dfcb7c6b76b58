"""What notebook 2 says about the supervised baseline's learning curve, filled from its summary table -- on any dataset
the design runs on, however few its amounts (a small dataset may have a single one, or none at half the largest)."""

from __future__ import annotations

import pandas as pd


def learning_curve_sentence(summary: pd.DataFrame) -> str:
    """The supervised CNN's mean accuracy at the smallest and the largest amount of ``summary`` (one row per amount:
    ``amount``, ``n_labels``, ``mean``, ``ci95``), what the amounts up to half the largest add and what the last
    doubling adds (where an amount lies at or below half the largest), and whether labels are worth most where they
    are scarce."""
    ordered = summary.sort_values("n_labels")
    first, last = ordered.iloc[0], ordered.iloc[-1]
    text = (f"**What it means.** Trained from random weights, the CNN reaches {first['mean']:.1%} (± "
            f"{100 * first['ci95']:.1f} points) with {first['amount']} ({first['n_labels']:,} labelled images)")
    if len(ordered) == 1:
        return text + ", the one amount this run trains at."
    text += f" and {last['mean']:.2%} with {last['amount']} ({last['n_labels']:,})."
    halves = ordered[ordered["n_labels"] <= last["n_labels"] / 2]
    if halves.empty or halves.iloc[-1]["amount"] == first["amount"]:
        return text
    half = halves.iloc[-1]
    low, high = 100 * (half["mean"] - first["mean"]), 100 * (last["mean"] - half["mean"])
    return (text + f" Going from {first['amount']} to {half['amount']} adds {low:+.1f} points; the last doubling, "
            f"from {half['amount']} to {last['amount']}, {high:+.2f}. "
            + ("Labels are worth most where they are scarce: that is where pre-training has room to help."
               if low > 5 * abs(high) else ""))
