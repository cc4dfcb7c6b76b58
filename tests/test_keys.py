"""Cache keys are versions bumped on purpose, and the code each kind runs is found by following it: a wording edit
recomputes nothing, a changed line of code without a version bump fails here, naming the kind or the unit (see
``ssl_study/study/fingerprints.py``)."""

import json
from dataclasses import fields, replace

import pytest

import helpers
from ssl_study.study import fingerprints, keys


def test_every_task_kinds_code_matches_its_recorded_version():
    assert fingerprints.check() == []


def test_every_kind_and_every_shipped_unit_is_checked():
    assert set(fingerprints.kinds()) == {"fit", "pretext", "semi", "tsne", "init", "scale",
                                         *(f"fit:{name}" for name in helpers.FIT_KINDS),
                                         *(f"pretext:{name}" for name in helpers.PRETEXTS),
                                         *(f"semi:{name}" for name in helpers.SEMI_METHODS)}


def test_a_unit_registered_outside_the_package_is_not_checked(monkeypatch):
    """A test's own pretext, method or kind of fit (registered inside the test) needs no recorded version."""

    class Elsewhere(helpers.SemiMethod):
        name = "elsewhere"

    monkeypatch.setitem(helpers.SEMI_METHODS, "elsewhere", Elsewhere)
    assert "semi:elsewhere" not in fingerprints.kinds() and fingerprints.check() == []


@pytest.fixture(autouse=True)
def fresh_sources():
    """Every test reads the package's sources afresh (a test edits them in memory only)."""
    fingerprints._module.cache_clear()
    yield
    fingerprints._module.cache_clear()


def changed_kinds(monkeypatch, module: str, old: str, new: str) -> set[str]:
    """The kinds whose fingerprint changes when ``module``'s ``old`` becomes ``new``."""
    before = {kind: fingerprints.code_fingerprint(kind) for kind in fingerprints.kinds()}
    real = fingerprints._source
    source = real(module)
    assert old in source, old
    monkeypatch.setattr(fingerprints, "_source", lambda name: source.replace(old, new, 1) if name == module else
                        real(name))
    fingerprints._module.cache_clear()
    return {kind for kind in before if fingerprints.code_fingerprint(kind) != before[kind]}


def test_the_monitor_images_reach_the_pretext_runs_and_fail_without_a_bump(monkeypatch):
    """``MONITOR_IMAGES`` changes the stored k-NN monitor of every pretext run: a change fails, naming ``pretext``."""
    assert changed_kinds(monkeypatch, "ssl_study.compute.pretexts.base", "MONITOR_IMAGES = 1000",
                         "MONITOR_IMAGES = 999") == {"pretext"}
    problems = fingerprints.check()
    assert len(problems) == 1 and problems[0].startswith("pretext: ") and "not bumped" in problems[0]
    with pytest.raises(SystemExit, match="pretext: .*not bumped"):  # and it cannot be recorded without the bump
        fingerprints.record()
    monkeypatch.setitem(keys.VERSIONS, "pretext", keys.VERSIONS["pretext"] + 1)  # bumped: asks to record it
    assert "not recorded yet" in fingerprints.check()[0]


def test_the_seeding_helper_reaches_every_kind_that_builds_a_network(monkeypatch):
    """The seeds of every initialiser come from `_ThreadSeeds`: a change of its ``randint`` changes every initial
    weight, so it fails for the initial encoders and every kind of task that builds a network."""
    changed = changed_kinds(monkeypatch, "ssl_study.compute.models", "return self.generator.randint(a, b)",
                            "return self.generator.randint(a, b - 1)")
    assert changed == {"fit", "pretext", "semi", "init"}
    assert all("not bumped" in problem for problem in fingerprints.check())


def test_the_cross_validation_sample_reaches_the_frozen_kinds_alone(monkeypatch):
    """``CV_IMAGES`` (the frozen-feature classifiers' cross-validation) is reached by the k-NN and logistic units
    only: bumping them re-keys their fits and no other fit."""
    assert changed_kinds(monkeypatch, "ssl_study.compute.training", "CV_IMAGES = ", "CV_IMAGES = 1 + ") == \
        {"fit:knn", "fit:logistic"}
    fits = {kind: helpers.Fit(kind, "1%", 280, 0, 40, 128, helpers.Recipe(), "data", "split", "siamese", "id")
            for kind in helpers.FIT_KINDS}
    before = {kind: keys.task_key("fit", fit) for kind, fit in fits.items()}
    for name in ("knn", "logistic"):
        monkeypatch.setattr(helpers.FIT_KINDS[name], "version", helpers.FIT_KINDS[name].version + 1)
    assert {kind for kind, fit in fits.items() if keys.task_key("fit", fit) != before[kind]} == {"knn", "logistic"}


def test_a_fine_tuning_follows_its_probe(monkeypatch):
    """A fine-tuning starts from its probe's head: the probe's code is in its fingerprint, and a new probe version
    re-keys it."""
    assert changed_kinds(monkeypatch, "ssl_study.compute.fits.probe", 'model.get_layer("softmax")',
                         'model.get_layer(index=-1)') == {"fit:probe", "fit:finetune"}
    fit = helpers.Fit("finetune", "1%", 280, 0, 40, 128, helpers.Recipe(), "data", "split", "siamese", "id")
    key = keys.task_key("fit", fit)
    monkeypatch.setattr(helpers.FIT_KINDS["probe"], "version", helpers.FIT_KINDS["probe"].version + 1)
    assert keys.task_key("fit", fit) != key


def test_what_every_task_goes_through_is_covered(monkeypatch):
    """The executor's call in a worker (one thread, joblib's sequential backend) and the worker's dispatch are in the
    fingerprints of the kinds they run, without pulling one kind's code into another's."""
    assert changed_kinds(monkeypatch, "ssl_study.study.executor", "threadpool_limits(1)", "threadpool_limits(2)") == \
        {"fit", "pretext", "semi"}


def test_editing_a_comment_a_docstring_or_a_units_title_changes_no_fingerprint(monkeypatch):
    assert not changed_kinds(monkeypatch, "ssl_study.compute.training", '"""', '"""Reworded. ')
    assert not changed_kinds(monkeypatch, "ssl_study.compute.fits.frozen", 'title = "k-NN"', 'title = "kNN"')
    assert not changed_kinds(monkeypatch, "ssl_study.compute.pretexts.siamese", "colour = ", "colour = 'black' or ")


def test_a_units_own_code_changes_its_fingerprint_alone(monkeypatch):
    assert changed_kinds(monkeypatch, "ssl_study.compute.pretexts.siamese", "head_units: int = 64",
                         "head_units: int = 32") == {"pretext:siamese"}


def test_a_code_change_is_a_change_of_the_syntax_tree():
    source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    return x + 1  # why\n"
    assert fingerprints.source_fingerprint(source.replace("Doc.", "Other words.").replace("# why", "")) == \
        fingerprints.source_fingerprint(source) != fingerprints.source_fingerprint(source.replace("+ 1", "+ 2"))


def test_a_key_holds_the_version_and_every_field_of_the_task_but_no_code():
    fit = helpers.Fit("supervised", "1%", 280, 0, 40, 128, helpers.Recipe(), "data", "split")
    key = keys.task_key("fit", fit)
    assert keys.task_key("fit", replace(fit)) == key  # the same inputs: the same key, in any process
    for changed in (replace(fit, seed=1), replace(fit, recipe=replace(fit.recipe, learning_rate=0.02)),
                    replace(fit, recipe=replace(fit.recipe, augment=replace(fit.recipe.augment, rotation=0.1)))):
        assert keys.task_key("fit", changed) != key
    original = dict(keys.VERSIONS)
    try:
        keys.VERSIONS["fit"] += 1
        assert keys.task_key("fit", fit) != key
    finally:
        keys.VERSIONS.update(original)


def test_an_encoder_is_named_by_what_made_it_never_by_its_weights():
    """An initial encoder's identity is made of its seed and the ``init`` kind's version, whose code -- the architecture
    and the seeding of its initialisers -- is checked like every kind's; no task holds a hash of weights or features.
    The key's environment is read without importing Keras, and is what the imported modules say."""
    import subprocess
    import sys

    assert {("ssl_study.compute.models", "build_encoder"), ("ssl_study.compute.models", "_ThreadSeeds")} <= \
        fingerprints.code("init")
    assert keys.initial_encoder_key(0) == keys.initial_encoder_key(0) != keys.initial_encoder_key(1)
    bumped = {**keys.environment(), "steps_per_execution": -1}
    assert keys.initial_encoder_key(0, bumped) != keys.initial_encoder_key(0)
    fresh = subprocess.run([sys.executable, "-c", "import json, sys; from ssl_study.study import keys; "
                            "print(json.dumps(keys.environment())); print('keras' in sys.modules)"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    assert json.loads(fresh[0]) == keys.environment() and fresh[1] == "False"  # helpers imported Keras here
    names = {f.name for task in (helpers.Fit, helpers.PretextRun, helpers.SemiRun) for f in fields(task)}
    assert not {"weights", "features"} & names


def test_a_refactor_is_recorded_only_for_the_kinds_it_names(monkeypatch, tmp_path):
    """A change that computes the same results may be recorded without a bump, but only for the kinds named."""
    lock = tmp_path / "task_versions.json"
    lock.write_text(fingerprints.LOCK.read_text())
    monkeypatch.setattr(fingerprints, "LOCK", lock)
    changed_kinds(monkeypatch, "ssl_study.compute.pretexts.base", "MONITOR_IMAGES = 1000", "MONITOR_IMAGES = 999")
    with pytest.raises(SystemExit, match="pretext: "):
        fingerprints.record(refactored=("semi",))
    assert fingerprints.record(refactored=("pretext",)) == ["pretext"] and fingerprints.check() == []
