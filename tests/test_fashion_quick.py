"""The second dataset under CI (issue 30): the quick profile runs all six notebooks on a subset of the course's
Fashion-MNIST PNGs, so a change that breaks the second dataset fails ``make test``. The subset (the first images of
each class, in name order) keeps the run to a few minutes; the pages must speak of garment classes, never digits.

The same run registers a pretext task and a semi-supervised method known only to the tests (tests/units_for_tests.py,
through $SSL_UNITS): they run through notebooks 4 to 6 with no edit to a notebook or the package, and nothing is
published (one quick run for both checks, not two: ``make test`` stays within ten minutes).

CI points ``FASHION_PNG`` at ``../shared/data/fashion_png.tar.gz`` (``.ci/run``); elsewhere the test looks where the
study does (``data/fashion_png...``) and is skipped where no copy is found, but never under CI."""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import pandas as pd

import helpers
from ssl_study import config
from ssl_study.compute import data

UNITS = Path(__file__).with_name("units_for_tests.py")

FASHION = config.get_dataset("fashion")
PER_CLASS = {"training": 80, "testing": 20}  #: 1,000 images: twice the quick profile's smallest dataset


def fashion_source() -> Path:
    """The course's Fashion-MNIST archive or folder, where the study would find it; skipped if none (failed in CI)."""
    try:
        return data.find_source(dataset=FASHION)
    except data.DataError as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the second dataset: {err}")
        pytest.skip(f"no Fashion-MNIST copy here: {err}")


def write_subset(source: Path, target: Path) -> int:
    """The first ``PER_CLASS`` PNGs of each class of each folder of ``source`` (an archive or a folder, in name order)
    as a PNG tree at ``target``; returns the number of images written."""
    def wanted(name: str) -> tuple[str, str] | None:
        parts = Path(name).parts
        return (parts[-3], parts[-2]) if len(parts) >= 3 and parts[-3] in PER_CLASS and name.endswith(".png") else None

    if source.is_dir():
        members = {str(p.relative_to(source)): p.read_bytes for p in sorted(source.rglob("*.png"))}
    elif zipfile.is_zipfile(source):
        archive = zipfile.ZipFile(source)
        members = {n: (lambda n=n: archive.read(n)) for n in sorted(archive.namelist())}
    else:
        archive = tarfile.open(source)
        found = {m.name: m for m in archive.getmembers() if m.isfile()}
        members = {n: (lambda m=found[n]: archive.extractfile(m).read()) for n in sorted(found)}
    taken: dict[tuple[str, str], int] = {}
    for name, read in members.items():
        key = wanted(name)
        if key is None or taken.get(key, 0) >= PER_CLASS[key[0]]:
            continue
        path = target / key[0] / key[1] / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(read())
        taken[key] = taken.get(key, 0) + 1
    return sum(taken.values())


def test_the_quick_profile_runs_all_six_notebooks_on_fashion_mnist_with_units_registered_by_a_test(tmp_path,
                                                                                                    monkeypatch):
    from ssl_study.report.publishing import stage_of

    subset = tmp_path / "fashion_png"
    assert write_subset(fashion_source(), subset) == 10 * sum(PER_CLASS.values())
    env = {**os.environ, FASHION.env: str(subset), config.DATA_CACHE_ENV: str(tmp_path / "data-cache"),
           "SSL_FIT_CACHE": str(tmp_path / "fit-cache"), config.DATASET_ENV: "fashion", "SSL_PROFILE": "quick",
           config.UNITS_ENV: str(UNITS)}
    monkeypatch.setenv(config.DATASET_ENV, "fashion")
    stage = stage_of("quick")  # the run's staging folder, kept by --no-publish: removed after the test
    try:
        done = subprocess.run([sys.executable, str(helpers.ROOT / "run_study.py"), "--profile", "quick", "--dataset",
                               "fashion", "--no-publish", "--jobs", "2"], env=env, capture_output=True, text=True,
                              timeout=900, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        pages = {p.name: p.read_text(encoding="utf-8") for p in stage.rglob("*.html")
                 if p.stem not in ("plan", "addendum")}  # MNIST's frozen plan, quoted as committed
        assert {n.replace(".ipynb", ".html") for n in helpers.NOTEBOOKS} <= set(pages), sorted(pages)
        shown = re.sub(r"<(style|script)\b.*?</\1>|<details class=\"code-cell\">.*?</details>", " ",
                       "".join(pages.values()), flags=re.S)  # what a reader sees: no styles, no folded code
        text = re.sub(r"<[^>]+>", " ", shown)
        assert "Fashion-MNIST" in text and "garment class" in text
        digits = [text[max(0, m.start() - 60):m.end() + 20] for m in re.finditer(r"\b[Dd]igits?\b", text)]
        assert not digits, f"MNIST's word on Fashion-MNIST's pages: {digits[:5]}"
        check_units_ran(config.Layout(stage).artefacts("quick"))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def check_units_ran(staged: Path) -> None:
    """The test-only units (`UNITS`) ran through notebooks 4 to 6 of the run staged in ``staged``, on the quick
    profile's own split, and nothing of theirs was published."""
    assert helpers.read_meta(staged / "split.npz", helpers.NOTEBOOK_SPLIT)["seed"] == helpers.QUICK_SPLIT_SEED
    results = pd.read_csv(staged / "results_pretrained.csv")
    methods = set(results["method"])
    chosen = config.choices("fashion")
    assert {"tiny_knn", "tiny_logistic", "tiny_probe", "tiny_finetune", "labelsonly",
            f"{chosen.best_pretext}_{chosen.semi_method}"} <= methods  # a semi-supervised run from an encoder too
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
    assert not (config.PROJECT.artefacts("quick") / "encoder_tiny_seed0.weights.h5").exists()  # nothing published
