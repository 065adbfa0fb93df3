"""`xgboost` and `random-forest`: trees on the dense columns of `tree_features.py`, each with the
course's preset beside ours (`xgboost` also has `best`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pricer_core.contract.predictor import FROM_PRESET, current_preset
from pricer_core.item import Item

from .base import CONFIG_FILE, ClassicPredictor
from .embedding_prices import INSTALL_HINT, missing_embedding_modules
from .features import from_target, price_weights, to_target
from .saved_estimators import RANDOM_FOREST_TYPES, load_estimator, save_estimator
from .tree_features import DenseTreeFeatures

FOREST_FILE = "forest.skops"


XGBOOST_DEFAULT: dict[str, Any] = {
    "n_estimators": 600, "learning_rate": 0.05, "max_depth": 6, "subsample": 0.8, "colsample_bytree": 0.5, "svd_components": 200,
    "target": "log", "price_power": 0.0, "n_jobs": 2, "source_dropout": 0.0, "objective": "reg:squarederror",
    "text_ridge": True, "item_numbers": True, "brand_prices": True, "embedding_ridge": True, "title_encoder": "minilm-static",
    "boosters": 3, "learn_from_validation": False,
}


class XGBoostPredictor(ClassicPredictor):
    """Gradient-boosted trees on SVD text topics, source/category/weight, the numbers the text states, the brand's
    cross-fitted price level and a cross-fitted text ridge's price; log target."""

    name = "xgboost"
    code_packages = ("pricer_llm",)  # the embedding column's encoder: part of the fit cache's key
    PRESETS = {
        "default": XGBOOST_DEFAULT,
        # Slower: MiniLM reads each title in context (~2 min of encoding the first time, cached after),
        # and the validation rows teach too (nothing here is chosen on them); docs/experiments.md.
        "best": {**XGBOOST_DEFAULT, "title_encoder": "minilm", "learn_from_validation": True},
        "course": {"n_estimators": 1000, "learning_rate": 0.1, "max_depth": 6, "subsample": 1.0, "colsample_bytree": 1.0, "n_features": 1000, "target": "raw", "price_power": 0.0, "n_jobs": 2},
    }

    def __init__(
        self,
        preset: str = "default",
        seed: int = 42,
        *,
        n_estimators: int = FROM_PRESET,
        learning_rate: float = FROM_PRESET,
        max_depth: int = FROM_PRESET,
        subsample: float = FROM_PRESET,
        colsample_bytree: float = FROM_PRESET,
        svd_components: int = FROM_PRESET,
        target: str = FROM_PRESET,
        price_power: float = FROM_PRESET,
        n_jobs: int = FROM_PRESET,
        source_dropout: float = FROM_PRESET,
        objective: str = FROM_PRESET,
        text_ridge: bool = FROM_PRESET,
        item_numbers: bool = FROM_PRESET,
        brand_prices: bool = FROM_PRESET,
        embedding_ridge: bool = FROM_PRESET,
        title_encoder: str = FROM_PRESET,
        boosters: int = FROM_PRESET,
        learn_from_validation: bool = FROM_PRESET,
        n_features: int = FROM_PRESET,
    ) -> None:
        self._take_settings(preset, seed, locals())

    @classmethod
    def unavailable(cls, **settings: Any) -> str | None:
        """The title-embedding column (on by default) needs pricer-llm's embeddings: say so before any fit."""
        preset = current_preset(cls.name, settings.get("preset", "default"), warn=False)
        params = {**cls.PRESETS.get(preset, {}), **settings}
        if not params.get("embedding_ridge", False):
            return None
        missing = missing_embedding_modules()
        return f"{INSTALL_HINT} (missing: {', '.join(missing)}), or --set xgboost.embedding_ridge=false" if missing else None

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        import xgboost

        self._features = DenseTreeFeatures(self.preset, self.params, self.seed)
        matrix = self._features.fit_transform(train)
        target, weights = to_target(prices, self.target), price_weights(prices, self.price_power)
        self._boosters = []
        for offset in range(self.params.get("boosters", 1)):
            model = xgboost.XGBRegressor(
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                max_depth=self.max_depth,
                subsample=self.subsample,
                colsample_bytree=self.colsample_bytree,
                n_jobs=self.n_jobs,
                random_state=self.seed + offset,
                objective=self.params.get("objective", "reg:squarederror"),  # the course preset keeps XGBoost's default
            )
            model.fit(matrix, target, sample_weight=weights)
            self._boosters.append(model.get_booster())

    def _predict(self, items: list[Item]) -> np.ndarray:
        """With `boosters` > 1, the mean of their targets: each booster samples other rows and columns,
        and their mean moves less with the seed than any one of them."""
        import xgboost

        matrix = xgboost.DMatrix(self._features.transform(items))
        raw = np.mean([booster.predict(matrix) for booster in self._boosters], axis=0, dtype=np.float64)
        return from_target(raw, self.target)

    @staticmethod
    def _booster_file(index: int) -> str:
        return "model.ubj" if index == 0 else f"model-{index + 1}.ubj"

    def _save_state(self, directory: Path) -> None:
        for index, booster in enumerate(self._boosters):
            booster.save_model(str(directory / self._booster_file(index)))
        self._features.save(directory)

    def _load_state(self, directory: Path) -> None:
        import xgboost

        files = [directory / self._booster_file(index) for index in range(self.params.get("boosters", 1))]
        missing = next((path.name for path in files if not path.is_file()), None)
        if missing:
            raise ValueError(f"{missing} missing; {CONFIG_FILE} says boosters={len(files)}")
        self._boosters = []
        for path in files:
            booster = xgboost.Booster()
            booster.load_model(str(path))
            self._boosters.append(booster)
        self._features = DenseTreeFeatures(self.preset, self.params, self.seed)
        self._features.load(directory)
        for columns in {booster.num_features() for booster in self._boosters}:
            self._features.check_width(columns, directory)


class RandomForestPredictor(ClassicPredictor):
    """Random forest on the same dense features as XGBoost; saved with skops (allow-listed types) plus a version check."""

    name = "random-forest"
    # Not in the default run: leave-one-source-out over the full default set ranks it below xgboost, tied with bow-stack.
    opt_in = "leave-one-source-out ranks it below xgboost and no better than bow-stack (docs/experiments.md)"
    PRESETS = {
        "default": {"n_estimators": 200, "max_features": 0.3, "min_samples_leaf": 2, "svd_components": 200, "target": "log", "price_power": 0.0, "n_jobs": 2, "source_dropout": 0.0},
        "course": {"n_estimators": 100, "max_features": 1.0, "min_samples_leaf": 1, "n_features": 1000, "target": "raw", "price_power": 0.0, "n_jobs": 2},
    }

    def __init__(
        self,
        preset: str = "default",
        seed: int = 42,
        *,
        n_estimators: int = FROM_PRESET,
        max_features: float = FROM_PRESET,
        min_samples_leaf: int = FROM_PRESET,
        svd_components: int = FROM_PRESET,
        target: str = FROM_PRESET,
        price_power: float = FROM_PRESET,
        n_jobs: int = FROM_PRESET,
        source_dropout: float = FROM_PRESET,
        n_features: int = FROM_PRESET,
    ) -> None:
        self._take_settings(preset, seed, locals())

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self._features = DenseTreeFeatures(self.preset, self.params, self.seed)
        matrix = self._features.fit_transform(train)
        self._model = RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            n_jobs=self.n_jobs,
            random_state=self.seed,
        )
        self._model.fit(matrix, to_target(prices, self.target), sample_weight=price_weights(prices, self.price_power))

    def _predict(self, items: list[Item]) -> np.ndarray:
        return from_target(self._model.predict(self._features.transform(items)), self.target)

    def _save_state(self, directory: Path) -> None:
        import sklearn

        save_estimator(self._model, directory / FOREST_FILE)
        (directory / "versions.json").write_text(json.dumps({"scikit-learn": sklearn.__version__}))
        self._features.save(directory)

    def _load_state(self, directory: Path) -> None:
        import sklearn
        from sklearn.ensemble import RandomForestRegressor

        saved = json.loads((directory / "versions.json").read_text())["scikit-learn"]
        if saved != sklearn.__version__:
            raise RuntimeError(f"{directory}: forest saved with scikit-learn {saved}, this is {sklearn.__version__}; refit it")
        self._model = load_estimator(directory / FOREST_FILE, RANDOM_FOREST_TYPES, RandomForestRegressor)
        self._features = DenseTreeFeatures(self.preset, self.params, self.seed)
        self._features.load(directory)
        self._features.check_width(self._model.n_features_in_, directory)
