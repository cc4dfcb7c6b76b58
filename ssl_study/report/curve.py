"""The addendum's curve (ANALYSIS_PLAN_ADDENDUM.md, section 5): the gain of the CNN trained from the Siamese encoder
over the CNN trained from scratch, each with its settings tuned where labels are scarce, from 100 to 2,800 labels; and
the **crossover**, the smallest amount of the curve whose gain's 95 % interval includes zero, with its uncertainty from
a bootstrap over the seeds (the test images' shared term of each amount held at its value: `analysis.gain_test`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import Contrast, Correctness, gain_test, margin, paired_gains

BOOTSTRAP_SEEDS = 2000  #: resamplings of the seeds for the crossover's uncertainty


def crossover(results: pd.DataFrame, correct: Correctness | None, contrast: Contrast, amounts: list[str],
              seed: int = 0) -> dict:
    """The crossover of ``contrast`` over ``amounts`` (smallest first): ``amount``, the first whose own 95 % interval
    (every seed it has, as the curve's figure shows it) includes zero (None: every interval excludes zero, the
    crossover lies beyond the curve); ``low`` and ``high``, the 2.5 % and 97.5 % points of the crossovers of the
    bootstrap, which resamples the seeds every amount has (``seeds``: how many), jointly across the amounts (None:
    beyond the curve); ``shares``: amount -> the share of the resamplings whose crossover it is ("beyond" for the
    rest)."""
    from scipy import stats

    gains, image_var, includes = [], [], []
    for amount in amounts:
        paired = paired_gains(results, correct, contrast, (amount,))
        if paired is None:
            raise ValueError(f"the curve has no paired fits at {amount}")
        test = gain_test(paired["per_seed"], paired["per_image"], margin((amount,)), contrast.full_covariance)
        image_var.append(test["image_share"] * test["se"] ** 2)  # the test images' term, as the test computed it
        includes.append(test["ci_low"] <= 0 <= test["ci_high"])
        gains.append(pd.Series(paired["per_seed"], index=paired["seeds"]))
    table = pd.concat(gains, axis=1).dropna()  # seeds x amounts, the seeds every amount has
    g, n = table.to_numpy().T, len(table)
    t = stats.t.ppf(0.975, n - 1)
    draws = np.random.default_rng(seed).integers(0, n, size=(BOOTSTRAP_SEEDS, n))
    found = np.array([_first_including_zero(g[:, idx], image_var, t) for idx in draws])
    names = [*amounts, None]
    low, high = np.percentile(found, [2.5, 97.5], method="nearest")
    shares = {name if name else "beyond": float(np.mean(found == i)) for i, name in enumerate(names)}
    point = int(np.argmax(includes)) if any(includes) else len(amounts)
    return {"amount": names[point], "low": names[int(low)], "high": names[int(high)], "shares": shares, "seeds": n}


def _first_including_zero(gains: np.ndarray, image_var: list[float], t: float) -> int:
    """The index of the first amount (row of ``gains``: amounts x seeds) whose 95 % interval includes zero; the number
    of amounts where none does."""
    n = gains.shape[1]
    se = np.sqrt(gains.var(axis=1, ddof=1) / n + np.asarray(image_var))
    includes = np.abs(gains.mean(axis=1)) <= t * se
    return int(np.argmax(includes)) if includes.any() else len(gains)
