"""Run one predictor on the benchmark sample and score it, prices hidden from the predictor."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pricer_core.item import Item
from pricer_core.evaluation.metrics import bootstrap_mean_ci, colour, metrics
from pricer_core.contract.checks import PredictionError, check_predictions  # noqa: F401  (PredictionError: public here too)
from pricer_core.contract.predictor import NoPrediction, Predictor

DEFAULT_WORKERS = 5


@dataclass
class Evaluation:
    """Per-item records and the metrics computed from them."""

    records: list[dict[str, Any]]
    metrics: dict[str, Any]
    predict_seconds: float
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.records)


def predict_all(
    predictor: Predictor,
    items: list[Item],
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[float | None], dict[str, str]]:
    """Predictions in item order; per-item predictors run in a thread pool, others in one call."""
    name = getattr(predictor, "name", type(predictor).__name__)
    if not getattr(predictor, "per_item", False):
        # Its own copy: a predictor that shortens the list it is given cannot shorten the count it is held to.
        predictions = check_predictions(predictor.predict(list(items)), len(items), name)
        if progress:
            progress(len(items))
        return list(predictions), {}

    failures: dict[str, str] = {}

    def one(item: Item) -> float | None:
        try:
            value = check_predictions(predictor.predict([item]), 1, name)[0]
        except NoPrediction as reason:
            failures[item.id] = str(reason) or "no prediction"
            value = None
        if progress:
            progress(1)
        return value

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, items)), failures


def score(
    items: list[Item], predictions: list[float | None], seed: int = 0, fallback: float | None = None
) -> tuple[list[dict], dict[str, Any]]:
    """Records for every item and their metrics; `coverage` is the share the predictor priced itself.

    With a `fallback` price (the bench's: the training median) an item the predictor abstained on is
    scored at that price and marked `abstained`, so every predictor is judged on every item and
    abstaining on hard items cannot lift a rank. Without one, metrics cover the priced items only.
    """
    if len(predictions) != len(items):
        raise PredictionError("predict-count", f"{len(predictions)} predictions for {len(items)} items")
    records = []
    for item, prediction in zip(items, predictions):
        if item.price is None:
            raise ValueError(f"test item {item.id} has no price to score against")
        record: dict[str, Any] = {"id": item.id, "title": item.title[:120], "truth": item.price, "prediction": prediction}
        if prediction is None and fallback is not None:
            record["prediction"], record["abstained"] = fallback, True
        if record["prediction"] is not None:
            record["error"] = record["prediction"] - item.price
            record["colour"] = colour(item.price, record["prediction"])
        records.append(record)
    scored = [record for record in records if record["prediction"] is not None]
    if not scored:
        raise PredictionError("predict-none", "no item got a prediction")
    result: dict[str, Any] = metrics([r["truth"] for r in scored], [r["prediction"] for r in scored])
    result["mae_ci95"] = list(bootstrap_mean_ci([abs(r["error"]) for r in scored], seed=seed))
    priced = sum(1 for r in scored if not r.get("abstained"))
    result["coverage"] = priced / len(records)
    return records, result


def evaluate(
    predictor: Predictor,
    items: list[Item],
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
    seed: int = 0,
    fallback: float | None = None,
) -> Evaluation:
    """Predict every item with its price hidden, check the contract, and score against the price
    (abstentions at `fallback` when one is given, see `score`)."""
    blind = [item.model_copy(update={"price": None}) for item in items]
    started = time.perf_counter()
    predictions, failures = predict_all(predictor, blind, workers, progress)
    elapsed = time.perf_counter() - started
    records, result = score(items, predictions, seed, fallback)
    return Evaluation(records, result, elapsed, failures)
