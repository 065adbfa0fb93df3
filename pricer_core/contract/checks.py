"""The one check of a predictor's output, used by the evaluator, the bench, `pricer predict` and the kit."""

from __future__ import annotations

import math
import numbers
from typing import Any


class PredictionError(RuntimeError):
    """The predictor broke the contract (wrong count, not a number, NaN, negative); `rule` names which."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def check_predictions(predictions: Any, count: int, name: str) -> list[float]:
    """One finite, non-negative real number per item (Python or numpy), as floats."""
    if not hasattr(predictions, "__len__") or isinstance(predictions, (str, bytes, dict)):
        raise PredictionError("predict-count", f"{name}: predict returned {type(predictions).__name__}, not a list")
    if len(predictions) != count:
        raise PredictionError("predict-count", f"{name}: predict returned {len(predictions)} prices for {count} items")
    checked = []
    for position, value in enumerate(predictions):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise PredictionError("predict-finite", f"{name}: prediction {position} is {value!r}, not a number")
        number = float(value)
        if not math.isfinite(number):
            raise PredictionError("predict-finite", f"{name}: prediction {position} is {number}, not finite")
        if number < 0:
            raise PredictionError("predict-non-negative", f"{name}: prediction {position} is negative ({number})")
        checked.append(number)
    return checked
