"""Helpers for the study "does self-supervised pre-training help a very simple CNN when labels are scarce?".

Every notebook in ``notebooks/`` imports this module, and only this one. It is a facade: the code lives in the small
package ``ssl_study/`` (installed in editable mode by ``make setup``), one module per concern, and this file lists
what the notebooks use, in the order a reader meets it. Nothing here depends on the working directory.

The code uses Keras 3's backend-neutral API (layers, ``keras.ops``, ``keras.random``), so the same notebooks run with
``KERAS_BACKEND=tensorflow`` (the default) or ``jax``.
"""

from __future__ import annotations

# Settings in one place: paths, profiles (full / quick), the training recipe, augmentation, environment variables.
from ssl_study.config import (ARTEFACTS_DIR, ASSIGNMENT_AMOUNTS, BEST_PRETEXT, CONFIRMATORY_SPLIT_SEED,
                              EXPLORATORY_SPLIT_SEED, OTHER_USE, PLAN_COMMIT, SEMI_METHOD, Arm, DATA_ENV, EQUIVALENCE_MARGIN, FIGURES_DIR, HEADLINE_PRETEXT, INPUT_SHAPE,
                              JOBS_ENV, NOTEBOOKS, NOTEBOOKS_DIR, NOTEBOOK_COMPARISON, NOTEBOOK_ENCODER,
                              NOTEBOOK_FINETUNE, NOTEBOOK_PRETEXT, NOTEBOOK_SPLIT, NOTEBOOK_SUPERVISED, N_CLASSES,
                              PRIMARY_AMOUNTS, PROFILES, PROFILE_ENV, ROOT, SELECTION_SEEDS, SPLIT_PROPORTIONS,
                              SPLIT_SEED, STEPS_PER_EXECUTION, AugmentConfig, Profile, Recipe, config_dict,
                              default_jobs, get_profile)

# Artefacts: every file a notebook writes has a side-car recording what it was made from; stale inputs are refused.
from ssl_study.artefacts import (ArtefactError, file_sha256, load_arrays, load_json, load_table, meta_path, read_meta,
                                 save_arrays, save_json,
                                 save_table, save_text, write_meta)

# Data: the course's PNGs (folder or archive), checked, decoded once and cached; the split; nested label subsets.
from ssl_study.data import (SPLIT_NAMES, DataError, Mnist, check_complete, data_fingerprint, find_source, load_mnist,
                            load_split, make_split, nested_subsets, save_split, split_fingerprint, to_model_input,
                            train_val_split)

# Models: the prescribed CNN, its encoder (the CNN up to Flatten), the probe's linear head, the augmenter.
from ssl_study.models import (architecture_fingerprint, build_augmenter, build_classifier, build_encoder,
                              build_linear_head, encode, import_keras, layer_table, weights_fingerprint)

# Pretext tasks: one unit each (settings, network, targets, loss), a registry, and one function that trains any of them.
from ssl_study.pretexts import (PRETEXTS, Pretext, PretextSettings, get_pretext, knn_monitor, monitor_slice,
                                pretext_indices, pretrain, register)
from ssl_study.pretexts.siamese import (Siamese, SiameseSettings, build_siamese, check_pretext_batches, example_pairs,
                                        pretext_targets)

# Training: the shared recipe, the budget of a fit, supervised / probe / probe-then-fine-tune, evaluation.
from ssl_study.training import (FROZEN_GRIDS, epochs_for, evaluate, fit_classifier, frozen_estimator,
                                probe_then_finetune, train_frozen, train_probe, train_supervised, training_budget)

# Tasks: every fit and pretext run computed once (fit cache of plain data, keyed by versions), in parallel (joblib:
# loky or Dask).
from ssl_study.tasks import FROZEN_KINDS, Fit, PretextRun, SemiRun, plan_fits
from ssl_study.executor import embedding_map, run_tasks

# Semi-supervised learning on the same CNN: one unit per method (teacher -> student pseudo-labelling, FixMatch-style
# consistency), a registry.
from ssl_study.semi import (SEMI_METHODS, FixMatch, FixMatchSettings, PseudoLabel, PseudoLabelSettings, SemiMethod,
                            consistency_loss, get_semi, predict_pseudo_labels)

# What the notebooks pass on to each other: inputs, encoders, results.
from ssl_study.study import (RESULT_COLUMNS, Inputs, Outcome, check_encoder, combine, encoder_files, encoder_weights,
                             identities, initial_encoders, load_encoder, load_inputs, load_outcome, plan_encoder_fits,
                             plan_pretext_runs, plan_semi_runs, plan_sweep_fits, plan_sweep_runs, planned_fits,
                             pretext_seeds, pretrained_encoders, run_fits, run_pretexts, save_encoder,
                             save_initial_encoder, save_outcome, save_pretext_encoder, save_pretext_encoders,
                             save_sweep, save_sweep_encoders, sweep_stage, sweep_table)

# Statistics: means and t intervals, the summary table, Holm's correction, cost in seconds.
from ssl_study.stats import cost_seconds, effective_rank, holm, mean_ci, summary_table, t_band

# Methods: an encoder and a use; labels and figure styles come from the units that define them.
from ssl_study.methods import (encoder_label, label, method_id, method_label, method_style, parts, style,
                               use_label)

# Figures.
from ssl_study.plots import (METRIC_LABELS, code_names, plot_accuracy_vs_labels, plot_confusions, plot_sweep,
                             percent_axis, plot_digits, plot_gains, plot_history, plot_pairs, plot_time_to_accuracy,
                             savefig, score_text)


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
