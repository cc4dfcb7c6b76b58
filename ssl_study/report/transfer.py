"""Does the answer transfer? (issue 30) The test of the difference between one comparison's gain on two datasets --
Fashion-MNIST's and MNIST's -- from each dataset's own test (`analysis.analyse`: its mean gain and standard error,
the test images' term included), as the Fashion-MNIST plan states it before its run.

The two gains come from different images, splits, models and seeds: independent, so the difference's variance is the
sum of theirs, with Welch-Satterthwaite's degrees of freedom."""

from __future__ import annotations

import numpy as np
import pandas as pd


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


#: the comparisons asked on both datasets (the Fashion-MNIST plan's transfer question, its section 5): family and,
#: where the family holds several methods, which one -- at each primary amount the Siamese start against training from
#: scratch, each tuned (MNIST's addendum), and with one recipe for both (the first run); the best other pretext and the
#: semi-supervised method, each against training from scratch
TRANSFERRED = ("addendum primary", "primary", "other pretexts", "semi-supervised")


def transfer_table(first: pd.DataFrame, second: pd.DataFrame, families=TRANSFERRED) -> pd.DataFrame:
    """Per comparison run on both datasets (``first``, ``second``: each dataset's tests, `analysis.analyse`; the first
    row of each family and amount -- the best other pretext comes first in its family): both gains, the difference
    (`transfer_test`) with its interval and p, Holm's correction over the rows (one family: the transfer question),
    and whether the two gains point the same way."""
    from .stats import holm

    rows = []
    for family in families:
        a = first[first["family"] == family].drop_duplicates("amount").set_index("amount")
        b = second[second["family"] == family].drop_duplicates("amount").set_index("amount")
        for amount in [x for x in a.index if x in b.index]:
            if a.loc[amount, "method"] != b.loc[amount, "method"]:
                continue  # another method won the selection there: not the same comparison
            found = transfer_test(a.loc[amount], b.loc[amount])
            rows.append({"family": family, "question": a.loc[amount, "question"], "amount": amount,
                         "first_gain": a.loc[amount, "gain"], "second_gain": b.loc[amount, "gain"],
                         "first_pairs": int(a.loc[amount, "pairs"]), "second_pairs": int(b.loc[amount, "pairs"]),
                         **found})
    table = pd.DataFrame(rows)
    if len(table):
        table["p_holm"] = holm(table["p_value"].to_numpy())
    return table


def transfer_sentences(table: pd.DataFrame, first_name: str, second_name: str) -> list[str]:
    """Whether the answer transfers, one sentence per comparison: both gains, the same direction or not, and whether
    their difference survives Holm's correction over the transfer question's comparisons (else the interval says how
    large a difference the data allow)."""
    from .words import amount_words, count, pts, sentence

    said = []
    for _, row in table.iterrows():
        way = {True: "the same direction", False: "opposite directions", None: "no direction on one of them"}[
            row["same_direction"]]
        if row["p_holm"] < 0.05:
            size = (f"{second_name}'s gain is {'larger' if row['difference'] > 0 else 'smaller'} by "
                    f"{abs(row['difference']):.2f} points (95 % interval [{pts(row['ci_low'])}, "
                    f"{pts(row['ci_high'])}], Holm-corrected over {count(len(table), 'comparison')})")
        elif np.isnan(row["p_value"]):
            size = "too few seeds to test their difference"
        else:
            size = (f"the data cannot tell the two gains apart (difference {pts(row['difference'])} points, 95 % "
                    f"interval [{pts(row['ci_low'])}, {pts(row['ci_high'])}])")
        said.append(sentence(f"{row['question']} at {amount_words(row['amount'])}: {pts(row['first_gain'])} points "
                             f"on {first_name} and {pts(row['second_gain'])} on {second_name}, {way}; {size}"))
    return said
