"""The one check of a predictor's output, used by the evaluator, the bench, `pricer predict` and the kit;
and the checks of what is read back from a model folder: a number, a config file's fields, and the arrays of an .npz."""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any


def is_finite_number(value: Any) -> bool:
    """A JSON number a saved model may hold: not a bool, not NaN or infinite, not a 400-digit integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # a JSON integer of hundreds of digits
        return False


KIND_WORDS = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def read_config_fields(path: Path, fields: dict[str, type]) -> dict[str, Any]:
    """A folder's JSON object, each named field present with its type (a bool is no int): a crafted
    file is one ValueError naming the file and the field, never a TypeError deep in a constructor."""
    import json

    config = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object")
    for name, kind in fields.items():
        value = config.get(name)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ValueError(f"{path}: field {name} must be {KIND_WORDS.get(kind, kind.__name__)}")
    return config


def check_npz_sizes(path: Path, limits: dict[str, int]) -> None:
    """Each array of an .npz no bigger than expected once inflated, read from the zip's directory alone.

    Members must be exactly `{name}.npy`, each once: numpy would also open a bare `name`, or the
    later of two members of one name, and neither would be the one whose size was checked here."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = [(info.filename, info.file_size) for info in archive.infolist()]
    except (zipfile.BadZipFile, UnicodeDecodeError):
        raise ValueError(f"not an .npz archive ({path})") from None
    expected = {f"{name}.npy": limit for name, limit in limits.items()}
    names = [name for name, _ in members]
    if sorted(names) != sorted(expected) or any(size > expected[name] + 4096 for name, size in members):  # 4 KB: the .npy header
        raise ValueError(f"the saved arrays are not the expected ones, or are too big ({path})")


class PredictionError(RuntimeError):
    """The predictor broke the contract (wrong count, not a number, NaN, negative); `rule` names which."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def check_predictions(predictions: Any, count: int, name: str) -> list[float]:
    """One finite, non-negative real number per item (Python or numpy), as floats."""
    if not hasattr(predictions, "__len__") or isinstance(predictions, (str, bytes, dict, set, frozenset)):
        # a set or a dict has no order: its prices cannot be matched to the items
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
