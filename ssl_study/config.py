"""Settings in one place: paths, the two profiles (``full``: the committed run; ``quick``: CI), the training recipe,
the augmentation settings, and the environment variables that steer a run (checked by `check_settings`).

A pretext task's own settings (augmentation, head, learning rate, epochs) live with the task, in `ssl_study.pretexts`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  #: the project's root (where helpers.py is)
DATA_DIR = ROOT / "data"
CACHE_DIR = DATA_DIR / "cache"  #: decoded copies of the course's PNGs (never committed)
ARTEFACTS_DIR = ROOT / "artefacts"
FIGURES_DIR = ROOT / "figures"
NOTEBOOKS_DIR = ROOT / "notebooks"

DATA_ENV = "MNIST_PNG"  #: path of the course's ``mnist_png`` folder or archive
PROFILE_ENV = "SSL_PROFILE"  #: ``full`` (the default: the committed run) or ``quick`` (CI)
JOBS_ENV = "SSL_JOBS"  #: fits run at once (default: one per CPU core)
BACKEND_ENV = "SSL_BACKEND"  #: ``loky`` (default: worker processes on this machine) or ``dask``
DASK_ENV = "SSL_DASK_SCHEDULER"  #: with ``dask``: the scheduler's address (unset: a local cluster)
OUTPUT_ENV = "SSL_OUTPUT"  #: where a run writes artefacts and figures instead of the project (set by run_study.py)
FIT_CACHE_ENV = "SSL_FIT_CACHE"  #: the fit cache's folder instead of ``artefacts/<profile>/cache``
DATA_CACHE_ENV = "SSL_DATA_CACHE"  #: the decoded-data cache's folder instead of ``data/cache``
UNITS_ENV = "SSL_UNITS"  #: Python files of more units (pretext tasks, semi-supervised methods) to register
DEFAULT_SOURCES = ("mnist_png", "mnist_png.tar.gz", "mnist_png.tgz", "mnist_png.tar", "mnist_png.zip")

NOTEBOOK_SPLIT = "01_split.ipynb"
NOTEBOOK_SUPERVISED = "02_supervised_baseline.ipynb"
NOTEBOOK_ENCODER = "03_encoder.ipynb"
NOTEBOOK_PRETEXT = "04_siamese_pretext.ipynb"
NOTEBOOK_FINETUNE = "05_finetune.ipynb"
NOTEBOOK_COMPARISON = "06_comparison.ipynb"
NOTEBOOKS = [NOTEBOOK_SPLIT, NOTEBOOK_SUPERVISED, NOTEBOOK_ENCODER, NOTEBOOK_PRETEXT, NOTEBOOK_FINETUNE,
             NOTEBOOK_COMPARISON]

N_CLASSES = 10
INPUT_SHAPE = (28, 28, 1)
EXPLORATORY_SPLIT_SEED = 42  #: the split of the exploratory run (main up to 2be2424; docs/exploratory.md)
#: the fresh split of the confirmatory run (issue 19), a seed never used before, fixed on 2026-11-30 before any result
#: on it was seen; its selection experiments read its labelled and unlabelled images only, never its test images
CONFIRMATORY_SPLIT_SEED = 20261130
SPLIT_SEED = CONFIRMATORY_SPLIT_SEED  #: the seed of notebook 1's labelled / unlabelled / test split
SPLIT_PROPORTIONS = (0.4, 0.4, 0.2)
SELECTION_SEEDS = (100, 101, 102)  #: the seeds of the design choices (experiments/), never the study's own
HEADLINE_PRETEXT = "siamese"  #: the assignment's pretext task: fine-tuned at every label amount
#: the study's primary endpoint (ANALYSIS_PLAN.md, section 5): the paired gain of the CNN whose encoder starts from the
#: Siamese pretext's weights over the supervised CNN, both trained with the supervised recipe, at these amounts; one
#: family under Holm's correction
PRIMARY_AMOUNTS = ("10/class", "1%")
#: the best of the other pretext tasks on validation data (experiments/results/pretexts_budget.md: the highest decision
#: score -- the mean of the recipe's and probe-then-fine-tune's accuracy on the 3,000 selection images -- at each task's
#: chosen setting): the other pretext that the design runs under 20 seeds
BEST_PRETEXT = "rotation"
EQUIVALENCE_MARGIN = 0.5  #: the exploratory run's margin (points); the confirmatory run's: `ssl_study.analysis.margin`
#: the semi-supervised method of the confirmatory test, chosen on validation data (experiments/results/semi_*.md)
SEMI_METHOD = "fixmatch"
#: the commit that froze ANALYSIS_PLAN.md (set by the commit after it; tests/test_analysis.py checks the plan has not
#: changed since); empty while the plan is a draft
PLAN_COMMIT = "24d6c5ce1d58"


#: where probe-then-fine-tune is set against the recipe with more labels (descriptive; ANALYSIS_PLAN.md, section 4;
#: 100 % was cut to fit the budget, section 7)
SCHEDULE_AMOUNTS = ("10%",)
#: the assignment's ten fractions of the labelled set (its step 3), where its literal protocol runs
ASSIGNMENT_AMOUNTS = tuple(f"{k}0%" for k in range(1, 10)) + ("100%",)


@dataclass(frozen=True)
class Arm:
    """One arm of the design: an encoder under one use, at some label amounts, under some seeds.

    ``encoder``: ``none`` (the supervised CNN's random initialisation), ``random`` (notebook 3's untrained encoder),
    ``pixels``, a pretext's name, ``best`` (`BEST_PRETEXT`), ``other`` (every pretext but the headline and the best)
    or ``any`` (every encoder). ``use``: ``supervised``, ``recipe``, ``finetune`` (its probe comes with it), ``probe``,
    or ``frozen`` (k-NN and logistic regression). ``amounts``: None for every amount of the profile."""

    encoder: str
    use: str
    amounts: tuple[str, ...] | None
    seeds: tuple[int, ...]

    def names(self, encoder: str) -> bool:
        """Whether this arm is about ``encoder``."""
        from .pretexts import PRETEXTS  # the registry (a unit registered later is an ``other`` pretext too)

        if self.encoder == "any":
            return encoder != "none"
        if self.encoder == "best":
            return encoder == BEST_PRETEXT
        if self.encoder == "other":
            return encoder in PRETEXTS and encoder not in (HEADLINE_PRETEXT, BEST_PRETEXT)
        return encoder == self.encoder

    def covers(self, encoder: str, use: str, amount: str) -> bool:
        """Whether this arm asks for ``encoder`` under ``use`` at ``amount``."""
        uses = {"frozen": ("knn", "logistic"), "finetune": ("finetune", "probe")}.get(self.use, (self.use,))
        return self.names(encoder) and use in uses and (self.amounts is None or amount in self.amounts)


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the committed ``full`` run and the ``quick`` CI run: the amount of training, and
    the design (`Arm`s: which encoder is trained how, at which amounts, under which seeds). The split is the same in
    both profiles. ANALYSIS_PLAN.md says why the full profile's design is what it is."""

    name: str
    fractions: tuple[float, ...]  #: fractions of the labelled set to train on ...
    per_class: tuple[int, ...]  #: ... and amounts of k labels per class (k x 10 images), the low-label regime
    seeds: tuple[int, ...]  #: the breadth seeds: each draws its own subsets, initialisation, augmentation, pretext run
    epochs_at_full: int  #: passes over the label subset in one supervised fit; small subsets get more (`epochs_for`)
    min_fit_images: int  #: ... so that every fit sees at least this many images
    max_epochs: int  #: cap on the epochs of one supervised fit
    pretext_epochs: int | None  #: epochs of every pretext task (None: each task's own, chosen on validation data)
    #: unlabelled images used by a pretext run and a semi-supervised run (None: all of them)
    pretext_images: int | None
    #: the design: every classifier fit of notebooks 2 and 5 is asked for by an arm (seeds: the union of the arms')
    arms: tuple[Arm, ...] = ()
    #: the amounts of the primary endpoint (ANALYSIS_PLAN.md), where the 2 x 2 runs under more seeds
    primary_amounts: tuple[str, ...] = ()
    batch_size: int = 128
    #: notebook 4's sweep: the pretexts pre-trained on parts of the unlabelled set (under ``sweep_seeds``), the parts
    #: (of the images a pretext run uses: ``pretext_images`` or all), the label amounts their frozen features are scored
    #: at, and those they are trained at with the supervised recipe
    sweep_pretexts: tuple[str, ...] = (HEADLINE_PRETEXT,)
    unlabelled_fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    sweep_amounts: tuple[str, ...] = ("10/class", "1%", "10%")
    sweep_finetune_amounts: tuple[str, ...] = ("10/class",)
    sweep_seeds: tuple[int, ...] = (0,)
    #: notebook 5's semi-supervised arm: (method -- or "other": every method but `SEMI_METHOD` --, start -- None for
    #: random weights, or a pretext --, amounts, seeds); their budgets (FixMatch's steps, a student's images) times
    #: ``semi_scale`` (1: the methods' own)
    semi_arms: tuple[tuple[str, str | None, tuple[str, ...], tuple[int, ...]], ...] = ()
    semi_scale: float = 1.0
    map_images: int = 1500  #: test images in notebook 4's 2-D maps of the embeddings (t-SNE; analysis only)

    def semi_plan(self, method: str, n_labelled: int) -> list[tuple[str | None, tuple[str, ...], tuple[int, ...]]]:
        """(start, amounts, seeds) of a semi-supervised method: its ``semi_arms`` (``"other"`` names every method but
        `SEMI_METHOD`); a method without one runs at the smallest amount under ``seeds``, from random weights and from
        `BEST_PRETEXT`'s encoder."""
        mine = [arm[1:] for arm in self.semi_arms
                if arm[0] == method or (arm[0] == "other" and method != SEMI_METHOD)]
        return mine or [(start, (self.amounts(n_labelled)[0][0],), self.seeds) for start in (None, BEST_PRETEXT)]

    def seeds_of(self, encoder: str, use: str, amount: str) -> tuple[int, ...]:
        """The seeds under which ``encoder`` is trained or read by ``use`` at ``amount``: the union of the arms that
        ask for it (empty: no arm does)."""
        return tuple(sorted({s for arm in self.arms if arm.covers(encoder, use, amount) for s in arm.seeds}))

    def encoder_seeds(self, encoder: str) -> tuple[int, ...]:
        """Every seed of an encoder's arms: a pretext runs once per seed (``random``, the untrained encoders of
        notebook 3 that every pretext run starts from: every seed of the design)."""
        if encoder == "random":
            return self.all_seeds
        return tuple(sorted({s for arm in self.arms for s in arm.seeds if arm.names(encoder)}))

    @property
    def all_seeds(self) -> tuple[int, ...]:
        """Every seed of the run: those with an initial encoder (notebook 3)."""
        return tuple(sorted({s for arm in self.arms for s in arm.seeds} | set(self.seeds)))

    def amounts(self, n_labelled: int) -> list[tuple[str, int]]:
        """The label amounts as ``(name, number of images)``, smallest first: ``("10/class", 100)``, ``("1%", 280)``."""
        amounts = [(f"{k}/class", k * N_CLASSES) for k in self.per_class]
        amounts += [(f"{f:.0%}", int(round(f * n_labelled))) for f in self.fractions]
        return sorted(amounts, key=lambda a: a[1])

    @property
    def output(self) -> Path:
        """Where this profile's artefacts and figures go: the project, or the folder a run stages them in."""
        return Path(os.environ[OUTPUT_ENV]) if os.environ.get(OUTPUT_ENV) else ROOT

    @property
    def artefacts(self) -> Path:
        """Folder of this profile's artefacts (split, weights, histories, results)."""
        return self.output / "artefacts" / self.name

    @property
    def figures(self) -> Path:
        """Folder of this profile's figures: ``figures/`` for the full run, apart for any other profile."""
        return self.output / "figures" if self.name == "full" else self.artefacts / "figures"

    @property
    def cache(self) -> Path:
        """The fit cache: one entry per fit and pretext run, shared by every run of this profile."""
        return Path(os.environ[FIT_CACHE_ENV]) if os.environ.get(FIT_CACHE_ENV) else ARTEFACTS_DIR / self.name / "cache"


_PRIMARY = PRIMARY_AMOUNTS
_BREADTH = (0, 1, 2)
#: the other pretexts' use (the recipe with a random head, or probe-then-fine-tune): the better of the two for the best
#: other pretext at its chosen setting on validation data (experiments/results/pretexts_budget.md)
OTHER_USE = "finetune"

PROFILES: dict[str, Profile] = {
    "full": Profile(  # the confirmatory run: ANALYSIS_PLAN.md, section 7, says why these seeds and amounts
        name="full",
        fractions=(0.01,) + tuple(round(0.1 * k, 1) for k in range(1, 11)),
        per_class=(10,),
        seeds=_BREADTH,
        epochs_at_full=40,  # chosen on validation data: experiments/results/recipe.md and, on the confirmatory split,
        # recipe_confirmatory.md (40 passes, a tie with 80)
        min_fit_images=160_000,  # chosen on validation data: experiments/results/budget.md (max_epochs binds)
        max_epochs=40,
        pretext_epochs=None,
        pretext_images=None,
        primary_amounts=_PRIMARY,
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
            Arm("best", OTHER_USE, _PRIMARY, tuple(range(20))),
            Arm("other", OTHER_USE, _PRIMARY, _BREADTH),
            # frozen features of every encoder and the raw pixels (descriptive)
            Arm("any", "frozen", None, _BREADTH),
        ),
        sweep_seeds=(0,),  # of the breadth seeds: a cut of the budget (ANALYSIS_PLAN.md, section 7)
        # the semi-supervised method chosen on validation data under 5 seeds, the other under 3 (descriptive)
        semi_arms=((SEMI_METHOD, None, ("10/class",), tuple(range(5))),
                   ("other", None, ("10/class",), _BREADTH)),
    ),
    "quick": Profile(
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
        ),
        unlabelled_fractions=(0.5, 1.0),
        sweep_amounts=("10/class", "10%"),
        # the full profile's semi-supervised arms (from random weights) under one seed, and the chosen method from the
        # best other pretext's encoder too (the path of a semi-supervised run from an encoder)
        semi_arms=((SEMI_METHOD, None, ("10/class",), (0,)), (SEMI_METHOD, BEST_PRETEXT, ("10/class",), (0,)),
                   ("other", None, ("10/class",), (0,))),
        semi_scale=0.01,
        map_images=400,
    ),
}


class SettingError(ValueError):
    """An environment variable or option that steers a run has a value it cannot take; the message names the variable
    and the values it accepts."""


BACKENDS = ("loky", "dask")  #: values of $SSL_BACKEND
KERAS_BACKENDS = ("tensorflow", "jax")  #: values of $KERAS_BACKEND this project runs on


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else the one named by ``$SSL_PROFILE``, else ``full``; makes its folders."""
    name = name or os.environ.get(PROFILE_ENV) or "full"
    if name not in PROFILES:
        raise SettingError(f"Unknown profile {name!r}: use one of {', '.join(sorted(PROFILES))} "
                           f"({PROFILE_ENV} or --profile).")
    profile = PROFILES[name]
    profile.artefacts.mkdir(parents=True, exist_ok=True)
    profile.figures.mkdir(parents=True, exist_ok=True)
    return profile


def parse_jobs(value: str | int, where: str = JOBS_ENV) -> int:
    """A number of fits at once: a whole number of at least 1 (``where`` names the setting in the message)."""
    try:
        jobs = int(str(value).strip())
    except ValueError:
        raise SettingError(f"{where}={value!r} is not a whole number: set it to the fits to run at once, such as "
                           f"{os.cpu_count() or 1} (one per core).") from None
    if jobs < 1:
        raise SettingError(f"{where}={value!r}: at least one fit must run at a time; set it to 1 or more.")
    return jobs


def default_jobs() -> int:
    """How many fits run at once: ``$SSL_JOBS``, else one per CPU core."""
    value = os.environ.get(JOBS_ENV)
    return parse_jobs(value) if value else os.cpu_count() or 1


def check_settings() -> None:
    """Refuse, in one sentence each, a value of ``$SSL_PROFILE``, ``$SSL_JOBS``, ``$SSL_BACKEND`` or ``$KERAS_BACKEND``
    that a run cannot take -- at start-up, not in the middle of a notebook."""
    import importlib.util

    if os.environ.get(PROFILE_ENV) and os.environ[PROFILE_ENV] not in PROFILES:
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
        raise SettingError("KERAS_BACKEND=jax, but JAX is not installed: run `make setup-jax` (or unset KERAS_BACKEND).")


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of the random augmentations of one view (all drawn independently per image)."""

    rotation: float = 0.08  #: fraction of a full turn (0.08 ~ +-29 degrees)
    zoom: float = 0.15  #: scale factor drawn from [1 - zoom, 1 + zoom]
    translation: float = 0.12  #: shift, as a fraction of the image side, in each direction
    flip_probability: float = 0.0  #: probability of a left-right mirror (off: a mirrored digit is another shape;
    #: chosen on validation data, see experiments/results/pretext.md)
    blur_probability: float = 0.5  #: probability of a blur: a random blend of the image and its sigma-1.2 Gaussian blur
    noise_stddev: float = 0.08  #: additive Gaussian noise
    erase_probability: float = 0.3  #: probability of blanking a random square (2-15 % of the image, less where it
    #: crosses the border)


#: the supervised recipe's light augmentation: random shifts (8 % of the side) and rotations (+-11 degrees) only
LIGHT_AUGMENT = AugmentConfig(rotation=0.03, zoom=0.0, translation=0.08, flip_probability=0.0, blur_probability=0.0,
                              noise_stddev=0.0, erase_probability=0.0)


@dataclass(frozen=True)
class Recipe:
    """The supervised training recipe, shared by the baseline (02) and the fine-tuning (05) so they stay comparable."""

    learning_rate: float = 1e-2  #: from random weights; chosen on validation data: experiments/results/recipe.md
    #: from a pre-trained encoder: the same rate; lower ones were worse on validation data at every amount tried
    #: (experiments/results/finetune_lr.md)
    finetune_learning_rate: float = 1e-2
    min_epoch_images: int = 2560  #: a small subset is repeated so that one epoch holds at least this many images
    augment: AugmentConfig = field(default=LIGHT_AUGMENT)


STEPS_PER_EXECUTION = 16  #: training batches per call of the compiled step: less Python per batch (see benchmarks/)


def config_dict(obj) -> dict:
    """A dataclass (profile, recipe, augmentation, pretext settings) as a plain dict, for metadata and cache keys."""
    return asdict(obj)
