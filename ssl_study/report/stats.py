"""Statistics of the results: means with t confidence intervals, the summary table, Holm's correction, the effective
rank of embeddings, and what each model cost in seconds. The plan's tests (contrasts, families, intervals with the
test images' sampling, the wording rule) are `ssl_study.report.analysis`."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its two-sided Student-t confidence interval (NaN half-width for fewer than 2 values)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half)


def t_band(values: Sequence[float]) -> tuple[float, float]:
    """The 95 % Student-t interval of the mean of ``values`` as (low, high): a figure's band over seeds, the interval
    every table of the study gives (seaborn's ``errorbar=t_band``; no bootstrap to draw)."""
    mean, half = mean_ci(values)
    return (mean, mean) if np.isnan(half) else (mean - half, mean + half)


#: the columns that say what a method is (`study.RESULT_COLUMNS`), carried into a summary where the results have them
IDENTITY = ("encoder", "use", "label")


def summary_table(results: pd.DataFrame, metric: str = "test_accuracy") -> pd.DataFrame:
    """Per method and label amount: mean of ``metric`` over seeds, its 95 % CI half-width, number of seeds (and the
    method's encoder, use and label, where the results have them)."""
    identity = [c for c in IDENTITY if c in results.columns]
    rows = []
    for (method, n, amount), group in results.groupby(["method", "n_labels", "amount"], sort=True):
        mean, half = mean_ci(group[metric])
        rows.append({"method": method, **group.iloc[0][identity].to_dict(), "amount": amount, "n_labels": n,
                     "mean": mean, "ci95": half, "seeds": len(group), "seconds": group["seconds"].mean()})
    return pd.DataFrame(rows)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values for testing several label amounts at once (NaN stays NaN).

    Testing 13 amounts at the 5 % level, about one in 20 true ties comes out "significant" by chance; a Holm-adjusted
    p-value below 0.05 keeps the chance of any false "significant" among them below 5 %.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[k]))
        adjusted[k] = running
    return adjusted


def cost_seconds(results: pd.DataFrame, pretext_seconds: dict[str, dict[int, float]],
                 head_from: dict[str, str] | None = None) -> pd.Series:
    """Training seconds each model of ``results`` cost in all: its own fit; plus, for a pre-trained method, the pretext
    run its seed's encoder came from (``pretext_seconds``: method -> seed -> seconds); plus, for a method whose head
    started from another method's fit of the same amount and seed (``head_from``: method -> that method), that fit
    too. (The probe's feature pass, a second or two, is inside its fit's seconds.)"""
    cost = results["seconds"].astype(float).copy()
    for method, by_seed in pretext_seconds.items():
        rows = results["method"] == method
        cost[rows] += results.loc[rows, "seed"].map(by_seed)
    if cost.isna().any():
        raise ValueError("a pre-trained run's seed has no pretext seconds")
    for method, source in (head_from or {}).items():
        rows = results["method"] == method
        own = results[results["method"] == source].set_index(["amount", "seed"])["seconds"]
        added = own.reindex(pd.MultiIndex.from_frame(results.loc[rows, ["amount", "seed"]])).to_numpy()
        if np.isnan(added).any():
            raise ValueError(f"some {method} runs have no {source} run of the same amount and seed")
        cost[rows] += added
    return cost


def effective_rank(features: np.ndarray) -> float:
    """exp of the entropy of the normalised singular values of the centred features (Roy & Vetterli, 2007): about
    how many directions the embeddings really use; near 1 for a collapsed encoder, at most the feature count."""
    singular = np.linalg.svd(features - features.mean(axis=0), compute_uv=False)
    p = singular / singular.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))
