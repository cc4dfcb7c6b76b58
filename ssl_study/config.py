"""Constants in one place: the project's folders (`Layout`), the environment variables that steer a run, the
notebooks, the split, the primary endpoint and the chosen units, the training recipe and the augmentation settings.
Nothing here imports the rest of the package; the design that uses these (the profiles) is `ssl_study.study.design`.

A pretext task's own settings (augmentation, head, learning rate, epochs) live with the task, in
`ssl_study.compute.pretexts`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  #: the project's root (where helpers.py is)
DATA_DIR = ROOT / "data"
CACHE_DIR = DATA_DIR / "cache"  #: decoded copies of the course's PNGs (never committed)


@dataclass(frozen=True)
class Layout:
    """The folders of a project -- the project itself (`PROJECT`), or a run's staging folder laid out like it -- and
    where each profile's artefacts, figures, executed notebooks and HTML pages go in it: defined here, once.

    For MNIST (the default dataset, the assignment's) the full profile publishes its figures, notebooks and pages at
    the top (``figures/``, ``notebooks/``, ``reports/``); any other profile keeps them inside its artefacts
    (``artefacts/quick/figures``, ...), so it never overwrites them. Another dataset (`get_dataset`: ``$SSL_DATASET``)
    has a folder of its own everywhere (``artefacts/fashion/full``, ``figures/fashion``, ``reports/fashion``; its
    executed notebooks inside its artefacts), so that neither dataset's run can overwrite the other's."""

    root: Path

    @property
    def artefacts_root(self) -> Path:
        return self.root / "artefacts"

    @property
    def notebooks(self) -> Path:
        """The notebooks (in the project: the ones to run; in a staging folder: the full profile's executed ones)."""
        return self.root / "notebooks"

    def artefacts(self, profile: str) -> Path:
        """A profile's artefacts (split, weights, results) and its fit cache."""
        dataset = get_dataset().name
        return self.artefacts_root / profile if dataset == DEFAULT_DATASET else self.artefacts_root / dataset / profile

    def _top_or_inside(self, profile: str, folder: str) -> Path:
        dataset = get_dataset().name
        if profile != "full" or (dataset != DEFAULT_DATASET and folder == "notebooks"):
            return self.artefacts(profile) / folder
        return self.root / folder if dataset == DEFAULT_DATASET else self.root / folder / dataset

    def figures(self, profile: str) -> Path:
        return self._top_or_inside(profile, "figures")

    def executed(self, profile: str) -> Path:
        """Where a profile's executed notebooks go."""
        return self._top_or_inside(profile, "notebooks")

    def pages(self, profile: str) -> Path:
        """Where a profile's HTML pages go."""
        return self._top_or_inside(profile, "reports")

    def folders(self, profile: str) -> list[Path]:
        """Every folder a run of ``profile`` publishes: its artefacts, and those of its figures, executed notebooks
        and pages that lie outside them."""
        inside = self.artefacts(profile)
        return [inside] + [folder for folder in (self.figures(profile), self.executed(profile), self.pages(profile))
                           if not folder.is_relative_to(inside)]



DATA_ENV = "MNIST_PNG"  #: path of the course's ``mnist_png`` folder or archive
DATASET_ENV = "SSL_DATASET"  #: the dataset of a run: ``mnist`` (the default, the assignment's) or ``fashion``
PROFILE_ENV = "SSL_PROFILE"  #: ``full`` (the default: the committed run) or ``quick`` (CI)
JOBS_ENV = "SSL_JOBS"  #: fits run at once (default: one per CPU core)
BACKEND_ENV = "SSL_BACKEND"  #: ``loky`` (default: worker processes on this machine) or ``dask``
DASK_ENV = "SSL_DASK_SCHEDULER"  #: with ``dask``: the scheduler's address (unset: a local cluster)
OUTPUT_ENV = "SSL_OUTPUT"  #: where a run writes artefacts and figures instead of the project (set by run_study.py)
FIT_CACHE_ENV = "SSL_FIT_CACHE"  #: the fit cache's folder instead of ``artefacts/<profile>/cache``
DATA_CACHE_ENV = "SSL_DATA_CACHE"  #: the decoded-data cache's folder instead of ``data/cache``
UNITS_ENV = "SSL_UNITS"  #: Python files of more units (pretext tasks, semi-supervised methods) to register
DEFAULT_SOURCES = ("mnist_png", "mnist_png.tar.gz", "mnist_png.tgz", "mnist_png.tar", "mnist_png.zip")  #: MNIST's

@dataclass(frozen=True)
class Dataset:
    """A dataset the study runs on (issue 30): everything about it that is not the study's, in one place -- where its
    PNGs are (``env``, and the ``folder`` name of its tree or archive under ``data/``), its classes' names and the
    word for one of them in prose, and how many images of each class its ``training/`` and ``testing/`` folders hold
    (a tree whose shares are far off is refused as damaged)."""

    name: str  #: the key of `DATASETS`, and the folder of its artefacts (``artefacts/<name>/``) but for MNIST's
    title: str  #: in prose and titles: "MNIST", "Fashion-MNIST"
    env: str  #: the environment variable that points at its folder or archive
    folder: str  #: the name of its PNG tree: ``<folder>/{training,testing}/<class>/<n>.png``, or ``<folder>.tar.gz``
    class_names: tuple[str, ...]  #: the classes 0 .. 9, as a reader names them
    noun: str  #: one class in prose: "digit", "garment class"
    counts: dict = field(default_factory=dict)  #: images per class 0-9 in ``training`` and ``testing``

    @property
    def sources(self) -> tuple[str, ...]:
        """The names under ``data/`` where its folder or archive is looked for, in order."""
        return tuple(self.folder + suffix for suffix in ("", ".tar.gz", ".tgz", ".tar", ".zip"))

    @property
    def plural(self) -> str:
        """The noun for several classes: "digits", "garment classes"."""
        return self.noun + ("es" if self.noun.endswith("s") else "s")

    @property
    def total(self) -> int:
        """Images in the complete dataset (both folders)."""
        return sum(sum(counts) for counts in self.counts.values())


DATASETS = {
    "mnist": Dataset("mnist", "MNIST", DATA_ENV, "mnist_png", tuple(str(d) for d in range(10)), "digit",
                     {"training": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
                      "testing": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)}),
    # Zalando Research's Fashion-MNIST (MIT licence): the same format, ten clothing classes, 6,000 + 1,000 of each
    "fashion": Dataset("fashion", "Fashion-MNIST", "FASHION_PNG", "fashion_png",
                       ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                        "ankle boot"), "garment class", {"training": (6000,) * 10, "testing": (1000,) * 10}),
}
DEFAULT_DATASET = "mnist"  #: the assignment's


def get_dataset(name: str | None = None) -> Dataset:
    """The dataset called ``name``, else the one ``$SSL_DATASET`` names, else MNIST; an unknown name is refused in one
    sentence that lists the known ones."""
    import os

    name = name or os.environ.get(DATASET_ENV) or DEFAULT_DATASET
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}: use one of {', '.join(sorted(DATASETS))} ({DATASET_ENV}).")
    return DATASETS[name]


PROJECT = Layout(ROOT)  #: the project's own folders; read as ``config.PROJECT`` (a test points it elsewhere)
ARTEFACTS_DIR = PROJECT.artefacts_root
FIGURES_DIR = PROJECT.root / "figures"  #: MNIST's full run's
NOTEBOOKS_DIR = PROJECT.notebooks


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
SPLIT_SEED = CONFIRMATORY_SPLIT_SEED  #: the seed of notebook 1's labelled / unlabelled / test split (full profile)
#: the quick profile's (CI's) own split (issue 29), a seed not used before: CI never scores a model on the confirmatory
#: test set
QUICK_SPLIT_SEED = 20261207
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
#: the exploratory run's margin (points); the confirmatory run's: `ssl_study.report.analysis.margin`
EQUIVALENCE_MARGIN = 0.5
#: the semi-supervised method of the confirmatory test, chosen on validation data (experiments/results/semi_*.md)
SEMI_METHOD = "fixmatch"
#: the commit that froze ANALYSIS_PLAN.md (set by the commit after it; tests/test_analysis.py checks the plan has not
#: changed since); empty while the plan is a draft
PLAN_COMMIT = "24d6c5ce1d58"
#: the commit that froze ANALYSIS_PLAN_ADDENDUM.md (issue 29), set by the commit after it, as `PLAN_COMMIT`; empty
#: while the addendum is a draft
ADDENDUM_COMMIT = "ab044e043361"


#: the other pretexts' use (the recipe with a random head, or probe-then-fine-tune): the better of the two for the best
#: other pretext at its chosen setting on validation data (experiments/results/pretexts_budget.md)
OTHER_USE = "finetune"

#: where probe-then-fine-tune is set against the recipe with more labels (descriptive; ANALYSIS_PLAN.md, section 4;
#: 100 % was cut to fit the budget, section 7)
SCHEDULE_AMOUNTS = ("10%",)
#: the assignment's ten fractions of the labelled set (its step 3), where its literal protocol runs
ASSIGNMENT_AMOUNTS = tuple(f"{k}0%" for k in range(1, 10)) + ("100%",)


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


#: the stronger augmentation of issue 29's grid (ANALYSIS_PLAN_ADDENDUM.md, section 2): shifts 12 %, rotations +-29
#: degrees, zoom 15 %
STRONG_AUGMENT = AugmentConfig(rotation=0.08, zoom=0.15, translation=0.12, flip_probability=0.0, blur_probability=0.0,
                               noise_stddev=0.0, erase_probability=0.0)
AUGMENTS = {"light": LIGHT_AUGMENT, "strong": STRONG_AUGMENT}  #: the augmentations of the grid, by name


@dataclass(frozen=True)
class Tuned:
    """One arm's settings tuned where labels are scarce (ANALYSIS_PLAN_ADDENDUM.md, section 2): the budget in times the
    first run's (its ``min_fit_images`` and ``max_epochs`` both scaled), the augmentation (`AUGMENTS`) and the
    learning rate."""

    budget: int
    augment: str
    learning_rate: float


#: the addendum's tuned settings, chosen on the 3,000 selection images of the labelled set (never the test set), per
#: start (``scratch``: random weights; ``pretrained``: the Siamese encoder, whose settings the weight-scale control
#: shares) and primary amount: experiments/results/scarce.md (the Siamese winners at 8x, where the addendum stops
#: the budget grid)
TUNED = {("scratch", "10/class"): Tuned(4, "strong", 1e-2), ("scratch", "1%"): Tuned(4, "light", 1e-2),
         ("pretrained", "10/class"): Tuned(8, "strong", 1e-2), ("pretrained", "1%"): Tuned(8, "strong", 1e-2)}
#: the largest budget the addendum's selection tried (ANALYSIS_PLAN_ADDENDUM.md, section 2: the grid stops there); a
#: start tuned at it was still improving on the selection images there, and the pages say so
TUNED_BUDGET_TOP = 8
#: the curve's amounts (label count) from which the settings tuned at 1 % are used: the primary amount nearest on a
#: log scale (100 labels: 10/class; 200 and more: 1 %)
TUNED_AT_ONE_PERCENT = 168
#: the weight-scale control (ANALYSIS_PLAN_ADDENDUM.md, section 3): notebook 3's untrained encoder with each kernel at
#: the norm of the Siamese encoder's of the same seed; made by notebook 4, used like an encoder
SCALE_CONTROL = "scaled"

STEPS_PER_EXECUTION = 16  #: training batches per call of the compiled step: less Python per batch (see benchmarks/)


@dataclass(frozen=True)
class Choices:
    """What one dataset's selection chose on its own validation data (``experiments/results/`` for MNIST,
    ``experiments/results/<dataset>/`` for another), and the commits that froze the plan its run is judged by. The
    design (`ssl_study.study.design`), the units and the pages read a dataset's choices from here, never a constant.
    ``chosen`` is False while a dataset's selection has not ended: its settings are MNIST's, stand-ins for the quick
    profile, and its full run is refused."""

    best_pretext: str  #: the best other pretext (the highest decision score at each task's chosen setting)
    other_use: str  #: the other pretexts' use: ``recipe`` or ``finetune`` (probe-then-fine-tune)
    semi_method: str  #: the semi-supervised method of the test
    tuned: dict  #: each start's settings tuned where labels are scarce: {(start, amount): `Tuned`}
    tuned_budget_top: int = TUNED_BUDGET_TOP  #: the largest budget its scarce selection tried
    #: the pretexts' settings that differ from the units' defaults (chosen on MNIST): {pretext: {setting: value}}
    pretext_settings: dict = field(default_factory=dict)
    epochs_at_full: int = 40  #: the supervised recipe's passes over the labelled set at 100 % of it
    plan: str = "ANALYSIS_PLAN.md"  #: the plan the run is judged by
    plan_commit: str = ""  #: the commit that froze it (empty: a draft)
    addendum: str = ""  #: its addendum, if any
    addendum_commit: str = ""
    chosen: bool = True


CHOICES = {
    "mnist": Choices(BEST_PRETEXT, OTHER_USE, SEMI_METHOD, TUNED, plan_commit=PLAN_COMMIT,
                     addendum="ANALYSIS_PLAN_ADDENDUM.md", addendum_commit=ADDENDUM_COMMIT),
    # issue 30: the selection runs (experiments/fashion_selection.sh); until it ends, MNIST's choices stand in
    "fashion": Choices(BEST_PRETEXT, OTHER_USE, SEMI_METHOD, TUNED, plan="ANALYSIS_PLAN_FASHION.md", chosen=False),
}


def choices(name: str | None = None) -> Choices:
    """The choices of the dataset called ``name`` (else the one ``$SSL_DATASET`` names, else MNIST's)."""
    return CHOICES[get_dataset(name).name]


def config_dict(obj) -> dict:
    """A dataclass (profile, recipe, augmentation, pretext settings) as a plain dict, for metadata and cache keys."""
    return asdict(obj)
