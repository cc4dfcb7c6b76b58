"""Does the answer transfer? (issue 30) The test of the difference between one comparison's gain on two datasets --
Fashion-MNIST's and MNIST's -- from each dataset's own test (`analysis.analyse`: its mean gain and standard error,
the test images' term included), as the Fashion-MNIST plan states it before its run.

The two gains come from different images, splits, models and seeds: independent, so the difference's variance is the
sum of theirs, with Welch-Satterthwaite's degrees of freedom."""

from __future__ import annotations

import numpy as np


def transfer_test(first: dict, second: dict) -> dict:
    """``second``'s gain minus ``first``'s (each a test row: ``gain``, ``se``, ``pairs`` -- the seeds), its 95 %
    interval and two-sided p, and whether the two gains point the same way (``same_direction``: both above zero, or
    both below; None where either is exactly zero or unknown)."""
    from scipy import stats

    d = float(second["gain"] - first["gain"])
    v1, v2 = float(first["se"]) ** 2, float(second["se"]) ** 2
    n1, n2 = int(first["pairs"]), int(second["pairs"])
    if not (n1 >= 2 and n2 >= 2) or np.isnan(v1 + v2):
        return {"difference": d, "se": np.nan, "df": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                "same_direction": _same(first["gain"], second["gain"])}
    se = float(np.sqrt(v1 + v2))
    df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1)) if v1 + v2 > 0 else float(n1 + n2 - 2)
    t = stats.t.ppf(0.975, df)
    p = float(2 * stats.t.sf(abs(d) / se, df)) if se > 0 else (1.0 if d == 0 else 0.0)
    return {"difference": d, "se": se, "df": float(df), "ci_low": d - t * se, "ci_high": d + t * se, "p_value": p,
            "same_direction": _same(first["gain"], second["gain"])}


def _same(a: float, b: float) -> bool | None:
    if any(np.isnan(x) or x == 0 for x in (a, b)):
        return None
    return bool(np.sign(a) == np.sign(b))
