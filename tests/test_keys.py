"""Cache keys are versions bumped on purpose: a wording edit recomputes nothing, a changed line of code without a
version bump fails here, naming the task kind (see ``ssl_study/keys.py``)."""

import inspect
import json
import re
from dataclasses import fields, replace

import pytest

import helpers
import ssl_study.training
from ssl_study import keys


def test_every_task_kinds_code_matches_its_recorded_version():
    assert keys.check() == []


def test_every_kind_and_every_shipped_unit_is_checked():
    assert set(keys.kinds()) == {"fit", "pretext", "semi", "tsne", "init",
                                 *(f"pretext:{name}" for name in helpers.PRETEXTS),
                                 *(f"semi:{name}" for name in helpers.SEMI_METHODS)}


def test_a_unit_registered_outside_the_package_is_not_checked(monkeypatch):
    """A test's own pretext or method (registered inside the test) needs no recorded version."""

    class Elsewhere(helpers.SemiMethod):
        name = "elsewhere"

    monkeypatch.setitem(helpers.SEMI_METHODS, "elsewhere", Elsewhere)
    assert "semi:elsewhere" not in keys.kinds() and keys.check() == []


def test_results_rows_the_augmenter_and_the_training_code_are_covered():
    from ssl_study import models, workers

    for kind in ("fit", "semi"):
        assert {workers._result, models.build_augmenter, ssl_study.training} <= set(keys.task_code(kind))
    assert models.build_augmenter in keys.task_code("pretext")
    assert "steps_per_execution" in keys.environment()  # a training constant that is not a setting: in every key


SOURCE = inspect.getsource(ssl_study.training)


def test_editing_a_comment_or_a_docstring_of_the_training_code_changes_no_fingerprint():
    edited = SOURCE.replace('"""', '"""Reworded. ', 1)  # the module's docstring
    edited = re.sub(r"(def train_supervised\(.*?\n(?:.*\n)*?\s+)\"\"\"", r'\1"""A new first line.\n    ', edited,
                    count=1)
    edited = edited.replace("\n\n\n", "\n\n# a new comment\n\n", 1).replace("    return", "    # why\n    return", 1)
    assert edited != SOURCE
    assert keys.source_fingerprint(edited) == keys.source_fingerprint(SOURCE)


def test_changing_a_training_line_without_a_version_bump_fails_naming_the_kind(monkeypatch):
    line = "epochs=epochs, batch_size=batch_size, verbose=0)"
    assert line in SOURCE
    changed = keys.source_fingerprint(SOURCE.replace(line, "epochs=epochs, batch_size=batch_size, verbose=0, "
                                                           "shuffle=False)", 1))
    assert changed != keys.source_fingerprint(SOURCE)
    real = keys.code_fingerprint
    monkeypatch.setattr(keys, "code_fingerprint", lambda kind: changed if kind == "fit" else real(kind))
    problems = keys.check()
    assert len(problems) == 1 and problems[0].startswith("fit: ") and "not bumped" in problems[0]
    with pytest.raises(SystemExit, match="fit: .*not bumped"):  # and it cannot be recorded without the bump
        keys.record()
    monkeypatch.setitem(keys.VERSIONS, "fit", keys.VERSIONS["fit"] + 1)  # bumped: asks to record it, nothing more
    assert "not recorded yet" in keys.check()[0]


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


def test_a_units_names_colour_and_figures_are_presentation_not_computation():
    """Renaming a pretext, recolouring it or redrawing its figures changes no fingerprint; its loss does."""
    source = inspect.getsource(inspect.getmodule(helpers.PRETEXTS["siamese"]))
    renamed = (source.replace('title = "Siamese (same image?)"', 'title = "Siamese pairs"')
               .replace('colour = "#1f77b4"', 'colour = "#000000"')
               .replace("return pd.DataFrame(analysis", "return None  # pd.DataFrame(analysis"))
    assert renamed != source and keys.source_fingerprint(renamed) == keys.source_fingerprint(source)
    assert keys.source_fingerprint(source.replace("head_units: int = 64", "head_units: int = 32")) != \
        keys.source_fingerprint(source)


def test_an_encoder_is_named_by_what_made_it_never_by_its_weights():
    """An initial encoder's identity is made of its seed and the ``init`` kind's version, whose code -- the architecture
    and the seeding of its initialisers -- is checked like every kind's; no task holds a hash of weights or features.
    The key's environment is read without importing Keras, and is what the imported modules say."""
    import subprocess
    import sys

    from ssl_study import models

    assert {models.build_encoder, models._ThreadSeeds} <= set(keys.task_code("init"))
    assert keys.initial_encoder_key(0) == keys.initial_encoder_key(0) != keys.initial_encoder_key(1)
    bumped = {**keys.environment(), "steps_per_execution": -1}
    assert keys.initial_encoder_key(0, bumped) != keys.initial_encoder_key(0)
    fresh = subprocess.run([sys.executable, "-c", "import json, sys; from ssl_study import keys; "
                            "print(json.dumps(keys.environment())); print('keras' in sys.modules)"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    assert json.loads(fresh[0]) == keys.environment() and fresh[1] == "False"  # helpers imported Keras here
    names = {f.name for task in (helpers.Fit, helpers.PretextRun, helpers.SemiRun) for f in fields(task)}
    assert not {"weights", "features"} & names
