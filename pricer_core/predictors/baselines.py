"""The core's sanity baselines, registered through the same hook as any plugin."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

from pricer_core.storage.atomic import write_json_atomic
from pricer_core.item import Item
from pricer_core.contract.predictor import Predictor, require_training_items

STATE_FILE = "state.json"


def write_state(directory: str | Path, state: dict) -> None:
    """Small JSON state, written atomically so a crash never leaves half a model."""
    write_json_atomic(Path(directory) / STATE_FILE, state)


def read_state(directory: str | Path) -> dict:
    path = Path(directory) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no saved predictor here")
    return json.loads(path.read_text())


class ConstantMean(Predictor):
    """Always the mean training price: the floor any model must beat."""

    name = "constant-mean"
    role = "baseline"

    def __init__(self) -> None:
        self._value: float | None = None

    def _statistic(self, prices: list[float]) -> float:
        return statistics.fmean(prices)

    def fit(self, train: list[Item], validation: list[Item]) -> ConstantMean:
        self._value = self._statistic(require_training_items(train))
        return self

    def predict(self, items: list[Item]) -> list[float]:
        if self._value is None:
            raise RuntimeError(f"{self.name}: predict called before fit")
        return [self._value] * len(items)

    def save(self, directory: str | Path) -> None:
        write_state(directory, {"value": self._value})

    @classmethod
    def load(cls, directory: str | Path) -> ConstantMean:
        predictor = cls()
        predictor._value = read_state(directory)["value"]
        return predictor


class ConstantMedian(ConstantMean):
    """Always the median training price: the best constant under absolute error."""

    name = "constant-median"

    def _statistic(self, prices: list[float]) -> float:
        return statistics.median(prices)


class UniformRandom(Predictor):
    """Uniform in the training price range, seeded per item id: the worst a model should ever be."""

    name = "random"
    role = "baseline"

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed
        self._low: float | None = None
        self._high: float | None = None

    def fit(self, train: list[Item], validation: list[Item]) -> UniformRandom:
        prices = require_training_items(train)
        self._low, self._high = min(prices), max(prices)
        return self

    def predict(self, items: list[Item]) -> list[float]:
        if self._low is None or self._high is None:
            raise RuntimeError(f"{self.name}: predict called before fit")
        # Seeding per item keeps a prediction independent of batch order and thread scheduling.
        return [random.Random(f"{self.seed}:{item.id}").uniform(self._low, self._high) for item in items]

    def save(self, directory: str | Path) -> None:
        write_state(directory, {"seed": self.seed, "low": self._low, "high": self._high})

    @classmethod
    def load(cls, directory: str | Path) -> UniformRandom:
        state = read_state(directory)
        predictor = cls(seed=state["seed"])
        predictor._low, predictor._high = state["low"], state["high"]
        return predictor
