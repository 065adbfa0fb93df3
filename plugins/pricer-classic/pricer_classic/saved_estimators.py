"""scikit-learn estimators saved with skops: loading rebuilds only allow-listed types, never unpickles.

joblib/pickle files run whatever they name when loaded, so a shared model folder could run code.
skops stores the estimator's state as data and refuses any type not on the list given here. Allowed
types are not enough for trees: scikit-learn's compiled tree walk trusts its node arrays, so a child
or feature index past the end crashes the process (SIGSEGV). Every tree is checked here, before
scikit-learn touches it: children after their parent and inside the tree, features inside the
input, finite thresholds and values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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
    check_trees(estimator, path)
    return estimator


def check_trees(estimator: Any, path: Path) -> None:
    """Every tree of a forest or of a histogram gradient boosting model is walkable; ValueError naming it otherwise."""
    n_features = getattr(estimator, "n_features_in_", None)
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or not 0 < n_features < 10**7:
        raise ValueError(f"{path}: n_features_in_ is {n_features!r}, not a feature count")
    if hasattr(estimator, "estimators_"):
        for number, member in enumerate(estimator.estimators_):
            tree = getattr(member, "tree_", None)
            if tree is None or getattr(member, "n_features_in_", n_features) != n_features or tree.n_features != n_features:
                raise ValueError(f"{path}: tree {number} does not read the forest's {n_features} features")
            _check_nodes(
                np.asarray(tree.children_left), np.asarray(tree.children_right), np.asarray(tree.children_left) == -1,
                np.asarray(tree.feature), np.asarray(tree.threshold), np.asarray(tree.value), int(tree.node_count), n_features, f"{path}: tree {number}",
            )
    if hasattr(estimator, "_predictors"):
        for number, predictor in enumerate(tree for round_ in estimator._predictors for tree in round_):
            nodes = predictor.nodes
            where = f"{path}: boosted tree {number}"
            leaf = nodes["is_leaf"].astype(bool)
            _check_nodes(nodes["left"], nodes["right"], leaf, nodes["feature_idx"], nodes["num_threshold"], nodes["value"], len(nodes), n_features, where, thresholds_may_be_infinite=True)
            categorical = ~leaf & nodes["is_categorical"].astype(bool)
            bitsets = np.asarray(predictor.raw_left_cat_bitsets)
            if categorical.any() and (nodes["bitset_idx"][categorical] >= len(bitsets)).any():
                raise ValueError(f"{where}: a categorical split names a bitset past the end")


def _check_nodes(left, right, leaf, feature, threshold, value, count: int, n_features: int, where: str, thresholds_may_be_infinite: bool = False) -> None:
    if not 0 < count <= 10**8 or not all(len(array) == count for array in (left, right, leaf, feature, threshold)) or len(value) != count:
        raise ValueError(f"{where}: node arrays of unequal length (node count {count})")
    index = np.arange(count)
    inner = ~leaf
    children_ok = (left[inner] > index[inner]) & (left[inner] < count) & (right[inner] > index[inner]) & (right[inner] < count)
    if not children_ok.all():
        raise ValueError(f"{where}: a child index points outside the tree or back up it")
    if ((feature[inner] < 0) | (feature[inner] >= n_features)).any():
        raise ValueError(f"{where}: a split reads a feature outside the {n_features} inputs")
    thresholds = threshold[inner].astype(float)
    if (np.isnan(thresholds) if thresholds_may_be_infinite else ~np.isfinite(thresholds)).any():
        raise ValueError(f"{where}: a split threshold is not a finite number")
    if not np.isfinite(np.asarray(value, dtype=float)).all():
        raise ValueError(f"{where}: a leaf value is not a finite number")
