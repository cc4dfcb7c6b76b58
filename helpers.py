"""Helpers for the study "does self-supervised pre-training help a very simple CNN when labels are scarce?".

Every notebook in ``notebooks/`` imports this module, and only this one. It is a facade: the code lives in the small
package ``ssl_study/`` (installed in editable mode by ``make setup``), one module per concern, and this file lists
what the notebooks use, in the order a reader meets it. Nothing here depends on the working directory.

The code uses Keras 3's backend-neutral API (layers, ``keras.ops``, ``keras.random``), so the same notebooks run with
``KERAS_BACKEND=tensorflow`` (the default) or ``jax``.
"""

from __future__ import annotations

# The package's layers, lowest first: compute (data, models, training, the units), the study (its design, tasks, keys,
# cache, runs, what notebooks pass on) and the report (statistics, words, figures), with the runner above them;
# `config` holds the constants under all. Each layer imports only from the ones below it (`make lint`; CI).

# Constants in one place: paths, environment variables, notebooks, the split, the primary endpoint, the recipe; and
# what each dataset's selection chose (`choices()`: the best other pretext, the semi-supervised method, the tuned
# settings, the plan's commits), read from the run's profile (``profile.choices``) by the notebooks.
from ssl_study.config import (ARTEFACTS_DIR, ASSIGNMENT_AMOUNTS, CHOICES, CONFIRMATORY_SPLIT_SEED, DATASETS,
                              DATASET_ENV, DATA_ENV, DEFAULT_DATASET, EQUIVALENCE_MARGIN, EXPLORATORY_SPLIT_SEED,
                              FIGURES_DIR, HEADLINE_PRETEXT, INPUT_SHAPE, JOBS_ENV, NOTEBOOKS, NOTEBOOKS_DIR,
                              NOTEBOOK_COMPARISON, NOTEBOOK_ENCODER, NOTEBOOK_FINETUNE, NOTEBOOK_PRETEXT,
                              NOTEBOOK_SPLIT, NOTEBOOK_SUPERVISED, N_CLASSES, PRIMARY_AMOUNTS, PROFILE_ENV,
                              QUICK_SPLIT_SEED, ROOT, SCALE_CONTROL, SELECTION_SEEDS, SPLIT_PROPORTIONS, SPLIT_SEED,
                              STEPS_PER_EXECUTION, AugmentConfig, Choices, Dataset, Recipe, choices, config_dict,
                              get_dataset)

# --- compute ----------------------------------------------------------------------------------------------------------
# Artefacts: every file a notebook writes has a side-car recording what it was made from; stale inputs are refused.
from ssl_study.compute.artefacts import (ArtefactError, file_sha256, load_arrays, load_json, load_table, meta_path,
                                         read_meta, save_arrays, save_json, save_table, save_text, write_meta)

# Data: the course's PNGs (folder or archive), checked, decoded once and cached; the split; nested label subsets.
from ssl_study.compute.data import (DataError, Mnist, check_complete, data_fingerprint, find_source, load_mnist,
                                    to_model_input)
from ssl_study.compute.split import SPLIT_NAMES, make_split, nested_subsets, split_fingerprint, train_val_split

# Models: the prescribed CNN, its encoder (the CNN up to Flatten), the probe's linear head, the augmenter.
from ssl_study.compute.models import (architecture_fingerprint, build_augmenter, build_classifier, build_encoder,
                                      build_linear_head, encode, import_keras, layer_table, rescaled_like,
                                      weights_fingerprint)

# Training: the shared recipe, supervised / probe / probe-then-fine-tune, the frozen-feature classifiers, evaluation.
from ssl_study.compute.training import (FROZEN_GRIDS, evaluate, fit_classifier, frozen_estimator, probe_then_finetune,
                                        train_frozen, train_probe, train_supervised)

# The units, one module and one registry line each: pretext tasks, semi-supervised methods, kinds of fit.
from ssl_study.compute.pretexts import (PRETEXTS, Pretext, PretextSettings, get_pretext, knn_monitor, monitor_slice,
                                        pretext_indices, pretrain, register)
from ssl_study.compute.pretexts.siamese import (Siamese, SiameseSettings, build_siamese, check_pretext_batches,
                                                example_pairs, pretext_targets)
from ssl_study.compute.semi import (SEMI_METHODS, FixMatch, FixMatchSettings, PseudoLabel, PseudoLabelSettings,
                                    SemiMethod, SemiSettings, consistency_loss, get_semi, predict_pseudo_labels)
from ssl_study.compute.semi import register as register_semi
from ssl_study.compute.fits import FIT_KINDS, FROZEN_KINDS, FitData, FitKind
from ssl_study.compute.fits import register as register_fit

# --- the study --------------------------------------------------------------------------------------------------------
# The design: the profiles (full / quick), their arms, and the budget of a supervised fit.
from ssl_study.study.design import Arm, Profile, default_jobs, epochs_for, training_budget
from ssl_study.study.profiles import PROFILES, get_profile, profiles

# Methods: an encoder and a use, with an id and a label taken from the units that define them.
from ssl_study.study.methods import encoder_label, label, method_id, method_label, parts, use_label

# Tasks: every fit and pretext run computed once (fit cache of plain data, keyed by versions), in parallel (joblib:
# loky or Dask).
from ssl_study.study.tasks import Fit, PretextRun, SemiRun
from ssl_study.study.plans import plan_fits
from ssl_study.study.executor import embedding_map, run_tasks

# What the notebooks pass on to each other: inputs and encoders, fits and their results, pretext and semi runs.
from ssl_study.study.inputs import (Inputs, check_encoder, encoder_files, encoder_weights, identities, initial_encoders,
                                    load_encoder, load_inputs, load_split, pretext_seeds, pretrained_encoders,
                                    save_encoder, save_initial_encoder, save_split)
from ssl_study.study.outcomes import (RESULT_COLUMNS, Outcome, combine, load_outcome, plan_encoder_fits, planned_fits,
                                      run_fits, save_outcome)
from ssl_study.study.runs import (plan_pretext_runs, plan_semi_runs, plan_sweep_fits, plan_sweep_runs, run_pretexts,
                                  save_pretext_encoder, save_pretext_encoders, save_scale_controls, save_sweep,
                                  save_sweep_encoders, sweep_stage, sweep_table)

# --- the report -------------------------------------------------------------------------------------------------------
# Statistics: means and t intervals, the summary table, Holm's correction, cost in seconds.
from ssl_study.report.stats import cost_seconds, effective_rank, holm, mean_ci, summary_table, t_band

# Figures: a method's style (colour by encoder, line by use), the study's plots, and each unit's own views.
from ssl_study.report.styles import method_style, style
from ssl_study.report.plots import (METRIC_LABELS, code_names, percent_axis, plot_accuracy_vs_labels, plot_confusions,
                                    plot_digits, plot_gains, plot_history, plot_pairs, plot_sweep,
                                    plot_time_to_accuracy, savefig, score_text)
from ssl_study.report.views import show_analysis, show_examples

# The analysis plan's tests and the written answer (their sentences filled from the results by templates).
from ssl_study.report import analysis, conclusion, curve, front
from ssl_study.report.words import p_words
from ssl_study.report.baseline import learning_curve_sentence


def setup_notebook(keras: bool = True):
    """The one setup call at the top of every notebook: seaborn's theme for the figures, and Keras imported without
    the backend's start-up chatter (its first import prints it from C++, past Python's streams, into the notebook).
    Returns the ``keras`` module; ``keras=False`` (a notebook that builds no network) skips the 3-second import and
    returns None."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return import_keras() if keras else None


def describe(profile: Profile) -> str:
    """One line for the top of a notebook: the profile, where its artefacts and figures go, and the parallel jobs."""
    out = profile.output  # the project, or a run's staging folder (laid out like the project)
    return (f"profile {profile.name!r}: artefacts in {profile.artefacts.relative_to(out)}, figures in "
            f"{profile.figures.relative_to(out)}, fit cache in {profile.cache.name}/ beside the artefacts")
