"""The bench's one scoring rule, for the official test and every held-out fold alike."""

from __future__ import annotations

import math
from typing import Any

from pricer_core.bench.results import Metrics, PredictorResult
from pricer_core.contract.checks import PredictionError, check_predictions
from pricer_core.errors import one_line
from pricer_core.item import Item


def fallback_price(train_prices: list[float]) -> float:
    """The price an abstention is scored at: the training median, the honest guess with no model."""
    import statistics

    return float(statistics.median(train_prices))


def score_result(entry: PredictorResult, outcome: dict[str, Any], sample: list[Item], fallback: float, seed: int) -> list[dict[str, Any]] | None:
    """One scoring rule for everyone: every sample item, an abstention at the fallback price.

    Output that does not match the sample (another length, a value that is not a price) fails the
    predictor with its reason; nothing it returned can change another entry.
    """
    from pricer_core.evaluation.evaluator import score

    if outcome["status"] != "ok":
        entry.status, entry.reason = "failed", outcome["reason"]
        return None
    try:
        raw = outcome["predictions"]
        if not isinstance(raw, list) or len(raw) != len(sample):
            raise PredictionError("predict-count", f"{entry.name}: returned {len(raw) if isinstance(raw, list) else type(raw).__name__} prices for {len(sample)} items")
        predictions = [None if value is None else check_predictions([value], 1, entry.name)[0] for value in raw]
        records, metrics = score(sample, predictions, seed, fallback)
    except Exception as error:
        entry.status, entry.reason = "failed", one_line(error)
        return None
    entry.metrics = Metrics(**{key: metrics[key] for key in Metrics.model_fields})
    entry.n = len(records)
    entry.coverage = metrics["coverage"]
    entry.fit_seconds, entry.cached_fit = outcome.get("fit_seconds"), outcome.get("cached_fit")
    entry.predict_seconds = outcome.get("predict_seconds")
    entry.cost_usd = float(outcome.get("cost_usd") or 0.0)
    entry.details = outcome.get("details")
    entry.interval = _interval_coverage(outcome.get("interval"), records)
    return records


def _interval_coverage(interval: dict[str, Any] | None, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The worker's conformal half-width with how often it covered the truth on the items it priced."""
    from pricer_core.evaluation.conformal import coverage

    if not interval or "half_width_log" not in interval:
        return interval
    half_width = interval["half_width_log"]
    if half_width is None:  # too few validation rows for this level: infinite, written as null
        half_width = math.inf
    if isinstance(half_width, bool) or not isinstance(half_width, (int, float)) or half_width < 0:
        return {"error": f"the worker's interval half-width is {half_width!r}, not a number"}
    priced = [record for record in records if not record.get("abstained")]
    if not priced:
        return None
    return {**interval, "coverage": coverage([r["truth"] for r in priced], [r["prediction"] for r in priced], half_width)}
