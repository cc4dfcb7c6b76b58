"""The analysis plan (ANALYSIS_PLAN.md) as code: its contrasts, families, margins, intervals and wording rule.

Every confirmatory statement of notebook 6 and of the answer comes from `analyse`: one row per test, with the gain
(paired, in percentage points), its 95 % interval, the p-values (Holm-corrected within the test's family) and the
verdict the wording rule allows. Nothing here reads the test set again: it works on the fits' results and on which
test images each fit classified correctly (``correct``), so that the intervals include the sampling of the test images
as well as the spread over seeds:

    variance of a mean gain = (variance of the per-seed gains) / seeds + (the part of the test images' sampling error
                              that all seeds share)

(the test images are the same for every seed, so the part of their sampling error that the seeds share does not
average out over seeds, and the spread over seeds cannot show it; each seed's own share of it is already in that
spread). The shared part comes from a bootstrap of the test images with the seeds held fixed: the variance of the
seed-mean gain under resampling, less the seeds' own resampling variances divided by the seeds (`gain_test`). Tests
and intervals use Student's t with seeds - 1 degrees of freedom on that standard error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import ASSIGNMENT_AMOUNTS, HEADLINE_PRETEXT, ROOT, SCALE_CONTROL, SCHEDULE_AMOUNTS, choices
from ..study.ids import method_id
from ..study.methods import BASELINE, HEADLINE_LABEL, encoder_label, method_label
from .words import ALPHA, DESCRIPTIVE  # DESCRIPTIVE: the family of the comparisons shown, never tested
from .stats import holm

MARGIN_SHARE = 0.10  #: the margin of equivalence: this share of the supervised baseline's errors at the amount
#: the supervised baseline's test error (%) per amount in the exploratory run (artefacts/exploratory/summary.csv),
#: which fixes the margins before the confirmatory run (ANALYSIS_PLAN.md, section 6; tests/test_analysis.py checks
#: these against that file)
EXPLORATORY_ERRORS = {"10/class": 9.55, "1%": 5.28, "10%": 2.23, "20%": 1.60, "30%": 1.32, "40%": 1.22, "50%": 1.20,
                      "60%": 1.10, "70%": 1.14, "80%": 1.15, "90%": 1.11, "100%": 1.06}
BOOTSTRAP = 1000  #: resamplings of the test images
EXPLORATORY_SUMMARY = ROOT / "artefacts" / "exploratory" / "summary.csv"  #: the exploratory run's summary table


def margin(amounts) -> float:
    """The margin of equivalence (points) of a test over ``amounts`` (one amount, or several pooled): `MARGIN_SHARE`
    of the exploratory error, the smallest of theirs for a pooled test (the strictest: a mean of margins would let a
    mean loss beyond the strictest one pass). The margin bounds the *mean* gain over the pooled amounts, not each
    amount's: a pooled "equivalent" says that the average over them lies within it (`words` and the conclusion's
    `phrase` say so), and a single amount may differ by more. NaN at an amount the exploratory run did not have
    (the addendum's curve, which is described, not tested)."""
    if not all(a in EXPLORATORY_ERRORS for a in amounts):
        return float("nan")
    return MARGIN_SHARE * float(min(EXPLORATORY_ERRORS[a] for a in amounts))


@dataclass(frozen=True)
class Contrast:
    """One planned comparison: ``other`` minus ``baseline`` (method ids), paired by seed, at each of ``amounts`` (one
    test each) or, with ``pooled``, one test of the per-seed mean over them. ``subject`` and ``reference`` name the two
    sides in prose ("the CNN trained from the Siamese encoder" ... "training from scratch")."""

    family: str
    question: str  #: a short name of the comparison, for tables ("Siamese weights, supervised recipe")
    other: str
    baseline: str
    amounts: tuple[str, ...]
    pooled: bool = False
    subject: str = ""
    reference: str = "training from scratch"
    #: the test images' shared sampling error enters the variance as the full between-seed covariance *c*
    #: (ANALYSIS_PLAN_ADDENDUM.md, section 7: the addendum's tests); False: as the first run's plan did, c (n - 1) / n
    full_covariance: bool = False


class Family:
    """The plan's families of tests (ANALYSIS_PLAN.md, section 5): the names the analysis gives its contrasts and the
    written answer picks them by."""

    PRIMARY = "primary"
    ADDENDUM = "addendum primary"  #: ANALYSIS_PLAN_ADDENDUM.md, section 5
    WEIGHT_SCALE = "weight scale"
    TWO_BY_TWO = "2 x 2"
    ASSIGNMENT = "assignment"
    OTHER = "other pretexts"
    OTHER_WEIGHTS = "other pretexts' weights"
    SEMI = "semi-supervised"
    DESCRIPTIVE = DESCRIPTIVE


def contrasts(primary_amounts=("10/class", "1%"), pretexts=(), semi: str | None = None,
              semi_runs=(), tuned_amounts=()) -> list[Contrast]:
    """The plan's contrasts (ANALYSIS_PLAN.md, section 5) for the registered ``pretexts`` and the semi-supervised
    method chosen on validation data (``semi``); the other semi-supervised runs (``semi_runs``: method ids) are
    described against supervised at the smallest primary amount, not tested. Where the design runs the addendum's
    tuned arms (``tuned_amounts``: its curve), the addendum's contrasts too (`addendum_contrasts`)."""
    amounts = tuple(primary_amounts)
    plan = _headline_contrasts(amounts) + _other_pretext_contrasts(amounts, pretexts)
    plan += addendum_contrasts(amounts, tuple(tuned_amounts)) if tuned_amounts else []
    if semi:
        plan.append(Contrast(Family.SEMI, f"{method_label(semi)} vs {SCRATCH}", semi, BASELINE, amounts[:1],
                             subject=method_label(semi)))
    plan += _descriptive_contrasts(amounts)
    plan += [Contrast(DESCRIPTIVE, f"{method_label(m)} vs {SCRATCH}", m, BASELINE, amounts[:1],
                      subject=method_label(m)) for m in semi_runs if m != semi]
    return plan


SCRATCH, UNTRAINED = "trained from scratch", "untrained encoder"  #: the two references, in the questions
RECIPE, FINETUNE, UNTRAINED_FINETUNE = (method_id(HEADLINE_PRETEXT, "recipe"), method_id(HEADLINE_PRETEXT, "finetune"),
                                        method_id("random", "finetune"))


def _headline_contrasts(amounts: tuple[str, ...]) -> list[Contrast]:
    """The primary test, the 2 x 2 (start x schedule) and the assignment's pooled test."""
    h = HEADLINE_LABEL
    recipe_from = f"the CNN trained with the recipe from the {h} encoder"
    lpft = "probe-then-fine-tune from the {} encoder"
    return [
        Contrast(Family.PRIMARY, f"{h}, fine-tuned vs {SCRATCH}", RECIPE, BASELINE, amounts, subject=recipe_from),
        Contrast(Family.TWO_BY_TWO, f"{h} vs {UNTRAINED}, both probed, then fine-tuned", FINETUNE, UNTRAINED_FINETUNE,
                 amounts, subject=lpft.format(h), reference=lpft.format("untrained")),
        Contrast(Family.TWO_BY_TWO, f"{UNTRAINED}, probed, then fine-tuned vs {SCRATCH}", UNTRAINED_FINETUNE, BASELINE,
                 amounts, subject=lpft.format("untrained")),
        Contrast(Family.TWO_BY_TWO, f"{h}: probed, then fine-tuned vs fine-tuned", FINETUNE, RECIPE, amounts,
                 subject=lpft.format(h), reference=f"the recipe from the {h} encoder"),
        Contrast(Family.ASSIGNMENT, f"{h}, fine-tuned vs {SCRATCH}", RECIPE, BASELINE, ASSIGNMENT_AMOUNTS, pooled=True,
                 subject=recipe_from),
    ]


TUNED_SCRATCH, TUNED_SIAMESE, TUNED_CONTROL = (method_id("random", "tuned"), method_id(HEADLINE_PRETEXT, "tuned"),
                                               method_id(SCALE_CONTROL, "tuned"))


def addendum_contrasts(primary: tuple[str, ...], curve: tuple[str, ...]) -> list[Contrast]:
    """ANALYSIS_PLAN_ADDENDUM.md, section 5, each arm with its settings tuned where labels are scarce: the addendum's
    primary family (Siamese against scratch at each primary amount), the weight-scale family (Siamese against the
    control, the control against scratch) and the curve (Siamese against scratch at each of its amounts, described);
    every one with the full between-seed covariance (section 7)."""
    h = HEADLINE_LABEL
    tuned = "with its settings tuned where labels are scarce"
    siamese, scratch = f"the CNN trained from the {h} encoder", "training from scratch"
    control = "the weight-scale control (untrained weights at the pre-trained weights' scale)"
    at = tuple(a for a in primary if a in curve)
    return [Contrast(Family.ADDENDUM, f"{h} vs {SCRATCH}, both tuned", TUNED_SIAMESE, TUNED_SCRATCH, at,
                     subject=siamese, reference=scratch, full_covariance=True),
            Contrast(Family.WEIGHT_SCALE, f"{h} vs weight-scale control, both tuned", TUNED_SIAMESE, TUNED_CONTROL,
                     at, subject=siamese, reference=control, full_covariance=True),
            Contrast(Family.WEIGHT_SCALE, f"weight-scale control vs {SCRATCH}, both tuned", TUNED_CONTROL,
                     TUNED_SCRATCH, at, subject=control, reference=scratch, full_covariance=True),
            Contrast(DESCRIPTIVE, f"{h} vs {SCRATCH}, both tuned ({tuned})", TUNED_SIAMESE, TUNED_SCRATCH, curve,
                     subject=siamese, reference=scratch, full_covariance=True)]


def _other_pretext_contrasts(amounts: tuple[str, ...], pretexts) -> list[Contrast]:
    """Each other pretext (the best on validation data first) against supervised, and against the untrained encoder
    trained the same way (the dataset's `Choices.other_use`), pooled over the primary amounts."""
    plan = []
    chosen = choices()
    use = chosen.other_use
    control = BASELINE if use == "recipe" else method_id("random", use)
    schedule = "the recipe" if use == "recipe" else "probe-then-fine-tune"
    for p in sorted([p for p in pretexts if p != HEADLINE_PRETEXT], key=lambda p: p != chosen.best_pretext):
        method = method_id(p, use)
        subject = f"the CNN trained from the {encoder_label(p)} encoder ({schedule})"
        plan.append(Contrast(Family.OTHER, f"{method_label(method)} vs {SCRATCH}", method, BASELINE, amounts, True,
                             subject=subject))
        plan.append(Contrast(Family.OTHER_WEIGHTS, f"{encoder_label(p)} vs {UNTRAINED}, trained the same way", method,
                             control, amounts, True, subject=subject,
                             reference="the untrained encoder trained the same way"))
    return plan


def _descriptive_contrasts(amounts: tuple[str, ...]) -> list[Contrast]:
    """Described, not tested: the assignment's comparison at each fraction; the exploratory run's primary comparison
    (probe-then-fine-tune from the headline encoder against supervised), to set beside that run's; the schedule's
    effect with more labels (`SCHEDULE_AMOUNTS`)."""
    h = HEADLINE_LABEL
    lpft = "probe-then-fine-tune from the {} encoder"
    recipe_from = f"the CNN trained with the recipe from the {h} encoder"
    return [Contrast(DESCRIPTIVE, f"{h}, fine-tuned vs {SCRATCH}", RECIPE, BASELINE,
                     amounts + tuple(ASSIGNMENT_AMOUNTS), subject=recipe_from),
            Contrast(DESCRIPTIVE, f"{h}, probed, then fine-tuned vs {SCRATCH}", FINETUNE, BASELINE, amounts,
                     subject=lpft.format(h)),
            Contrast(DESCRIPTIVE, f"{UNTRAINED}, probed, then fine-tuned vs {SCRATCH}", UNTRAINED_FINETUNE, BASELINE,
                     SCHEDULE_AMOUNTS, subject=lpft.format("untrained")),
            Contrast(DESCRIPTIVE, f"{h}: probed, then fine-tuned vs fine-tuned", FINETUNE, RECIPE, SCHEDULE_AMOUNTS,
                     subject=lpft.format(h), reference=f"the recipe from the {h} encoder")]


class Correctness:
    """Which test images each fit classified correctly: (method, amount, seed) -> boolean array over the test images
    (from the bits `ssl_study.study.workers` returns with every fit and notebooks 2 and 5 save beside their results)."""

    def __init__(self, table: pd.DataFrame, bits: np.ndarray | None, n_test: int):
        if bits is not None and len(bits) != len(table):
            raise ValueError(f"{len(bits)} rows of correctness for {len(table)} results: they must be the same fits")
        self.n_test = n_test
        self._rows = {} if bits is None else {key: row for key, row in zip(
            zip(table["method"], table["amount"], table["seed"]), bits)}

    def __contains__(self, key) -> bool:
        return key in self._rows

    def __getitem__(self, key) -> np.ndarray:
        return np.unpackbits(self._rows[key], count=self.n_test).astype(bool)


@functools.lru_cache(maxsize=2)
def _image_weights(n: int, seed: int = 0) -> np.ndarray:
    """`BOOTSTRAP` Poisson(1) weights per test image (a bootstrap of the test images; seeded, whole numbers in float32;
    the same draw for every test of a run, made once)."""
    return np.random.default_rng(seed).poisson(1.0, size=(BOOTSTRAP, n)).astype("float32")


def _whole(per_image: np.ndarray) -> tuple[np.ndarray, int]:
    """``per_image`` (means over k amounts of -1, 0 or +1) as whole numbers: (k x per_image, k), the smallest k of 1 to
    12 that makes them whole. Products and sums of whole numbers below 2**24 are exact in float32 whatever order BLAS
    sums them in -- k x Poisson weight x test images stays far below it -- so the test-image term is the same on every
    processor, not only in its leading digits."""
    for k in range(1, 13):
        whole = np.rint(per_image * k)
        if np.allclose(whole, per_image * k, rtol=0, atol=1e-6):
            return whole.astype("float32"), k
    raise ValueError("per-image differences must be means of -1, 0 and +1 over at most 12 amounts")


def gain_test(per_seed: np.ndarray, per_image: np.ndarray | None, margin_points: float,
              full_covariance: bool = False) -> dict:
    """The test of one mean gain: ``per_seed`` gains (points), and where known ``per_image`` (seeds x test images:
    +1 / 0 / -1, the paired difference of correctness, averaged over pooled amounts) for the test-image term of the
    variance. Returns the gain, its standard error, 95 % interval, t-test p and TOST p within ``margin_points``.

    The test-image term is the between-seed covariance *c* of the resampled gains. The bootstrap variance of the seed
    mean less the seeds' own variances over n is c (n - 1) / n; ``full_covariance`` adds c itself (the addendum's
    mend: ANALYSIS_PLAN_ADDENDUM.md, section 7), else c (n - 1) / n as the first run's plan did."""
    from scipy import stats

    per_seed = np.asarray(per_seed, dtype=float)
    n = len(per_seed)
    mean = float(per_seed.mean()) if n else np.nan
    if n < 2:
        return {"gain": mean if n else np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                "p_equivalence": np.nan, "pairs": n, "margin": margin_points, "image_share": np.nan}
    seed_var = per_seed.var(ddof=1) / n
    image_var = 0.0
    if per_image is not None:
        weights = _image_weights(per_image.shape[1])
        whole, k = _whole(per_image)
        sums = (whole @ weights.T).astype("float64")  # seeds x bootstrap: exact (`_whole`)
        resampled = 100 * sums / (k * weights.sum(axis=1, dtype="float64"))
        # Var(mean over seeds) = (sum of the seeds' own variances + sum of their covariances) / seeds^2; the own
        # variances are in the spread over seeds already, so only the covariances (what the seeds share) are added
        own = resampled.var(axis=1, ddof=1).mean() / n
        image_var = max(0.0, float(resampled.mean(axis=0).var(ddof=1) - own))
        if full_covariance:  # (Var(mean) - own) = c (n - 1) / n: the covariance itself is n / (n - 1) times it
            image_var *= n / (n - 1)
    se = float(np.sqrt(seed_var + image_var))
    t = stats.t.ppf(0.975, n - 1)
    if se == 0:
        p, p_eq = (1.0 if mean == 0 else 0.0), (0.0 if abs(mean) < margin_points else 1.0)
    else:
        p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
        p_eq = float(max(stats.t.sf((mean + margin_points) / se, n - 1),  # H0: gain <= -margin
                         stats.t.cdf((mean - margin_points) / se, n - 1)))  # H0: gain >= +margin
    return {"gain": mean, "se": se, "ci_low": mean - t * se, "ci_high": mean + t * se, "p_value": p,
            "p_equivalence": p_eq, "pairs": n, "margin": margin_points,
            "image_share": image_var / (seed_var + image_var) if seed_var + image_var else 0.0}


def paired_gains(results: pd.DataFrame, correct: Correctness | None, contrast: Contrast, amounts) -> dict | None:
    """The per-seed gains (and per-image differences) of ``contrast`` over ``amounts``: the seeds present for both
    methods at every one of them; None if there are none."""
    rows = results[results["amount"].isin(amounts) & results["method"].isin([contrast.other, contrast.baseline])]
    wide = rows.pivot_table(index="seed", columns=["method", "amount"], values="test_accuracy")
    needed = [(m, a) for m in (contrast.other, contrast.baseline) for a in amounts]
    if not all(c in wide.columns for c in needed):
        return None
    wide = wide[needed].dropna()
    if wide.empty:
        return None
    per_seed = 100 * np.mean([wide[(contrast.other, a)] - wide[(contrast.baseline, a)] for a in amounts], axis=0)
    per_image = None
    if correct is not None and all((m, a, s) in correct for m, a in needed for s in wide.index):
        per_image = np.mean([[correct[(contrast.other, a, s)].astype("int8") - correct[(contrast.baseline, a, s)]
                              for s in wide.index] for a in amounts], axis=0)
        if not np.allclose(100 * per_image.mean(axis=1), per_seed, atol=1e-6):
            raise ValueError(f"the correctness bits of {contrast.other} or {contrast.baseline} do not give their test "
                             "accuracies: the bits and the results are not of the same fits")
    n_labels = rows.groupby("amount")["n_labels"].first() if "n_labels" in rows else pd.Series(dtype=float)
    return {"per_seed": per_seed, "per_image": per_image, "seeds": list(wide.index),
            "n_labels": int(n_labels[amounts[0]]) if len(amounts) == 1 and len(n_labels) else np.nan}


def planned_seeds(design: pd.DataFrame) -> dict[tuple[str, str], frozenset]:
    """(method, amount) -> the seeds the design plans for it, from `helpers.planned_fits`'s table."""
    return {key: frozenset(group["seed"]) for key, group in design.groupby(["method", "amount"])}


def analyse(results: pd.DataFrame, correct: Correctness | None, plan: list[Contrast],
            require_images: bool = True, planned: dict[tuple[str, str], frozenset] | None = None) -> pd.DataFrame:
    """Every test of ``plan`` on ``results``: one row per contrast and amount (or per pooled contrast; a planned test
    without data is kept, untested), with Holm's correction within each family for both the difference tests and the
    equivalence tests, and the `verdict` (``require_images``: no claim on an interval without the test images' term,
    as the plan requires; tests of the wording on constructed results turn it off). With ``planned`` (`planned_seeds`)
    each row says how many seed pairs the design planned (``planned_pairs``): a test on fewer is untested, and takes
    p = 1 in its family's correction, as does a test without the test images' term."""
    rows = []
    for contrast in plan:
        groups = [contrast.amounts] if contrast.pooled else [(a,) for a in contrast.amounts]
        for amounts in groups:
            paired = paired_gains(results, correct, contrast, amounts)
            if paired is None:
                if contrast.family == DESCRIPTIVE:
                    continue
                # a planned test without its data stays in its family (so that Holm counts it) and is untested
                paired = {"per_seed": np.array([]), "per_image": None, "n_labels": np.nan}
            test = gain_test(paired["per_seed"], paired["per_image"], margin(amounts), contrast.full_covariance)
            pairs = np.nan
            if planned is not None:
                sets = [planned.get((m, a), frozenset()) for m in (contrast.other, contrast.baseline) for a in amounts]
                pairs = len(frozenset.intersection(*sets))
            rows.append({"family": contrast.family, "question": contrast.question, "subject": contrast.subject,
                         "reference": contrast.reference, "method": contrast.other,
                         "baseline": contrast.baseline,
                         "amount": "pooled: " + ", ".join(amounts) if contrast.pooled else amounts[0],
                         "amounts": len(amounts), "n_labels": paired["n_labels"],
                         "images_bootstrapped": paired["per_image"] is not None, "planned_pairs": pairs, **test})
    tests = pd.DataFrame(rows)
    if tests.empty:
        return tests
    tests[["p_holm", "p_equivalence_holm", "tests_in_family"]] = np.nan
    # a test that cannot be worded (too few seeds, fewer than planned, or no test-image term) counts as p = 1: it
    # takes its place in the correction of the others without loosening it
    usable = tests.apply(_usable, axis=1, require_images=require_images)
    for family, index in tests[tests["family"] != DESCRIPTIVE].groupby("family", sort=False).groups.items():
        ok = usable[index]
        tests.loc[index, "p_holm"] = holm(tests.loc[index, "p_value"].where(ok, 1.0).fillna(1.0).to_numpy())
        tests.loc[index, "p_equivalence_holm"] = holm(
            tests.loc[index, "p_equivalence"].where(ok, 1.0).fillna(1.0).to_numpy())
        tests.loc[index, "tests_in_family"] = len(index)
    tests["verdict"] = tests.apply(verdict, axis=1, require_images=require_images)
    return tests


def _usable(row, require_images: bool = True) -> bool:
    """Whether a test may be worded: two seeds or more, a p-value, no fewer seed pairs than planned, and
    (``require_images``) the test images' term in its interval."""
    planned = row.get("planned_pairs", np.nan)
    fewer = planned == planned and row["pairs"] < planned  # (NaN: no plan given)
    return bool(row["pairs"] >= 2 and not np.isnan(row["p_value"]) and not fewer
                and (row["images_bootstrapped"] or not require_images))


def verdict(row, require_images: bool = True) -> str:
    """The wording rule (ANALYSIS_PLAN.md, section 8) for one test: ``better`` / ``worse`` where the Holm-corrected
    p-value of its family is below `ALPHA` (first: a difference that is also inside the margin is still a difference,
    and `words` says it is inside the margin); ``equivalent`` where the Holm-corrected equivalence test is;
    ``untested`` with fewer than two seeds, fewer seed pairs than planned, or (``require_images``) without the test
    images' term in its interval; otherwise ``undetected``."""
    if row["family"] == DESCRIPTIVE:
        return DESCRIPTIVE
    if not _usable(row, require_images):
        return "untested"
    if row["p_holm"] < ALPHA:
        return "better" if row["gain"] > 0 else "worse"
    if row["p_equivalence_holm"] < ALPHA:
        return "equivalent"
    return "undetected"


def words(row) -> str:
    """One test in the plan's words, with its numbers: "is better by 0.62 points (95 % interval [+0.30, +0.94], 30
    seeds)", "is equivalent (within ±0.53 points ...)", "shows no difference the data can detect with 30 seeds (95 %
    interval [-0.20, +0.35] points)" -- never "no difference"."""
    interval = f"95 % interval [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}] points"
    seeds = f"{int(row['pairs'])} seed{'s' if row['pairs'] != 1 else ''}"
    kind = row["verdict"]
    if kind in ("better", "worse"):
        inside = (f", inside the margin of equivalence of ±{row['margin']:.2f} points"
                  if row.get("p_equivalence_holm", 1.0) < ALPHA else "")
        return f"is {kind} by {abs(row['gain']):.2f} points ({interval}, {seeds}{inside})"
    if kind == "equivalent":
        mean = f" on average over {int(row['amounts'])} amounts" if row.get("amounts", 1) > 1 else ""
        return (f"is equivalent{mean}, within ±{row['margin']:.2f} points ({row['gain']:+.2f} points, {interval}, "
                f"{seeds})")
    if kind == "untested":
        planned = row.get("planned_pairs", np.nan)
        short = f" of {int(planned)} planned" if planned == planned and row["pairs"] < planned else ""
        return f"differs by {row['gain']:+.2f} points on {seeds}{short} (not tested)"
    return f"shows no difference the data can detect with {seeds} ({row['gain']:+.2f} points, {interval})"
