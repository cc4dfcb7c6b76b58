"""Artefacts know their inputs: side-cars record what a file was made from, and stale inputs are refused."""

import json

import numpy as np
import pandas as pd
import pytest

import helpers
from ssl_study.compute.artefacts import atomic_write
from ssl_study.config import SCALE_CONTROL


def test_missing_edited_and_unreadable_artefacts_name_the_notebook(tmp_path):
    path = tmp_path / "thing.npz"
    with pytest.raises(helpers.ArtefactError, match="missing.*run notebooks/01_split.ipynb"):
        helpers.read_meta(path, "01_split.ipynb")
    np.savez(path, a=np.arange(3))
    helpers.write_meta(path, "01_split.ipynb", data_fingerprint="abc")
    assert helpers.read_meta(path, "01_split.ipynb", data_fingerprint="abc")["notebook"] == "01_split.ipynb"
    with pytest.raises(helpers.ArtefactError, match="other MNIST images.*01_split.ipynb and every notebook after"):
        helpers.read_meta(path, "01_split.ipynb", data_fingerprint="other")
    np.savez(path, a=np.arange(4))
    with pytest.raises(helpers.ArtefactError, match="changed after notebooks/01_split.ipynb wrote it"):
        helpers.read_meta(path, "01_split.ipynb")
    helpers.meta_path(path).write_text("{ not json")
    with pytest.raises(helpers.ArtefactError, match="unreadable.*delete thing.npz and its side-car"):
        helpers.read_meta(path, "01_split.ipynb")


def test_an_artefact_made_from_a_replaced_input_is_refused(tmp_path):
    source = helpers.save_json({"a": 1}, tmp_path / "source.json", "02.ipynb")
    made = helpers.save_table(pd.DataFrame({"x": [1, 2]}), tmp_path / "made.csv", "06.ipynb", [source])
    assert json.loads(helpers.meta_path(made).read_text())["inputs"] == {"source.json": helpers.file_sha256(source)}
    assert helpers.load_table(made, "06.ipynb")["x"].tolist() == [1, 2]
    helpers.save_json({"a": 2}, source, "02.ipynb")  # notebook 2 re-ran with another result
    with pytest.raises(helpers.ArtefactError, match="made from an earlier source.json.*re-run notebooks/06.ipynb"):
        helpers.load_table(made, "06.ipynb")
    source.unlink()
    with pytest.raises(helpers.ArtefactError, match="earlier source.json"):
        helpers.load_table(made, "06.ipynb")


def test_side_cars_record_no_absolute_path(tmp_path):
    path = helpers.save_json({"p": tmp_path / "x"}, tmp_path / "a.json", "02.ipynb", [], "fp", where=tmp_path)
    assert str(tmp_path) not in path.read_text() + helpers.meta_path(path).read_text()


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def fail(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, fail)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_every_committed_artefact_has_a_matching_side_car():
    folder = helpers.ARTEFACTS_DIR / "full"
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".meta.json")]
    expected = {"split.npz", "pretext_history.csv", "pretext_diagnostics.json", "summary.csv", "summary.md",
                "pretexts.md", "semi.md", "results_sweep.csv", "gains.csv", "timings.json", "answer.md",
                "written_answer.md", "front_page.md"}
    expected |= {f"{kind}_{name}{ext}" for kind, ext in [("results", ".csv"), ("histories", ".json"),
                                                           ("confusions", ".json"), ("correct", ".npz")]
                 for name in ("supervised", "pretrained")}
    profile = helpers.PROFILES["full"]
    expected |= {f"encoder_{stage}_seed{s}.weights.h5" for stage in ["init", *helpers.PRETEXTS]
                 for s in (profile.all_seeds if stage == "init" else helpers.pretext_seeds(profile, stage))}
    expected |= {f"encoder_{SCALE_CONTROL}_seed{s}.weights.h5" for s in profile.encoder_seeds(SCALE_CONTROL)}
    whole = len(np.load(folder / "split.npz")["unlabelled"])  # the sweep's encoders on parts of the unlabelled set
    expected |= {f"encoder_{name}_u{round(fraction * whole)}_seed{s}.weights.h5" for name in profile.sweep_pretexts
                 for fraction in profile.unlabelled_fractions if fraction < 1 for s in profile.sweep_seeds}
    assert {p.name for p in files} == expected
    for path in files:
        meta = json.loads(helpers.meta_path(path).read_text())
        assert meta["sha256"] == helpers.file_sha256(path), path.name
        for source, sha in meta["inputs"].items():
            assert helpers.file_sha256(folder / source) == sha, f"{path.name} is stale against {source}"
        assert ("/work/" not in helpers.meta_path(path).read_text()
                and "/home/" not in helpers.meta_path(path).read_text())
