"""The dataset is a parameter of the study (issue 30): MNIST, the assignment's and the default, or Fashion-MNIST, each
with its source, its class names and its word for a class in one place (`ssl_study.config.Dataset`); the data layer
reads, checks and caches either, and says which it read."""

import numpy as np
import pandas as pd
import pytest

from conftest import make_tree
from ssl_study import config
from ssl_study.compute import data


def test_the_registry_holds_both_datasets_and_mnist_is_the_default(monkeypatch):
    monkeypatch.delenv(config.DATASET_ENV, raising=False)
    assert config.get_dataset().name == "mnist" and config.get_dataset().env == config.DATA_ENV
    fashion = config.get_dataset("fashion")
    assert (fashion.title, fashion.env, fashion.noun, fashion.plural) == ("Fashion-MNIST", "FASHION_PNG",
                                                                          "garment class", "garment classes")
    assert fashion.class_names[9] == "ankle boot" and len(fashion.class_names) == config.N_CLASSES
    assert fashion.total == 70_000 == config.get_dataset("mnist").total
    assert config.get_dataset("mnist").sources == config.DEFAULT_SOURCES
    monkeypatch.setenv(config.DATASET_ENV, "fashion")
    assert config.get_dataset() is fashion
    monkeypatch.setenv(config.DATASET_ENV, "cifar")
    with pytest.raises(ValueError, match="Unknown dataset 'cifar': use one of fashion, mnist"):
        config.get_dataset()


def test_each_dataset_is_found_by_its_own_variable_and_named_when_missing(tmp_path, monkeypatch):
    fashion = config.get_dataset("fashion")
    tree = make_tree(tmp_path, folder="fashion_png")
    monkeypatch.setenv("FASHION_PNG", str(tree))
    monkeypatch.delenv(config.DATA_ENV, raising=False)
    assert data.find_source(dataset=fashion) == tree.resolve()
    monkeypatch.setenv("FASHION_PNG", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match="No Fashion-MNIST data at .*data/fashion_png/.*FASHION_PNG"):
        data.find_source(dataset=fashion)


def test_a_fashion_tree_is_decoded_cached_and_announced_under_its_own_name(tmp_path, monkeypatch, capsys):
    fashion = config.get_dataset("fashion")
    tree = make_tree(tmp_path, per_class=2, folder="fashion_png")
    images = data.load_mnist(tree, cache_dir=tmp_path / "cache", dataset=fashion)
    assert len(images) == 40 and sorted(np.unique(images.labels)) == list(range(10))
    assert [p.name[:8] for p in (tmp_path / "cache").glob("*.npz")] == ["fashion-"]
    said = capsys.readouterr().out
    assert said.strip() == "40 Fashion-MNIST images, decoded from the course's PNGs (not the 70,000 of the course's " \
                           "Fashion-MNIST)"
    again = data.load_mnist(tree, cache_dir=tmp_path / "cache", dataset=fashion)  # read back decoded
    assert again.fingerprint == images.fingerprint


def test_a_damaged_tree_is_named_in_the_datasets_own_words(tmp_path):
    tree = make_tree(tmp_path, per_class=3, folder="fashion_png")
    for png in list((tree / "training" / "4").glob("*.png"))[:2]:
        png.unlink()
    with pytest.raises(data.DataError, match="some garment classes than the course's Fashion-MNIST .garment class 4"):
        data.load_mnist(tree, cache_dir=tmp_path / "cache", dataset=config.get_dataset("fashion"))


def test_each_dataset_has_its_own_folders_and_runs_that_never_share_a_lock(tmp_path, monkeypatch):
    from ssl_study.report import publishing

    layout = config.Layout(tmp_path)
    monkeypatch.delenv(config.DATASET_ENV, raising=False)
    mnist = {"full": layout.folders("full"), "quick": layout.folders("quick"), "stage": publishing.run_tag("full")}
    assert mnist["full"] == [tmp_path / f for f in ("artefacts/full", "figures", "notebooks", "reports")]
    assert mnist["quick"] == [tmp_path / "artefacts/quick"] and mnist["stage"] == "full"
    monkeypatch.setenv(config.DATASET_ENV, "fashion")
    assert layout.folders("full") == [tmp_path / f for f in ("artefacts/fashion/full", "figures/fashion",
                                                             "reports/fashion")]
    assert layout.executed("full") == tmp_path / "artefacts/fashion/full/notebooks"  # never collected by nbval
    assert layout.folders("quick") == [tmp_path / "artefacts/fashion/quick"]
    assert publishing.run_tag("full") == "fashion-full"


def test_publishing_one_dataset_keeps_the_others_pages(tmp_path, monkeypatch):
    """MNIST's complete run replaces what it publishes in reports/ and figures/, but leaves Fashion-MNIST's folders
    inside them as they are."""
    from conftest import project_in
    from ssl_study.report import publishing

    project = project_in(tmp_path, monkeypatch)
    monkeypatch.delenv(config.DATASET_ENV, raising=False)
    for path in ("reports/old.html", "reports/fashion/index.html", "figures/fashion/a.png", "figures/old.png"):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(path)
    stage = publishing.prepare_stage("full", config.NOTEBOOKS)
    for path in ("reports/index.html", "figures/b.png", "artefacts/full/summary.csv"):
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_text(path)
    publishing.publish("full", stage, config.NOTEBOOKS)
    assert (project / "reports/fashion/index.html").read_text() == "reports/fashion/index.html"
    assert (project / "figures/fashion/a.png").exists() and (project / "reports/index.html").exists()
    assert not (project / "reports/old.html").exists() and not (project / "figures/old.png").exists()


def test_the_runner_takes_the_dataset_on_its_command_line_and_its_kernels_inherit_it(monkeypatch):
    import os

    from ssl_study.run import runner

    monkeypatch.setenv(config.DATASET_ENV, "mnist")  # (so that the variable main sets is undone after the test)
    assert runner.build_parser().parse_args(["--dataset", "fashion"]).dataset == "fashion"
    monkeypatch.setattr(runner, "check_settings", lambda: (_ for _ in ()).throw(runner.SettingError("stop here")))
    assert runner.main(["--dataset", "fashion"]) == 2
    assert os.environ[config.DATASET_ENV] == "fashion"


@pytest.mark.parametrize("name, noun, plural", [("mnist", "digit", "digits"),
                                                ("fashion", "garment class", "garment classes")])
def test_the_sentences_and_the_confusions_figure_name_the_datasets_classes(name, noun, plural, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from ssl_study.report import plots, reasons

    monkeypatch.setenv(config.DATASET_ENV, name)
    analyses = [{"pair errors": {"negative pairs, same digit": 0.2, "negative pairs, different digits": 0.05},
                 "rotation accuracy per digit": {d: 0.9 - 0.01 * d for d in range(10)}}]
    siamese, rotation = reasons.why("siamese", analyses), reasons.why("rotation", analyses)
    assert f"show the same {noun} 'same image'" in siamese and f"show different {plural}" in siamese
    assert rotation.startswith(f"Rotation prediction is hardest for the {plural} ")
    if name == "fashion":
        assert "ankle boot" in rotation and "7s" not in siamese
    fig = plots.plot_confusions({"supervised": {"10/class/0": np.eye(10).tolist()}}, ["10/class"])
    assert fig.axes[0].get_xlabel() == f"predicted {noun}" and f"each true {noun}" in fig._suptitle.get_text()


def test_the_selection_experiments_write_another_datasets_results_apart():
    """``SSL_DATASET=fashion python -m experiments.selection ...`` reads Fashion-MNIST and writes its results under
    ``experiments/results/fashion/``, never over MNIST's."""
    import os
    import subprocess
    import sys

    code = "from experiments import selection_common as c; print(c.DATASET.name, c.OUT.relative_to(c.ROOT))"
    for name, folder in (("mnist", "experiments/results"), ("fashion", "experiments/results/fashion")):
        env = {**os.environ, config.DATASET_ENV: name}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              cwd=config.ROOT, timeout=120)
        assert done.stdout.split() == [name, folder], done.stderr[-2000:]


@pytest.mark.parametrize("amounts", [[("10%", 72), ("10/class", 100)], [("10/class", 100)],
                                     [("10/class", 100), ("10%", 2800), ("100%", 28000)]])
def test_the_baselines_sentence_holds_for_any_set_of_amounts(amounts):
    """A small dataset (1,800 images: 10 % of its labelled set is 72 images, fewer than 10 per class) once made
    notebook 2 fail on an amount at or below half the largest; every set of amounts gets a sentence."""
    from ssl_study.report.baseline import learning_curve_sentence

    summary = pd.DataFrame([{"amount": a, "n_labels": n, "mean": 0.5 + n / 1e5, "ci95": 0.01} for a, n in amounts])
    said = learning_curve_sentence(summary)
    assert said.startswith("**What it means.** Trained from random weights, the CNN reaches")
    assert ("the last doubling" in said) == (len(amounts) == 3)


def test_the_smallest_dataset_each_profile_supports_is_stated_and_a_smaller_one_refused_before_any_fit(tmp_path,
                                                                                                    monkeypatch,
                                                                                                    capsys):
    """A 300-image set once failed in notebook 4 (a cross-validation on one image per class); now the runner refuses
    it in one sentence, naming the smallest size the profile's design supports."""
    from ssl_study.run import runner
    from ssl_study.study.profiles import PROFILES

    assert PROFILES["quick"].smallest_dataset() == 500 and PROFILES["full"].smallest_dataset() == 5000
    tree = make_tree(tmp_path, per_class=15)  # 300 images
    monkeypatch.setenv(config.DATA_ENV, str(tree))
    monkeypatch.setenv(config.DATA_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(config.DATASET_ENV, "mnist")
    monkeypatch.setattr(runner, "execute", lambda *a: pytest.fail("a notebook ran"))
    assert runner.main(["--profile", "quick"]) == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "has 300 images, fewer than the 500 the quick profile's design needs" in said


def test_the_notebooks_prose_is_rendered_in_the_datasets_own_words():
    """The notebooks' Markdown is written for MNIST (the submission); another dataset's pages say its name and its
    word for a class, capitals kept, and MNIST's pages are left as written."""
    from ssl_study.report.words import in_dataset_words

    text = "# 1 · Splitting MNIST\n\nEach digit's share; Digits that look alike; errors per digit; MNIST's own sets."
    assert in_dataset_words(text, config.get_dataset("mnist")) == text
    assert in_dataset_words(text, config.get_dataset("fashion")) == (
        "# 1 · Splitting Fashion-MNIST\n\nEach garment class's share; Garment classes that look alike; errors per "
        "garment class; Fashion-MNIST's own sets.")


def test_each_datasets_design_is_built_from_its_own_choices_and_its_full_run_waits_for_its_plan(monkeypatch):
    """Issue 30: what a selection chose lives in one place per dataset (`config.CHOICES`); the design, the analysis and
    the units read it from there. A dataset whose selection has not ended, or whose plan is not frozen, gets no full
    run: one sentence that names the selection and the plan."""
    from dataclasses import replace

    from ssl_study.study import profiles
    from ssl_study.study.design import SettingError

    mnist = profiles.DESIGNS["mnist"]["full"]
    assert mnist.choices is config.CHOICES["mnist"] and mnist.choices.plan_commit == config.PLAN_COMMIT
    other = replace(config.CHOICES["fashion"], best_pretext="contrastive", other_use="recipe", semi_method="x")
    design = profiles.fashion_full(other)
    assert design.seeds_of("contrastive", "recipe", "10/class") == tuple(range(10))  # the "best" arm: its pretext
    assert design.seeds_of("rotation", "recipe", "10/class") == (0, 1, 2)  # an "other" one
    assert design.semi_plan("x", 28_000)[0][2] == tuple(range(5))
    assert min(len(s) for arm in design.arms if arm.use == "tuned" for s in [arm.seeds]) >= 20
    monkeypatch.setenv(config.DATASET_ENV, "fashion")
    assert profiles.get_profile("quick").choices is config.CHOICES["fashion"]
    if not (config.CHOICES["fashion"].chosen and config.CHOICES["fashion"].plan_commit):
        with pytest.raises(SettingError, match="waits for its plan.*fashion_selection.sh.*ANALYSIS_PLAN_FASHION.md"):
            profiles.get_profile("full")
    monkeypatch.setitem(config.CHOICES, "mnist", replace(config.CHOICES["mnist"], plan_commit=""))
    monkeypatch.setitem(profiles.DESIGNS["mnist"], "full", replace(mnist, choices=config.CHOICES["mnist"]))
    monkeypatch.setenv(config.DATASET_ENV, "mnist")
    with pytest.raises(SettingError, match="waits for its plan"):
        profiles.get_profile("full")
