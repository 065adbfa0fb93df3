"""`category-median`: the median training price of the item's category, per source when it can.

Small but genuinely useful: a strong floor on data where categories carry most of the price signal,
and the cheapest possible check that a new dataset's labels make sense.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from pricer_core import Item, Predictor, hookimpl


class CategoryMedian(Predictor):
    name = "category-median"

    def __init__(self, min_items: int = 5):
        self.min_items = min_items
        self.medians: dict[str, float] = {}
        self.overall: float | None = None

    def fit(self, train: list[Item], validation: list[Item]) -> CategoryMedian:
        if not train:
            raise ValueError("cannot fit on an empty training set")
        groups: dict[str, list[float]] = {}
        for item in train:
            if item.price is None:
                raise ValueError(f"training item {item.id}: no price")
            for key in (f"{item.source}|{item.category}", f"|{item.category}"):
                groups.setdefault(key, []).append(item.price)
        self.medians = {key: statistics.median(prices) for key, prices in groups.items() if len(prices) >= self.min_items}
        self.overall = statistics.median(item.price for item in train)
        return self

    def predict(self, items: list[Item]) -> list[float]:
        if self.overall is None:
            raise RuntimeError("category-median: predict called before fit")
        return [
            self.medians.get(f"{item.source}|{item.category}", self.medians.get(f"|{item.category}", self.overall))
            for item in items
        ]

    def save(self, directory) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        state = {"min_items": self.min_items, "medians": self.medians, "overall": self.overall}
        (Path(directory) / "state.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, directory) -> CategoryMedian:
        state = json.loads((Path(directory) / "state.json").read_text())
        predictor = cls(state["min_items"])
        predictor.medians, predictor.overall = state["medians"], state["overall"]
        return predictor


@hookimpl
def register_predictors(register) -> None:
    register(CategoryMedian)
