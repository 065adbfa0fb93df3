"""`bow-stack`: the bag-of-words ridge, cross-fitted, then boosted trees with an absolute-error loss.

Why: a linear model on text regresses to the mean of its mixed, mostly cheap training rows, so
expensive items are under-priced by hundreds of dollars, and its price is linear in the item's
weight and blind to how category and source change it. A second stage of gradient-boosted trees
reads the ridge's out-of-fold price next to source, category and weight, and learns where to
stretch or shrink it. Its loss is the absolute error in dollars, the leaderboard's own metric.
Out-of-fold (`cross_fitting`): the trees must see the ridge's errors on rows it did not learn
from, or they would learn to trust it blindly.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.contract.predictor import FROM_PRESET
from pricer_core.item import Item

from .cross_fitting import cross_fit
from .features import CountsMemo, MetaFeatures
from .base import ClassicPredictor
from .linear import BagOfWordsLinear
from .saved_estimators import HIST_GRADIENT_BOOSTING_TYPES, load_estimator, save_estimator

LEVEL_ONE_DIR = "bow-linear"
TREES_FILE = "trees.skops"
MAX_CATEGORIES = 254  # the trees' categorical limit (255 bins, one kept for "unknown")


class StackedBagOfWords(ClassicPredictor):
    """bow-linear's out-of-fold price + source, category, weight → L1 gradient-boosted trees."""

    name = "bow-stack"
    PRESETS = {
        "default": {
            "folds": 5,
            "n_features": 2**18,
            "max_iter": 300,
            "learning_rate": 0.05,
            "max_leaf_nodes": 15,
            "min_samples_leaf": 20,
            "n_jobs": 2,
        },
    }

    def __init__(
        self,
        preset: str = "default",
        seed: int = 42,
        *,
        folds: int = FROM_PRESET,
        n_features: int = FROM_PRESET,
        max_iter: int = FROM_PRESET,
        learning_rate: float = FROM_PRESET,
        max_leaf_nodes: int = FROM_PRESET,
        min_samples_leaf: int = FROM_PRESET,
        n_jobs: int = FROM_PRESET,
    ) -> None:
        self._take_settings(preset, seed, locals())

    def _level_one(self, memo: CountsMemo) -> BagOfWordsLinear:
        return BagOfWordsLinear(seed=self.seed, n_features=self.n_features).share_counts(memo)

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        folds = int(self.folds)
        if folds < 2:
            raise ValueError(f"{self.name}: folds must be at least 2, got {folds}")
        if len(train) < 2 * folds:
            raise ValueError(f"{self.name}: needs at least {2 * folds} training items for {folds} folds, got {len(train)}")
        out_of_fold, self._ridge = cross_fit(partial(self._level_one, CountsMemo()), train, folds, self.seed, workers=self.params.get("n_jobs", 1))
        self._ridge.share_counts(None)  # every fold's ridge hashed each text once; predictions hash their own
        self._meta = MetaFeatures().fit(train)
        self._categories = self._frequent_categories(train)
        self._trees = self._new_trees().fit(self._design(train, out_of_fold), prices)

    def _frequent_categories(self, train: list[Item]) -> list[str]:
        counts = Counter(item.category for item in train)
        return sorted(counts, key=lambda category: (-counts[category], category))[:MAX_CATEGORIES]

    def _new_trees(self):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            categorical_features=[1, 2],
            early_stopping=False,
            random_state=self.seed,
        )

    def _design(self, items: list[Item], ridge_prices: np.ndarray) -> np.ndarray:
        """[log ridge price, source code, category code, weight and text-length columns]; -1 = unknown."""
        lookup = {category: index for index, category in enumerate(self._categories)}
        categories = [lookup.get(item.category, -1) for item in items]
        return np.column_stack(
            [
                np.log1p(np.maximum(ridge_prices, 0)),
                self._meta.source_index(items),
                categories,
                self._meta.numeric(items),
            ]
        ).astype(np.float64)

    def _predict(self, items: list[Item]) -> np.ndarray:
        ridge_prices = np.asarray(self._ridge.predict(items), dtype=float)
        return np.maximum(self._trees.predict(self._design(items, ridge_prices)), 0)

    def _save_state(self, directory: Path) -> None:
        import sklearn

        self._ridge.save(directory / LEVEL_ONE_DIR)
        save_estimator(self._trees, directory / TREES_FILE)
        state: dict[str, Any] = {"scikit-learn": sklearn.__version__, "meta": self._meta.state(), "categories": self._categories}
        (directory / "stack.json").write_text(json.dumps(state))

    def _load_state(self, directory: Path) -> None:
        import sklearn
        from sklearn.ensemble import HistGradientBoostingRegressor

        state = json.loads((directory / "stack.json").read_text())
        if state["scikit-learn"] != sklearn.__version__:
            raise RuntimeError(f"{directory}: trees saved with scikit-learn {state['scikit-learn']}, this is {sklearn.__version__}; refit it")
        self._ridge = BagOfWordsLinear.load(directory / LEVEL_ONE_DIR)
        self._trees = load_estimator(directory / TREES_FILE, HIST_GRADIENT_BOOSTING_TYPES, HistGradientBoostingRegressor)
        self._meta = MetaFeatures.from_state(state["meta"])
        self._categories = state["categories"]
