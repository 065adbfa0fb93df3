"""What every classic predictor shares: presets that fill the settings left out, their checks, and
the folder's config.json.

Each predictor declares its settings as keyword-only `__init__` arguments defaulting to
FROM_PRESET. At construction the preset fills those left out and every setting is stored, resolved,
under its own name: `get_params()` shows what the model uses and `clone()` rebuilds it exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pricer_core.contract.checks import read_config_fields
from pricer_core.contract.predictor import FROM_PRESET, Predictor, check_setting_type, current_preset, declared_settings, require_training_items
from pricer_core.item import Item

from .embedding_prices import ENCODERS
from .features import check_items

CONFIG_FILE = "config.json"
POSITIVE_SETTINGS = frozenset({"n_features", "n_estimators", "svd_components", "max_iter", "folds", "max_depth", "max_leaf_nodes", "min_samples_leaf", "n_jobs", "boosters"})
MAX_BOOSTERS = 64
SHARE_SETTINGS = frozenset({"source_dropout"})  # a share of rows: 0 ≤ value < 1 (1 would hide every source)
CHOSEN_BY_CONSTRUCTION = ("preset", "seed")


class ClassicPredictor(Predictor):
    """Shared plumbing: presets, setting checks, config save/load. Subclasses build and fit."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, preset: str = "default", seed: int = 42) -> None:
        self._take_settings(preset, seed, {})

    def _take_settings(self, preset: str, seed: int, given: dict[str, Any]) -> None:
        """Check the settings a subclass's `__init__` was given (its `locals()`) and store each, the
        preset filling those left at FROM_PRESET; a setting the preset lacks stays None."""
        preset = current_preset(self.name, preset)
        if preset not in self.PRESETS:
            raise ValueError(f"{self.name}: unknown preset {preset!r}; choose from {sorted(self.PRESETS)}")
        known = self.PRESETS[preset]
        names = [name for name in declared_settings(type(self))[0] if name not in CHOSEN_BY_CONSTRUCTION]
        # None for a setting the preset lacks is how get_params() shows it: not chosen (a clone passes it back)
        chosen = {name: value for name in names if (value := given.get(name, FROM_PRESET)) is not FROM_PRESET and (value is not None or name in known)}
        unknown = set(chosen) - set(known)
        if unknown:
            raise ValueError(f"{self.name}: unknown setting(s) {sorted(unknown)} for preset {preset!r}; known: {sorted(known)}")
        for key, value in chosen.items():
            self._check_setting(key, value, known[key])
        self.preset = preset
        self.seed = seed
        for name in names:
            setattr(self, name, chosen.get(name, known.get(name)))
        self._fitted = False

    def _check_setting(self, key: str, value: Any, preset_value: Any) -> None:
        check_setting_type(self.name, key, value, preset_value)
        if key in POSITIVE_SETTINGS and value < 1:  # 0 features crashes the hashing vectorizer itself
            raise ValueError(f"{self.name}: setting {key} must be at least 1, got {value}")
        if key == "boosters" and value > MAX_BOOSTERS:  # a crafted config.json must not ask for millions of files
            raise ValueError(f"{self.name}: setting boosters must be at most {MAX_BOOSTERS}, got {value}")
        if key == "title_encoder" and value not in ENCODERS:  # checked with the other settings, not at fit time
            raise ValueError(f"{self.name}: title_encoder must be one of {list(ENCODERS)}, got {value!r}")
        if key in SHARE_SETTINGS and not 0 <= value < 1:
            raise ValueError(f"{self.name}: setting {key} is a share of rows, 0 ≤ {key} < 1, got {value}")

    @property
    def params(self) -> dict[str, Any]:
        """The settings its preset knows, as stored: what the fit reads and config.json keeps."""
        return {key: getattr(self, key) for key in self.PRESETS[self.preset]}

    def fit(self, train: list[Item], validation: list[Item]) -> ClassicPredictor:
        require_training_items(train)  # no train is an error even when validation rows would teach
        if getattr(self, "learn_from_validation", False):  # nothing here is chosen on validation, so its rows may as well teach
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

    @classmethod
    def load(cls, directory: str | Path) -> ClassicPredictor:
        directory = Path(directory)
        config = read_config_fields(directory / CONFIG_FILE, {"preset": str, "seed": int, "params": dict})
        config["preset"] = current_preset(cls.name, config["preset"], warn=False)  # folders saved before the rename
        if "learn_from_validation" in cls.PRESETS.get(config["preset"], {}):  # a folder saved before the setting learned train alone
            config["params"].setdefault("learn_from_validation", False)
        if "title_encoder" in cls.PRESETS.get(config["preset"], {}):  # a folder saved before the static table read titles with MiniLM
            config["params"].setdefault("title_encoder", "minilm")
        unknown = sorted(set(config["params"]) - set(declared_settings(cls)[0]) | set(config["params"]) & {"preset", "seed"})
        if unknown:  # a crafted or foreign config.json: one line naming the setting, never a TypeError
            raise ValueError(f"{cls.name}: unknown setting(s) {unknown} in {CONFIG_FILE}")
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
