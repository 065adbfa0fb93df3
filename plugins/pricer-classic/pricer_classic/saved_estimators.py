"""scikit-learn estimators saved with skops: loading rebuilds only allow-listed types, never unpickles.

joblib/pickle files run whatever they name when loaded, so a shared model folder could run code.
skops stores the estimator's state as data and refuses any type not on the list given here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# The non-default types each estimator's state needs (skops trusts builtins, numpy and sklearn estimators).
RANDOM_FOREST_TYPES = ("sklearn.tree._tree.Tree",)
HIST_GRADIENT_BOOSTING_TYPES = (
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
)


def save_estimator(estimator: Any, path: Path) -> None:
    import skops.io

    skops.io.dump(estimator, path)


def load_estimator(path: Path, allowed: tuple[str, ...], expected: type) -> Any:
    """The estimator in `path` if it needs no type outside `allowed` and is an `expected`; ValueError otherwise."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:
        raise ValueError(f"{path}: not a skops file ({type(error).__name__})") from None
    refused = sorted(set(untrusted) - set(allowed))
    if refused:
        raise ValueError(f"{path}: needs types outside the allow-list ({', '.join(refused[:3])}); refusing to load it")
    estimator = skops.io.load(path, trusted=list(untrusted))
    if not isinstance(estimator, expected):
        raise ValueError(f"{path}: holds a {type(estimator).__name__}, expected {expected.__name__}")
    return estimator
