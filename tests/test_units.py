"""The registries of units hold whatever is added to them: every registered kind of fit, pretext task and
semi-supervised method is complete, and a unit registered here (as a test's own would be) is planned, labelled and
styled with no other edit."""

import pytest

import helpers
from ssl_study.compute.fits import base as fits_base
from ssl_study.report.styles import style


def test_the_shipped_kinds_of_fit_are_registered_and_every_kind_is_complete():
    assert {"supervised", "recipe", "probe", "finetune", "knn", "logistic"} <= set(helpers.FIT_KINDS)
    for name, kind in helpers.FIT_KINDS.items():
        assert kind.name == name and kind.title and kind.run is not helpers.FitKind.run
        assert kind.after is None or kind.after in helpers.FIT_KINDS
    assert helpers.FROZEN_KINDS == ("knn", "logistic")


def test_every_semi_supervised_method_has_typed_settings():
    for name, method in helpers.SEMI_METHODS.items():
        assert method.name == name and issubclass(method.Settings, helpers.SemiSettings)
        assert 0 < method.Settings().threshold <= 1


def test_a_method_without_typed_settings_is_refused():
    class Untyped(helpers.SemiMethod):
        name = "untyped"
        Settings = dict

    with pytest.raises(TypeError, match="SemiSettings"):
        helpers.register_semi(Untyped)


@pytest.fixture
def halfway(monkeypatch):
    """A kind of fit registered for this test only."""

    class Halfway(helpers.FitKind):
        name = "halfway"
        title = "half the recipe"

        def run(self, fit, data):
            raise AssertionError("not trained here")

    monkeypatch.setitem(fits_base.FIT_KINDS, "halfway", Halfway)
    return Halfway


def test_a_new_kind_of_fit_is_planned_labelled_and_styled_with_no_other_edit(halfway):
    profile = helpers.PROFILES["quick"]
    planned = helpers.planned_fits(profile, 28_000)
    rows = planned[planned["use"] == "halfway"]
    assert set(rows["method"]) == {f"{helpers.HEADLINE_PRETEXT}_halfway"}  # no arm names it: the default
    assert set(rows["amount"]) == set(profile.primary_amounts) and set(rows["seed"]) == set(profile.seeds)
    assert helpers.method_label(f"{helpers.HEADLINE_PRETEXT}_halfway") == "Siamese, half the recipe"
    assert style(helpers.HEADLINE_PRETEXT, "halfway")["label"] == "Siamese, half the recipe"
    assert helpers.Arm(helpers.HEADLINE_PRETEXT, "halfway", None, (0,)).uses() == ("halfway",)
