"""Statistics of the results: means with t confidence intervals, paired gains with paired t-tests and Holm's
correction (`compare`: one family per table, and the word for each gain), rankings, the summary table, the effective
rank of embeddings, and what each model cost in seconds."""

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


def equivalence_p(diff: np.ndarray, margin: float) -> float:
    """Two one-sided t-tests (TOST) of ``|mean of diff| < margin``: the larger of the p-values of "mean <= -margin" and
    "mean >= +margin". Below 0.05 exactly when the 90 % CI of the mean lies inside (-margin, +margin)."""
    from scipy import stats

    diff = np.asarray(diff, dtype=float)
    if len(diff) < 2:
        return float("nan")
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    if se == 0:
        return 0.0 if abs(diff.mean()) < margin else 1.0
    lower = stats.t.sf((diff.mean() + margin) / se, len(diff) - 1)  # H0: mean <= -margin
    upper = stats.t.cdf((diff.mean() - margin) / se, len(diff) - 1)  # H0: mean >= +margin
    return float(max(lower, upper))


def paired_gain(results: pd.DataFrame, baseline: str, other: str, metric: str = "test_accuracy",
                margin: float = float("nan")) -> pd.DataFrame:
    """Per label amount: mean paired difference ``other - baseline`` (same seed, same subset) in percentage points,
    its 95 % CI, the paired t-test's p-value, whether the CI excludes zero, and the equivalence test's p-value
    (`equivalence_p`, within +-``margin`` points; NaN without a margin)."""
    from scipy import stats

    wide = results.pivot_table(index=["n_labels", "amount", "seed"], columns="method", values=metric)
    rows = []
    for (n, amount), group in wide.groupby(level=["n_labels", "amount"], sort=True):
        group = group[[baseline, other]].dropna()
        diff = 100 * (group[other] - group[baseline]).to_numpy()
        mean, half = mean_ci(diff)
        p = float(stats.ttest_rel(group[other], group[baseline]).pvalue) if len(diff) > 1 else float("nan")
        rows.append({"amount": amount, "n_labels": n, "method": other, "gain": mean, "ci_low": mean - half,
                     "ci_high": mean + half, "p_value": p, "pairs": len(diff),
                     "significant": bool(len(diff) > 1 and (mean - half > 0 or mean + half < 0)),
                     "p_equivalence": equivalence_p(diff, margin) if not np.isnan(margin) else float("nan")})
    gains = pd.DataFrame(rows)
    gains["p_holm"] = holm(gains["p_value"].to_numpy())
    return gains


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


def gain_cell(row) -> str:
    """A gain as a table cell: "+1.20 [+0.40, +2.00] *" (``*``: significant after Holm; ``≈``: equivalent after Holm;
    a single pair: the difference alone)."""
    if np.isnan(row["ci_low"]):
        return f"{row['gain']:+.2f}"
    mark = " *" if row["significant"] else " ≈" if bool(row.get("equivalent", False)) else ""
    return f"{row['gain']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]{mark}"


def gain_grid(gains: pd.DataFrame, label=str) -> pd.DataFrame:
    """Gains of `compare` as a grid of `gain_cell` texts: label amounts (rows, smallest first) x methods (named by
    ``label``, e.g. `methods.method_label`); "–" where a method was not compared at an amount."""
    grid = gains.assign(cell=gains.apply(gain_cell, axis=1)).pivot(index=["n_labels", "amount"], columns="method",
                                                                   values="cell")
    grid.index = grid.index.get_level_values("amount")
    return grid.fillna("–").rename(columns=label).rename_axis(columns=None)


def summary_markdown(summary: pd.DataFrame, gains: pd.DataFrame, baseline: str, label=str) -> str:
    """One table: mean test accuracy +- 95 % CI per method and amount, and each method's gain over ``baseline``;
    methods named by ``label`` (e.g. `methods.method_label`)."""
    def cell(mean, half):
        return f"{mean:.2%}" + ("" if np.isnan(half) else f" ± {100 * half:.2f}")

    table = summary.assign(text=[cell(m, h) for m, h in zip(summary["mean"], summary["ci95"])])
    shown = table.pivot(index=["n_labels", "amount"], columns="method", values="text")
    shown = shown[[baseline] + [m for m in shown.columns if m != baseline]]
    for method, group in gains.groupby("method"):
        text = group.apply(gain_cell, axis=1).tolist()
        shown[f"gain {label(method)} (points)"] = pd.Series(text, index=pd.MultiIndex.from_frame(
            group[["n_labels", "amount"]]))
    shown = shown.rename(columns={m: label(m) for m in summary["method"].unique()})
    shown = shown.reset_index().rename(columns={"n_labels": "labelled images", "amount": "amount"})
    shown["labelled images"] = shown["labelled images"].map("{:,}".format)
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def per_class_accuracy(confusions: dict[str, list]) -> pd.Series:
    """Accuracy per digit from confusion matrices summed over runs."""
    total = np.sum([np.asarray(c) for c in confusions.values()], axis=0)
    return pd.Series(np.diag(total) / total.sum(axis=1), index=pd.RangeIndex(10, name="digit"))


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


def compare(results: pd.DataFrame, baseline: str, methods, amounts=None, margin: float = float("nan"),
            metric: str = "test_accuracy") -> pd.DataFrame:
    """Paired gains of each of ``methods`` over ``baseline`` (`paired_gain`) at the amounts both have (or those in
    ``amounts``), as one family: ``p_holm`` adjusts every p-value for all the tests of the table together, and
    ``significant`` means a Holm-adjusted p below 0.05 -- the study's rule for calling a difference significant.
    With a ``margin`` (points), ``equivalent`` means the same of the equivalence tests (`equivalence_p`), adjusted
    as their own family."""
    frames = []
    for method in methods:
        shared = results[results["method"].isin([baseline, method])]
        if amounts is not None:
            shared = shared[shared["amount"].isin(amounts)]
        counts = shared.groupby("amount")["method"].nunique()
        shared = shared[shared["amount"].isin(counts[counts == 2].index)]
        if len(shared):
            frames.append(paired_gain(shared, baseline, method, metric, margin).assign(baseline=baseline))
    if not frames:
        return pd.DataFrame(columns=["amount", "n_labels", "method", "gain", "ci_low", "ci_high", "p_value", "pairs",
                                     "significant", "p_equivalence", "p_holm", "baseline", "p_equivalence_holm",
                                     "equivalent"])
    gains = pd.concat(frames, ignore_index=True)
    gains["p_holm"] = holm(gains["p_value"].to_numpy())
    gains["significant"] = gains["p_holm"] < 0.05
    gains["p_equivalence_holm"] = holm(gains["p_equivalence"].to_numpy())
    gains["equivalent"] = gains["p_equivalence_holm"] < 0.05
    return gains


def direction(row) -> str:
    """In words, a row of `compare`: ``helps`` / ``hurts`` (significant after Holm), ``equivalent`` (the equivalence
    test significant after Holm: the difference is within the margin), or ``no detectable difference``."""
    if row["significant"]:
        return "helps" if row["gain"] > 0 else "hurts"
    if row.get("equivalent", False):
        return "equivalent"
    return "no detectable difference"


def ranking(summary: pd.DataFrame, methods, amounts, label=str) -> pd.DataFrame:
    """Per label amount (rows, smallest first), ``methods`` ordered by mean test accuracy: "name 93.1%" cells (named by
    ``label``, e.g. `methods.method_label`); an amount with fewer of the methods ends in blank cells."""
    rows = {}
    for amount, group in summary[summary["method"].isin(methods) & summary["amount"].isin(amounts)].groupby(
            "amount", sort=False):
        ordered = group.sort_values("mean", ascending=False)
        rows[(group["n_labels"].iloc[0], amount)] = [f"{label(m)} {v:.1%}" for m, v in zip(ordered["method"],
                                                                                          ordered["mean"])]
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index().fillna("")  # blank: fewer methods there
    table.index = [a for _, a in table.index]
    table.columns = [f"rank {k + 1}" for k in range(table.shape[1])]
    return table


def effective_rank(features: np.ndarray) -> float:
    """exp of the entropy of the normalised singular values of the centred features (Roy & Vetterli, 2007): about
    how many directions the embeddings really use; near 1 for a collapsed encoder, at most the feature count."""
    singular = np.linalg.svd(features - features.mean(axis=0), compute_uv=False)
    p = singular / singular.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))
