"""Split-conformal prediction intervals in log-price space, from validation residuals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def conformal_quantile(truths: Sequence[float], predictions: Sequence[float], level: float = 0.9) -> float:
    """The ⌈(n+1)·level⌉-th smallest |log1p(truth) − log1p(prediction)|: intervals of this half-width cover ≥ level."""
    residuals = sorted(abs(math.log1p(t) - math.log1p(max(p, 0.0))) for t, p in zip(truths, predictions))
    if not residuals:
        raise ValueError("conformal intervals need validation residuals")
    rank = math.ceil((len(residuals) + 1) * level)
    return residuals[min(rank, len(residuals)) - 1] if rank <= len(residuals) else math.inf


def interval(prediction: float, half_width: float) -> tuple[float, float]:
    centre = math.log1p(max(prediction, 0.0))
    return max(0.0, math.expm1(centre - half_width)), math.expm1(centre + half_width)


def coverage(truths: Sequence[float], predictions: Sequence[float], half_width: float) -> float:
    hits = 0
    for truth, prediction in zip(truths, predictions):
        low, high = interval(prediction, half_width)
        hits += low <= truth <= high
    return hits / len(truths)


def validation_interval(predictor: Any, validation: list, learned: bool) -> dict[str, Any] | None:
    """Split-conformal 90% half-width from a fitted predictor's validation residuals, as the bench and `pricer train` record it.

    None for a per-item (LLM) predictor or no priced validation row; an `error` where it cannot be had."""
    from pricer_core.errors import one_line

    if learned:
        return {"error": "no interval: it learned from the validation rows its residuals would come from"}
    if getattr(predictor, "per_item", False):
        return None
    try:  # intervals are extra: their failure must not fail a scored predictor
        scored = [item for item in validation if item.price is not None]
        if not scored:
            return None
        predicted = predictor.predict([item.model_copy(update={"price": None}) for item in scored])
        return {"level": 0.9, "half_width_log": conformal_quantile([item.price for item in scored], predicted, 0.9)}
    except Exception as error:
        return {"error": one_line(error)}
