"""The course's step-3 baselines as pricer predictors, each with a `default` and a `course` preset.

`course` reproduces the course notebook (1000-word bag of words, raw dollar target, random forest
100 trees, XGBoost 1000 trees at learning rate 0.1) so the side-by-side comparison is one flag away.
`default` is what we recommend on ~15k rows and 2 cores: hashed TF-IDF, item metadata with the
row's source, and a compressed target (log or square root) because prices span three decades.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from pricer_core.item import Item
from pricer_core.contract.predictor import Predictor, check_setting_type, current_preset, require_training_items

from .brand_prices import BrandPrices
from .cross_fitting import cross_fit
from .embedding_prices import ENCODERS, INSTALL_HINT, EmbeddingRidge, missing_embedding_modules, require_embeddings
from .features import (
    CountsMemo,
    HashedTfidf,
    MetaFeatures,
    TextSettings,
    check_items,
    from_target,
    item_text,
    source_augmented,
    to_target,
)
from .item_numbers import item_numbers
from .saved_estimators import RANDOM_FOREST_TYPES, load_estimator, save_estimator

CONFIG_FILE = "config.json"
POSITIVE_SETTINGS = frozenset({"n_features", "n_estimators", "svd_components", "max_iter", "folds", "max_depth", "max_leaf_nodes", "min_samples_leaf", "n_jobs", "boosters"})
MAX_BOOSTERS = 64
SHARE_SETTINGS = frozenset({"source_dropout"})  # a share of rows: 0 ≤ value < 1 (1 would hide every source)
FOREST_FILE = "forest.skops"
TEXT_RIDGE_DIR = "text-ridge"  # the trees' shared-word ridge, a bow-linear folder of its own
TEXT_RIDGE_FOLDS = 5
BRAND_PRICES_FILE = "brand-prices.json"
EMBEDDING_RIDGE_FILE = "embedding-ridge.npz"


class ClassicPredictor(Predictor):
    """Shared plumbing: presets, parameter checks, config save/load. Subclasses build and fit."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, preset: str = "default", seed: int = 42, **params: Any) -> None:
        preset = current_preset(self.name, preset)
        if preset not in self.PRESETS:
            raise ValueError(f"{self.name}: unknown preset {preset!r}; choose from {sorted(self.PRESETS)}")
        unknown = set(params) - set(self.PRESETS[preset])
        if unknown:
            raise ValueError(f"{self.name}: unknown setting(s) {sorted(unknown)}; known: {sorted(self.PRESETS[preset])}")
        for key, value in params.items():
            check_setting_type(self.name, key, value, self.PRESETS[preset][key])
            if key in POSITIVE_SETTINGS and value < 1:  # 0 features crashes the hashing vectorizer itself
                raise ValueError(f"{self.name}: setting {key} must be at least 1, got {value}")
            if key == "boosters" and value > MAX_BOOSTERS:  # a crafted config.json must not ask for millions of files
                raise ValueError(f"{self.name}: setting boosters must be at most {MAX_BOOSTERS}, got {value}")
            if key == "title_encoder" and value not in ENCODERS:  # checked with the other settings, not at fit time
                raise ValueError(f"{self.name}: title_encoder must be one of {list(ENCODERS)}, got {value!r}")
            if key in SHARE_SETTINGS and not 0 <= value < 1:
                raise ValueError(f"{self.name}: setting {key} is a share of rows, 0 ≤ {key} < 1, got {value}")
        self.preset = preset
        self.seed = seed
        self.params = {**self.PRESETS[preset], **params}
        self._fitted = False

    def fit(self, train: list[Item], validation: list[Item]) -> ClassicPredictor:
        require_training_items(train)  # no train is an error even when validation rows would teach
        if self.learns_from_validation():  # nothing here is chosen on validation, so its rows may as well teach
            train = train + [item for item in validation if item.price is not None]
        prices = np.asarray(require_training_items(train), dtype=float)
        check_items(train, "learn")
        self._fit(train, prices)
        self._fitted = True
        return self

    def predict(self, items: list[Item]) -> list[float]:
        if not self._fitted:
            raise RuntimeError(f"{self.name}: predict called before fit")
        if not items:
            return []
        return [float(value) for value in self._predict(items)]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save_state(directory)
        (directory / CONFIG_FILE).write_text(json.dumps({"preset": self.preset, "seed": self.seed, "params": self.params}, indent=1))

    def learns_from_validation(self) -> bool:
        return bool(self.params.get("learn_from_validation", False))

    def get_params(self) -> dict[str, Any]:
        """The preset, the seed and every setting, the preset's own included (a clone needs no preset lookup)."""
        return {"preset": self.preset, "seed": self.seed, **self.params}

    @classmethod
    def load(cls, directory: str | Path) -> ClassicPredictor:
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        config["preset"] = current_preset(cls.name, config["preset"], warn=False)  # folders saved before the rename
        if "learn_from_validation" in cls.PRESETS.get(config["preset"], {}):  # a folder saved before the setting learned train alone
            config["params"].setdefault("learn_from_validation", False)
        if "title_encoder" in cls.PRESETS.get(config["preset"], {}):  # a folder saved before the static table read titles with MiniLM
            config["params"].setdefault("title_encoder", "minilm")
        predictor = cls(config["preset"], config["seed"], **config["params"])
        predictor._load_state(directory)
        predictor._fitted = True
        return predictor

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, items: list[Item]) -> np.ndarray:
        raise NotImplementedError

    def _save_state(self, directory: Path) -> None:
        raise NotImplementedError

    def _load_state(self, directory: Path) -> None:
        raise NotImplementedError


class WordCounts:
    """The course's CountVectorizer(max_features, English stop words); its vocabulary saves as JSON."""

    def __init__(self, max_features: int):
        self.max_features = max_features
        self.vocabulary: dict[str, int] | None = None

    def _vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(max_features=self.max_features, stop_words="english", vocabulary=self.vocabulary)

    def fit_transform(self, texts: list[str]) -> sparse.csr_matrix:
        vectorizer = self._vectorizer()
        matrix = vectorizer.fit_transform(texts)
        self.vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        return sparse.csr_matrix(matrix, dtype=np.float32)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self._vectorizer().transform(texts), dtype=np.float32)


def _ridge_solve(matrix: sparse.csr_matrix, target: np.ndarray, alpha: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Ridge coefficients and intercept; sklearn does the solving, we keep only two arrays."""
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha, solver="auto" if alpha > 0 else "lsqr")
    model.fit(matrix, target, sample_weight=weights)
    return np.asarray(model.coef_, dtype=np.float64), float(model.intercept_)


def price_weights(prices: np.ndarray, power: float) -> np.ndarray | None:
    """Weights ∝ price^power (mean 1): the benchmark is price-weighted, most training rows are cheap."""
    if power == 0:
        return None
    weights = np.power(np.maximum(prices, 0.5), power)
    return weights / weights.mean()


class LinearPredictor(ClassicPredictor):
    """Linear regression on a few numbers (weight, text lengths) plus source and category indicators; log target."""

    name = "linear"
    PRESETS = {
        "default": {"alpha": 1.0, "target": "log", "use_source": True},
        "course": {"alpha": 0.0, "target": "raw", "use_source": False},
    }

    def _matrix(self, items: list[Item]) -> sparse.csr_matrix:
        matrix = self._meta.one_hot(items)
        if not self.params["use_source"]:
            matrix = sparse.csr_matrix(self._meta.numeric(items))
        return matrix

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        self._meta = MetaFeatures().fit(train)
        self._coef, self._intercept = _ridge_solve(self._matrix(train), to_target(prices, self.params["target"]), self.params["alpha"])

    def _predict(self, items: list[Item]) -> np.ndarray:
        return from_target(self._matrix(items) @ self._coef + self._intercept, self.params["target"])

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "linear.npz", coef=self._coef, intercept=self._intercept)
        (directory / "meta.json").write_text(json.dumps(self._meta.state()))

    def _load_state(self, directory: Path) -> None:
        arrays = np.load(directory / "linear.npz")
        self._coef, self._intercept = arrays["coef"], float(arrays["intercept"])
        self._meta = MetaFeatures.from_state(json.loads((directory / "meta.json").read_text()))


class BagOfWordsLinear(ClassicPredictor):
    """Ridge regression on hashed TF-IDF words and bigrams plus metadata, with per-source weight copies.

    Square-root target by default: it sits between log (under-prices expensive items) and dollars
    (chases outliers), and gave the lowest dollar MAE on the bundled validation split.
    """

    name = "bow-linear"
    PRESETS = {
        "default": {"alpha": 0.3, "target": "sqrt", "n_features": 2**18, "ngram_max": 2, "by_source": True, "price_power": 0.0},
        "course": {"alpha": 0.0, "target": "raw", "n_features": 1000, "ngram_max": 1, "by_source": False, "price_power": 0.0},
    }

    _counts_memo: CountsMemo | None = None

    def share_counts(self, memo: CountsMemo | None) -> BagOfWordsLinear:
        """Look texts up in `memo` before hashing them (cross-fitting hashes each text once); None stops it."""
        self._counts_memo = memo
        if isinstance(getattr(self, "_text", None), HashedTfidf):
            self._text.memo = memo
        return self

    def _text_features(self):
        if self.preset == "course":
            return WordCounts(self.params["n_features"])
        return HashedTfidf(TextSettings(n_features=self.params["n_features"], ngram_max=self.params["ngram_max"]), self._counts_memo)

    def _matrix(self, items: list[Item], text: sparse.csr_matrix) -> sparse.csr_matrix:
        if self.preset == "course":
            return text
        matrix = sparse.hstack([text, self._meta.one_hot(items)], format="csr")
        if self.params["by_source"]:
            matrix = source_augmented(matrix, self._meta.source_index(items), len(self._meta.sources))
        return matrix

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        self._meta = MetaFeatures().fit(train)
        self._text = self._text_features()
        text = self._text.fit_transform([item_text(item) for item in train])
        weights = price_weights(prices, self.params["price_power"])
        self._coef, self._intercept = _ridge_solve(self._matrix(train, text), to_target(prices, self.params["target"]), self.params["alpha"], weights)

    def _predict(self, items: list[Item]) -> np.ndarray:
        text = self._text.transform([item_text(item) for item in items])
        return from_target(self._matrix(items, text) @ self._coef + self._intercept, self.params["target"])

    def _save_state(self, directory: Path) -> None:
        np.savez_compressed(directory / "linear.npz", coef=self._coef.astype(np.float32), intercept=self._intercept)
        state = {"meta": self._meta.state()}
        if isinstance(self._text, WordCounts):
            state["vocabulary"] = self._text.vocabulary
        else:
            np.save(directory / "idf.npy", self._text.idf)
        (directory / "features.json").write_text(json.dumps(state))

    def _load_state(self, directory: Path) -> None:
        arrays = np.load(directory / "linear.npz")
        self._coef, self._intercept = arrays["coef"].astype(np.float64), float(arrays["intercept"])
        state = json.loads((directory / "features.json").read_text())
        self._meta = MetaFeatures.from_state(state["meta"])
        self._text = self._text_features()
        if isinstance(self._text, WordCounts):
            self._text.vocabulary = state["vocabulary"]
        else:
            self._text.idf = np.load(directory / "idf.npy")


class _DenseTreeFeatures:
    """Trees want dense columns: SVD of hashed TF-IDF, metadata codes (default), or the course's word counts.

    With `text_ridge`, one more column: the log price of a bag-of-words ridge whose word weights
    are shared by every source (bow-linear with `by_source=False`), cross-fitted on the training
    rows. 200 SVD topics keep little of what the words say; the ridge reads every word, and with no
    per-source word copies it prices a catalogue nobody saw from its words (leave-one-source-out,
    README).

    With `item_numbers`, the sizes, powers, capacities and years the text states (`item_numbers.py`);
    with `brand_prices`, the brand's cross-fitted price level (`brand_prices.py`); with
    `embedding_ridge`, a cross-fitted ridge on the title's sentence embedding (`embedding_prices.py`;
    `title_encoder` "minilm-static" distils a static table once per machine, "minilm" encodes each
    title in context, ~2 min on 2 CPUs the first time). All sit between the metadata and the text
    ridge's column.
    """

    def __init__(self, preset: str, params: dict[str, Any], seed: int):
        self.preset, self.params, self.seed = preset, params, seed
        self.ridge: BagOfWordsLinear | None = None
        self.brands: BrandPrices | None = None
        self.embedding_ridge: EmbeddingRidge | None = None

    def _text_ridge(self, memo: CountsMemo | None) -> BagOfWordsLinear:
        return BagOfWordsLinear(seed=self.seed, by_source=False).share_counts(memo)

    def fit_transform(self, items: list[Item]) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD

        texts = [item_text(item) for item in items]
        if self.preset == "course":
            self.words = WordCounts(self.params["n_features"])
            return self.words.fit_transform(texts).toarray()
        if self.params.get("embedding_ridge", False):
            require_embeddings(self.params.get("title_encoder", "minilm"))
        self.meta = MetaFeatures().fit(items)
        memo = CountsMemo() if self.params.get("text_ridge", False) else None  # the topics and every fold's ridge hash the same texts
        self.tfidf = HashedTfidf(TextSettings(n_features=2**18, ngram_max=2), memo)
        text = self.tfidf.fit_transform(texts)
        self.tfidf.memo = None
        svd = TruncatedSVD(self.params["svd_components"], algorithm="randomized", n_iter=4, random_state=self.seed)
        svd.fit(text)
        self.components = svd.components_.astype(np.float32)
        ridge_prices = brand_columns = embedding_column = None
        if self.params.get("text_ridge", False):
            ridge_prices, self.ridge = cross_fit(partial(self._text_ridge, memo), items, TEXT_RIDGE_FOLDS, self.seed, workers=self.params.get("n_jobs", 1))
            self.ridge.share_counts(None)
        log_prices = np.log1p(np.asarray([item.price for item in items], dtype=float))
        if self.params.get("brand_prices", False):
            brand_columns, self.brands = BrandPrices.fit_out_of_fold(items, log_prices, TEXT_RIDGE_FOLDS, self.seed)
        if self.params.get("embedding_ridge", False):
            embedding_column, self.embedding_ridge = EmbeddingRidge.fit_out_of_fold(
                items, log_prices, TEXT_RIDGE_FOLDS, self.seed, self.params.get("title_encoder", "minilm")
            )
        return self._hide_sources(self._assemble(items, text, ridge_prices, brand_columns, embedding_column))

    def _hide_sources(self, matrix: np.ndarray) -> np.ndarray:
        """Source dropout: a fixed share of training rows get the unknown-source code (-1).

        Without it the trees never see -1, and a catalogue they never saw falls on whichever side
        of a split the lowest source code sits: it is priced like the alphabetically first source.
        With it, the trees learn a path for "source unknown" from every source's rows.
        """
        share = self.params.get("source_dropout", 0.0)
        if share > 0:
            hidden = np.random.default_rng(self.seed).random(matrix.shape[0]) < share
            matrix[hidden, self.components.shape[0] + MetaFeatures.SOURCE_COLUMN] = -1
        return matrix

    def _assemble(
        self, items: list[Item], text: sparse.csr_matrix, ridge_prices: np.ndarray | None, brand_columns: np.ndarray | None, embedding_column: np.ndarray | None
    ) -> np.ndarray:
        columns = [np.asarray(text @ self.components.T), self.meta.dense(items)]
        if self.params.get("item_numbers", False):
            columns.append(item_numbers(items))
        if brand_columns is not None:
            columns.append(brand_columns)
        if embedding_column is not None:
            columns.append(embedding_column)
        if ridge_prices is not None:  # last, so the source column keeps its place
            columns.append(np.log1p(np.maximum(ridge_prices, 0))[:, None].astype(np.float32))
        return np.hstack(columns)

    def check_width(self, columns: int, directory: Path) -> None:
        """The model must read as many columns as these settings build: else every column after a
        switched-off one would land in its neighbour's place, and the prices would be quietly wrong."""
        built = self.transform([Item(id="width-check", title="width check")]).shape[1]
        if built != columns:
            raise ValueError(f"{directory}: the saved trees read {columns} columns, the settings in {CONFIG_FILE} build {built}; refit the model")

    def transform(self, items: list[Item]) -> np.ndarray:
        texts = [item_text(item) for item in items]
        if self.preset == "course":
            return self.words.transform(texts).toarray()
        ridge_prices = np.asarray(self.ridge.predict(items), dtype=float) if self.ridge is not None else None
        brand_columns = self.brands.transform(items) if self.brands is not None else None
        embedding_column = self.embedding_ridge.transform(items) if self.embedding_ridge is not None else None
        return self._assemble(items, self.tfidf.transform(texts), ridge_prices, brand_columns, embedding_column)

    def save(self, directory: Path) -> None:
        if self.preset == "course":
            (directory / "features.json").write_text(json.dumps({"vocabulary": self.words.vocabulary}))
            return
        np.savez_compressed(directory / "features.npz", idf=self.tfidf.idf, components=self.components)
        (directory / "features.json").write_text(json.dumps({"meta": self.meta.state()}))
        if self.ridge is not None:
            self.ridge.save(directory / TEXT_RIDGE_DIR)
        if self.brands is not None:
            (directory / BRAND_PRICES_FILE).write_text(json.dumps(self.brands.state()))
        if self.embedding_ridge is not None:
            self.embedding_ridge.save(directory / EMBEDDING_RIDGE_FILE)

    def load(self, directory: Path) -> None:
        state = json.loads((directory / "features.json").read_text())
        if self.preset == "course":
            self.words = WordCounts(self.params["n_features"])
            self.words.vocabulary = state["vocabulary"]
            return
        arrays = np.load(directory / "features.npz")
        self.tfidf = HashedTfidf(TextSettings(n_features=2**18, ngram_max=2))
        self.tfidf.idf, self.components = arrays["idf"], arrays["components"]
        self.meta = MetaFeatures.from_state(state["meta"])
        if self.params.get("text_ridge", False):
            self.ridge = BagOfWordsLinear.load(directory / TEXT_RIDGE_DIR)
        if self.params.get("brand_prices", False):
            self.brands = BrandPrices.from_state(json.loads((directory / BRAND_PRICES_FILE).read_text(encoding="utf-8")))
        if self.params.get("embedding_ridge", False):
            self.embedding_ridge = EmbeddingRidge.load(directory / EMBEDDING_RIDGE_FILE)


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

        self._features = _DenseTreeFeatures(self.preset, self.params, self.seed)
        matrix = self._features.fit_transform(train)
        target, weights = to_target(prices, self.params["target"]), price_weights(prices, self.params["price_power"])
        self._boosters = []
        for offset in range(self.params.get("boosters", 1)):
            model = xgboost.XGBRegressor(
                n_estimators=self.params["n_estimators"],
                learning_rate=self.params["learning_rate"],
                max_depth=self.params["max_depth"],
                subsample=self.params["subsample"],
                colsample_bytree=self.params["colsample_bytree"],
                n_jobs=self.params["n_jobs"],
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
        return from_target(raw, self.params["target"])

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
        self._features = _DenseTreeFeatures(self.preset, self.params, self.seed)
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

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self._features = _DenseTreeFeatures(self.preset, self.params, self.seed)
        matrix = self._features.fit_transform(train)
        self._model = RandomForestRegressor(
            n_estimators=self.params["n_estimators"],
            max_features=self.params["max_features"],
            min_samples_leaf=self.params["min_samples_leaf"],
            n_jobs=self.params["n_jobs"],
            random_state=self.seed,
        )
        self._model.fit(matrix, to_target(prices, self.params["target"]), sample_weight=price_weights(prices, self.params["price_power"]))

    def _predict(self, items: list[Item]) -> np.ndarray:
        return from_target(self._model.predict(self._features.transform(items)), self.params["target"])

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
        self._features = _DenseTreeFeatures(self.preset, self.params, self.seed)
        self._features.load(directory)
        self._features.check_width(self._model.n_features_in_, directory)
