"""A pretext task and a semi-supervised method registered only by a test (tests/units_for_tests.py, through
$SSL_UNITS) run through notebooks 4 to 6 in the quick profile (after 1 to 3), with no edit to a notebook or the
package, and nothing published."""

from pathlib import Path

import pandas as pd

import helpers
import ssl_study.report.publishing as publishing
import ssl_study.run.runner as runner
from ssl_study.config import FIT_CACHE_ENV, JOBS_ENV, OUTPUT_ENV, PROFILE_ENV, UNITS_ENV

UNITS = Path(__file__).with_name("units_for_tests.py")


def test_units_registered_by_a_test_run_through_notebooks_4_to_6(monkeypatch):
    for name in (PROFILE_ENV, JOBS_ENV, OUTPUT_ENV, FIT_CACHE_ENV):  # main sets them for its kernels: restore after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv(UNITS_ENV, str(UNITS))
    assert runner.main(["--profile", "quick", "--no-publish"]) == 0  # all six: 4-6 start from 1-3's artefacts
    staged = publishing.stage_of("quick") / "artefacts" / "quick"
    assert helpers.read_meta(staged / "split.npz", helpers.NOTEBOOK_SPLIT)["seed"] == helpers.QUICK_SPLIT_SEED
    results = pd.read_csv(staged / "results_pretrained.csv")
    methods = set(results["method"])
    assert {"tiny_knn", "tiny_logistic", "tiny_probe", "tiny_finetune", "labelsonly",
            f"{helpers.BEST_PRETEXT}_{helpers.SEMI_METHOD}"} <= methods  # a semi-supervised run from an encoder too
    assert set(results.loc[results["method"] == "tiny_finetune", "label"]) == {"Tiny, probed, then fine-tuned"}
    # the test-only kind of fit: from the headline pretext's encoder at the primary amounts (no arm names it)
    assert set(results.loc[results["method"] == "siamese_halfway", "label"]) == {"Siamese, half the recipe"}
    assert set(results.loc[results["method"] == "labelsonly", "label"]) == {"labels only (random init)"}
    gains = pd.read_csv(staged / "gains.csv")
    assert {"tiny_finetune", "labelsonly"} <= set(gains["method"])
    assert ">Tiny</th>" in (staged / "reports" / "04_siamese_pretext.html").read_text()  # its settings and runs
    history = pd.read_csv(staged / "pretext_history.csv")
    assert "tiny" in set(history["pretext"])
    assert "Tiny, probed, then fine-tuned" in (staged / "reports" / "06_comparison.html").read_text()
    assert not (helpers.ARTEFACTS_DIR / "quick" / "encoder_tiny_seed0.weights.h5").exists()  # nothing published
