"""Split-conformal prediction intervals in log-price space, from validation residuals."""

from __future__ import annotations

import math
from collections.abc import Sequence


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
