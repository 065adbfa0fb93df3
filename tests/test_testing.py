"""check_predictor catches each broken rule and names it."""

import random

import pytest

from pricer_core.predictors.baselines import ConstantMean
from pricer_core.contract.testing import ConformanceError, check_predictor


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


class NoName(ConstantMean):
    name = ""


class LearnsValidationWithoutTwin(ConstantMean):
    name = "learns-without-twin"

    def learns_from_validation(self):
        return True


class TwinPricesBelowZero(ConstantMean):
    """Meets every rule itself; its twin without validation prices below zero."""

    name = "twin-below-zero"

    def __init__(self, learns=True):
        super().__init__()
        self.learns = learns

    def learns_from_validation(self):
        return self.learns

    def without_validation(self):
        return TwinPricesBelowZero(learns=False)

    def predict(self, items):
        return super().predict(items) if self.learns else [-1.0 for _ in items]


class TwinStillLearns(LearnsValidationWithoutTwin):
    name = "twin-still-learns"

    def without_validation(self):
        return TwinStillLearns()


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
