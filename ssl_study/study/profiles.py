"""The designs of the runs, per dataset, and the profile of a run (`get_profile`, after `check_settings`). A
dataset's ``full`` profile (the committed run, as its plan fixes it) and its ``quick`` profile (CI) are each built
from the dataset's choices (`ssl_study.config.Choices`: the best other pretext, its use, the semi-supervised method,
the recipe's passes), so that nothing a selection chose is written twice.

MNIST's full design is ANALYSIS_PLAN.md's and its addendum's (section 7 of each says why these seeds and amounts);
Fashion-MNIST's is ANALYSIS_PLAN_FASHION.md's (its section 4; its seeds are section 7's, set when the plan is frozen).
"""

from __future__ import annotations

import os

from .. import config
from ..config import (ASSIGNMENT_AMOUNTS, BACKEND_ENV, CHOICES, HEADLINE_PRETEXT, PRIMARY_AMOUNTS, PROFILE_ENV,
                      QUICK_SPLIT_SEED, SCALE_CONTROL, SCHEDULE_AMOUNTS, Choices)
from .design import BACKENDS, KERAS_BACKENDS, Arm, Profile, SettingError, default_jobs

_PRIMARY = PRIMARY_AMOUNTS
_BREADTH = (0, 1, 2)
_FIRST = _PRIMARY + ASSIGNMENT_AMOUNTS  #: the amounts of the first confirmatory run (ANALYSIS_PLAN.md)
#: the addendum's curve (ANALYSIS_PLAN_ADDENDUM.md, section 4): 100, 200, 280, 500, 1,000, 2,000 and 2,800 labels
_CURVE = ("10/class", "20/class", "1%", "50/class", "100/class", "200/class", "10%")
#: the amount of training of every full run: the budget of one supervised fit (experiments/results/budget.md)
_FULL_TRAINING = dict(fractions=(0.01,) + tuple(round(0.1 * k, 1) for k in range(1, 11)), seeds=_BREADTH,
                      min_fit_images=160_000, max_epochs=40, pretext_epochs=None, pretext_images=None,
                      primary_amounts=_PRIMARY)


def mnist_full(chosen: Choices) -> Profile:
    """The confirmatory run on MNIST (ANALYSIS_PLAN.md) and its addendum's arms (ANALYSIS_PLAN_ADDENDUM.md)."""
    return Profile(
        name="full",
        per_class=(10, 20, 50, 100, 200),  # 20 to 200 per class: the addendum's curve alone
        # 40 passes: chosen on validation data (experiments/results/recipe.md and, on the confirmatory split,
        # recipe_confirmatory.md: a tie with 80)
        epochs_at_full=chosen.epochs_at_full,
        arms=(
            # the 2 x 2 at the primary amounts: start {untrained, Siamese} x schedule {recipe, probe-then-fine-tune};
            # the untrained encoder under the recipe is the supervised CNN itself (tests/test_pipeline.py)
            Arm("none", "supervised", _PRIMARY, tuple(range(30))),
            Arm(HEADLINE_PRETEXT, "recipe", _PRIMARY, tuple(range(30))),
            # (probe-then-fine-tune under 20 seeds: issue 19's number; 30 would cost 9 minutes the budget lacks)
            Arm(HEADLINE_PRETEXT, "finetune", _PRIMARY, tuple(range(20))),
            Arm("random", "finetune", _PRIMARY, tuple(range(20))),
            # the assignment's literal protocol at its ten fractions
            Arm("none", "supervised", ASSIGNMENT_AMOUNTS, tuple(range(5))),
            Arm(HEADLINE_PRETEXT, "recipe", ASSIGNMENT_AMOUNTS, tuple(range(5))),
            # the schedule's effect where labels are many (descriptive)
            Arm(HEADLINE_PRETEXT, "finetune", SCHEDULE_AMOUNTS, _BREADTH),
            Arm("random", "finetune", SCHEDULE_AMOUNTS, _BREADTH),
            # the other pretexts at the primary amounts: the best on validation data under more seeds
            Arm("best", chosen.other_use, _PRIMARY, tuple(range(20))),
            Arm("other", chosen.other_use, _PRIMARY, _BREADTH),
            # frozen features of every encoder and the raw pixels (descriptive)
            Arm("any", "frozen", _FIRST, _BREADTH),
            # the addendum (ANALYSIS_PLAN_ADDENDUM.md, section 4): scratch, the Siamese start and the weight-scale
            # control, each with its settings tuned where labels are scarce (the untrained encoder under a recipe is
            # the CNN trained from scratch); and the curve of scratch and Siamese
            Arm("random", "tuned", _PRIMARY, tuple(range(30))),
            Arm(HEADLINE_PRETEXT, "tuned", _PRIMARY, tuple(range(30))),
            Arm(SCALE_CONTROL, "tuned", _PRIMARY, tuple(range(30))),
            Arm("random", "tuned", _CURVE, tuple(range(10))),
            Arm(HEADLINE_PRETEXT, "tuned", _CURVE, tuple(range(10))),
        ),
        # the first run's one seed (a cut of its budget: ANALYSIS_PLAN.md, section 7), five in the addendum's
        sweep_seeds=tuple(range(5)),
        # the semi-supervised method chosen on validation data under 5 seeds, the other under 3 (descriptive)
        semi_arms=((chosen.semi_method, None, ("10/class",), tuple(range(5))),
                   ("other", None, ("10/class",), _BREADTH)),
        choices=chosen, **_FULL_TRAINING)


#: seeds of the Fashion-MNIST run's primary arms (ANALYSIS_PLAN_FASHION.md, section 7: at least 20, from the scarce
#: selection's spread; set when the plan is frozen)
FASHION_PRIMARY_SEEDS = 20


def fashion_full(chosen: Choices) -> Profile:
    """The Fashion-MNIST run (ANALYSIS_PLAN_FASHION.md, section 4): the primary arms each tuned where labels are
    scarce, with the weight-scale control; the first run's 2 x 2 at the primary amounts; the assignment's ten
    fractions; the best other pretext and the semi-supervised method; frozen features (descriptive)."""
    primary, second = tuple(range(FASHION_PRIMARY_SEEDS)), tuple(range(10))
    return Profile(
        name="full",
        per_class=(10,),
        epochs_at_full=chosen.epochs_at_full,
        arms=(
            Arm("random", "tuned", _PRIMARY, primary),
            Arm(HEADLINE_PRETEXT, "tuned", _PRIMARY, primary),
            Arm(SCALE_CONTROL, "tuned", _PRIMARY, primary),
            Arm("none", "supervised", _PRIMARY, second),
            Arm(HEADLINE_PRETEXT, "recipe", _PRIMARY, second),
            Arm(HEADLINE_PRETEXT, "finetune", _PRIMARY, second),
            Arm("random", "finetune", _PRIMARY, second),
            Arm("none", "supervised", ASSIGNMENT_AMOUNTS, tuple(range(5))),
            Arm(HEADLINE_PRETEXT, "recipe", ASSIGNMENT_AMOUNTS, tuple(range(5))),
            Arm("best", chosen.other_use, _PRIMARY, second),
            Arm("other", chosen.other_use, _PRIMARY, _BREADTH),
            Arm("any", "frozen", _FIRST, _BREADTH),
        ),
        semi_arms=((chosen.semi_method, None, ("10/class",), tuple(range(5))),
                   ("other", None, ("10/class",), _BREADTH)),
        choices=chosen, **_FULL_TRAINING)


def quick(chosen: Choices) -> Profile:
    """CI's run: every arm's kind once, on little data and one epoch, under a split of its own."""
    return Profile(
        name="quick",
        fractions=(0.1,),
        per_class=(10,),
        seeds=(0,),
        epochs_at_full=1,
        min_fit_images=0,
        max_epochs=1,
        pretext_epochs=1,
        pretext_images=2_000,
        primary_amounts=("10/class",),
        arms=(
            Arm("none", "supervised", None, (0,)),
            Arm("none", "supervised", ("10/class",), (0, 1)),
            Arm(HEADLINE_PRETEXT, "recipe", None, (0,)),
            Arm(HEADLINE_PRETEXT, "recipe", ("10/class",), (0, 1)),
            Arm(HEADLINE_PRETEXT, "finetune", None, (0,)),
            Arm("random", "finetune", ("10/class",), (0,)),
            Arm("best", "finetune", ("10/class",), (0,)),
            Arm("other", "finetune", ("10/class",), (0,)),
            Arm("any", "frozen", None, (0,)),
            Arm("random", "tuned", ("10/class",), (0, 1)),
            Arm(HEADLINE_PRETEXT, "tuned", ("10/class",), (0, 1)),
            Arm(SCALE_CONTROL, "tuned", ("10/class",), (0, 1)),
        ),
        unlabelled_fractions=(0.5, 1.0),
        sweep_amounts=("10/class", "10%"),
        # the full profile's semi-supervised arms (from random weights) under one seed, and the chosen method from the
        # best other pretext's encoder too (the path of a semi-supervised run from an encoder)
        semi_arms=((chosen.semi_method, None, ("10/class",), (0,)),
                   (chosen.semi_method, chosen.best_pretext, ("10/class",), (0,)),
                   ("other", None, ("10/class",), (0,))),
        semi_scale=0.01,
        map_images=400,
        split_seed=QUICK_SPLIT_SEED,  # CI never scores a model on the confirmatory test set
        choices=chosen)


#: each dataset's designs, by profile name
DESIGNS: dict[str, dict[str, Profile]] = {
    "mnist": {"full": mnist_full(CHOICES["mnist"]), "quick": quick(CHOICES["mnist"])},
    "fashion": {"full": fashion_full(CHOICES["fashion"]), "quick": quick(CHOICES["fashion"])},
}
PROFILES = DESIGNS["mnist"]  #: MNIST's, the assignment's: the committed run that the README and `make verify` speak of


def profiles(dataset: str | None = None) -> dict[str, Profile]:
    """The designs of the runs on ``dataset`` (else ``$SSL_DATASET``'s, else MNIST's), by profile name
    (`DESIGNS`)."""
    return DESIGNS[config.get_dataset(dataset).name]


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name`` of the dataset of the run (``$SSL_DATASET``), else the one named by
    ``$SSL_PROFILE``, else ``full``; makes its folders."""
    name = name or os.environ.get(PROFILE_ENV) or "full"
    designs = profiles()
    if name not in designs:
        raise SettingError(f"Unknown profile {name!r}: use one of {', '.join(sorted(designs))} "
                           f"({PROFILE_ENV} or --profile).")
    profile = designs[name]
    if name == "full" and not (profile.choices.chosen and profile.choices.plan_commit):
        dataset = config.get_dataset()
        raise SettingError(f"The full run on {dataset.title} waits for its plan: its settings are chosen on its own "
                           f"validation data (experiments/{dataset.name}_selection.sh) and {profile.choices.plan} is "
                           "frozen before it runs; the quick profile runs now.")
    profile.artefacts.mkdir(parents=True, exist_ok=True)
    profile.figures.mkdir(parents=True, exist_ok=True)
    return profile




def check_settings() -> None:
    """Refuse, in one sentence each, a value of ``$SSL_PROFILE``, ``$SSL_DATASET``, ``$SSL_JOBS``, ``$SSL_BACKEND``
    or ``$KERAS_BACKEND`` that a run cannot take -- at start-up, not in the middle of a notebook."""
    import importlib.util

    try:
        config.get_dataset()
    except ValueError as err:
        raise SettingError(str(err)) from None
    if os.environ.get(PROFILE_ENV) and os.environ[PROFILE_ENV] not in profiles():
        get_profile()
    default_jobs()
    backend = os.environ.get(BACKEND_ENV)
    if backend and backend not in BACKENDS:
        raise SettingError(f"{BACKEND_ENV}={backend!r}: use one of {', '.join(BACKENDS)} (unset: loky).")
    keras_backend = os.environ.get("KERAS_BACKEND")
    if keras_backend and keras_backend not in KERAS_BACKENDS:
        raise SettingError(f"KERAS_BACKEND={keras_backend!r}: this project runs on {' or '.join(KERAS_BACKENDS)} "
                           "(unset: tensorflow).")
    if keras_backend == "jax" and importlib.util.find_spec("jax") is None:
        raise SettingError("KERAS_BACKEND=jax, but JAX is not installed: run `make setup-jax` "
                           "(or unset KERAS_BACKEND).")
