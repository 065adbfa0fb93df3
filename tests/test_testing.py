"""The kit: check_predictor catches each broken rule and names it; parametrize_with_checks gives a test per rule."""

import random

import pytest

from pricer_core.contract.predictor import FROM_PRESET
from pricer_core.predictors.baselines import ConstantMean, ConstantMedian, UniformRandom
from pricer_core.predictors.ensemble import Ensemble
from pricer_core.testing import ConformanceError, check_predictor, parametrize_with_checks


class WrongCount(ConstantMean):
    name = "wrong-count"

    def predict(self, items):
        return super().predict(items)[:-1]


class Negative(ConstantMean):
    name = "negative"

    def predict(self, items):
        return [-1.0 for _ in items]


class NotDeterministic(ConstantMean):
    name = "not-deterministic"

    def predict(self, items):
        return [random.random() * 100 for _ in items]


class FailsToLoad(ConstantMean):
    name = "fails-to-load"

    @classmethod
    def load(cls, directory):
        raise OSError("state is gone")


class ReturnsOther(ConstantMean):
    name = "returns-other"

    def fit(self, train, validation):
        super().fit(train, validation)
        return ConstantMean().fit(train, validation)


class AcceptsEmpty(ConstantMean):
    name = "accepts-empty"

    def fit(self, train, validation):
        self._value = 1.0
        return self


class HidesItsSetting(ConstantMean):
    name = "hides-its-setting"

    def __init__(self, alpha: float = 1.0):
        self._alpha = alpha  # not readable as `alpha`: get_params cannot give it back, clone would lose it


class NoName(ConstantMean):
    name = ""


class MisspeltRole(ConstantMean):
    name, role = "misspelt-role", "baselines"


class StoresFromPreset(ConstantMean):
    """Keeps the marker instead of the value its preset would fill."""

    name = "stores-from-preset"

    def __init__(self, scale: float = FROM_PRESET):
        super().__init__()
        self.scale = scale


class LearnsValidationWithoutTwin(ConstantMean):
    """Says it learns from validation, but has no setting to turn that off."""

    name = "learns-without-twin"
    learn_from_validation = True


class TwinPricesBelowZero(ConstantMean):
    """Meets every rule itself; its twin without validation prices below zero."""

    name = "twin-below-zero"

    def __init__(self, learn_from_validation: bool = True):
        super().__init__()
        self.learn_from_validation = learn_from_validation

    def predict(self, items):
        return super().predict(items) if self.learn_from_validation else [-1.0 for _ in items]


class TwinStillLearns(ConstantMean):
    """Takes the setting, but learns from validation whatever it is given."""

    name = "twin-still-learns"

    def __init__(self, learn_from_validation: bool = True):
        super().__init__()
        self._given = learn_from_validation

    @property
    def learn_from_validation(self) -> bool:
        return True


@pytest.mark.parametrize(
    "factory, rule",
    [
        (WrongCount, "predict-count"),
        (Negative, "predict-non-negative"),
        (NotDeterministic, "deterministic"),
        (FailsToLoad, "save-load-new-process"),
        (ReturnsOther, "fit-returns-self"),
        (AcceptsEmpty, "empty-train-error"),
        (NoName, "declares-name-and-needs"),
        (MisspeltRole, "declares-name-and-needs"),
        (StoresFromPreset, "settings-stored-as-given"),
        (HidesItsSetting, "settings-stored-as-given"),
        (LearnsValidationWithoutTwin, "validation-twin"),
        (TwinStillLearns, "validation-twin"),
        (TwinPricesBelowZero, "validation-twin"),
    ],
)
def test_each_violation_is_caught_and_named(factory, rule):
    with pytest.raises(ConformanceError, match=rf"^\[{rule}\]"):
        check_predictor(factory)


def test_a_good_predictor_passes_every_rule():
    check_predictor(ConstantMean)


def test_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="unknown rules"):
        check_predictor(ConstantMean, rules=["telepathy"])


def small_ensemble():
    return Ensemble(members=["linear", "bow-linear"])


small_ensemble.name, small_ensemble.needs = Ensemble.name, Ensemble.needs


# the core's own predictors go through the kit like any plugin's: one test per (predictor, rule)
@parametrize_with_checks([ConstantMean, ConstantMedian, UniformRandom, small_ensemble])
def test_the_core_predictors_meet_the_contract(predictor, check):
    check(predictor)


def test_the_kit_gives_one_test_per_applicable_rule_named_after_the_predictor():
    mark = parametrize_with_checks([ConstantMean, LearnsValidationWithoutTwin])
    names, cases = mark.args
    ids = mark.kwargs["ids"]
    assert names == ("predictor", "check")
    assert "constant-mean-deterministic" in ids and "constant-mean-validation-twin" not in ids  # it does not learn from validation
    assert any(id_.endswith("-validation-twin") for id_ in ids)  # the one that does gets the twin's check
    assert len(ids) == len(cases) == len(set(ids))
    with pytest.raises(ConformanceError, match=r"^\[validation-twin\]"):
        next(check for factory, check in cases if factory is LearnsValidationWithoutTwin and check.rule == "validation-twin")(LearnsValidationWithoutTwin)


def test_a_function_returning_a_predictor_is_checked_through_its_class():
    check_predictor(lambda: ConstantMean(), rules=["declares-name-and-needs"])  # the lambda has no name; its class does
    with pytest.raises(ConformanceError, match=r"^\[declares-name-and-needs\]"):
        check_predictor(lambda: NoName(), rules=["declares-name-and-needs"])


def test_clone_builds_an_unfitted_twin_with_the_settings_changed():
    from pricer_core.contract.predictor import clone
    from pricer_core.predictors.baselines import UniformRandom

    original = UniformRandom(seed=7)
    twin = clone(original, seed=8)
    assert type(twin) is UniformRandom and twin is not original
    assert original.get_params() == {"seed": 7} and twin.get_params() == {"seed": 8}


def test_a_plugin_written_before_role_and_the_setting_keeps_working_with_one_warning():
    """`blendable`, `learns_from_validation()` and `without_validation()` are read as before, with a FutureWarning."""
    from pricer_core.contract.predictor import learns_from_validation, role_of, validation_free_twin

    with pytest.warns(FutureWarning, match="blendable, learns_from_validation, without_validation will be removed"):

        class Legacy(ConstantMean):
            name, blendable = "legacy", True

            def __init__(self, learns: bool = True):
                super().__init__()
                self.learns = learns

            def learns_from_validation(self):
                return self.learns

            def without_validation(self):
                return Legacy(learns=False)

    assert role_of(Legacy) == "model" and role_of(ConstantMean) == "baseline"
    assert learns_from_validation(Legacy()) and not learns_from_validation(validation_free_twin(Legacy()))
    check_predictor(Legacy, rules=["validation-twin"])
