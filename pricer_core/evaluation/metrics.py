"""Error metrics, the green/orange/red colour rule and bootstrap intervals, as the course scores a price."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

Colour = Literal["green", "orange", "red"]
BOOTSTRAP_RESAMPLES = 10_000


def colour(truth: float, prediction: float) -> Colour:
    """Green within $40 or 20% of the truth, orange within $80 or 40%, else red (edges exclusive)."""
    error = abs(prediction - truth)
    if error < 40 or error < 0.2 * truth:
        return "green"
    if error < 80 or error < 0.4 * truth:
        return "orange"
    return "red"


def metrics(truths: Sequence[float], predictions: Sequence[float]) -> dict[str, float]:
    """MAE, MSE, RMSE, RMSLE, R² (percent) and hit rate (percent of green items)."""
    truth = np.asarray(truths, dtype=float)
    prediction = np.asarray(predictions, dtype=float)
    if truth.size == 0:
        raise ValueError("no items to score")
    if truth.shape != prediction.shape:
        raise ValueError(f"{truth.size} truths but {prediction.size} predictions")
    error = prediction - truth
    mse = float(np.mean(error**2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    r2 = (1 - float(np.sum(error**2)) / total) * 100 if total > 0 else float("nan")
    log_error = np.log1p(np.maximum(prediction, 0)) - np.log1p(truth)
    hits = sum(colour(t, p) == "green" for t, p in zip(truth, prediction))
    return {
        "mae": float(np.mean(np.abs(error))),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "rmsle": float(np.sqrt(np.mean(log_error**2))),
        "r2": r2,
        "hit_rate": hits / truth.size * 100,
    }


def _resample_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, values.size, size=(resamples, values.size))
    return values[picks].mean(axis=1)


def bootstrap_mean_ci(
    values: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean (of absolute errors, for the MAE)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ValueError("no values to resample")
    means = _resample_means(array, resamples, seed)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_difference(
    errors_a: Sequence[float], errors_b: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> dict[str, float | bool]:
    """MAE(a) − MAE(b) on the same items, with a paired bootstrap 95% interval."""
    a = np.abs(np.asarray(errors_a, dtype=float))
    b = np.abs(np.asarray(errors_b, dtype=float))
    if a.shape != b.shape:
        raise ValueError("paired comparison needs errors on the same items")
    low, high = bootstrap_mean_ci(a - b, resamples, seed)
    return {"difference": float(np.mean(a - b)), "ci95": [low, high], "significant": bool(low > 0 or high < 0)}


def running_mean_band(abs_errors: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running mean of absolute errors with its ±1.96·sd/√n band, item by item."""
    errors = np.asarray(abs_errors, dtype=float)
    count = np.arange(1, errors.size + 1)
    mean = np.cumsum(errors) / count
    mean_square = np.cumsum(errors**2) / count
    variance = np.maximum(mean_square - mean**2, 0) * count / np.maximum(count - 1, 1)
    half_width = 1.96 * np.sqrt(variance) / np.sqrt(count)
    return mean, mean - half_width, mean + half_width
