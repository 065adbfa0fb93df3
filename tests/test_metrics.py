import math

import pytest

from pricer_core.evaluation.metrics import bootstrap_mean_ci, colour, metrics, paired_difference, running_mean_band


def test_metrics_against_hand_computed_values():
    truths = [100.0, 200.0, 50.0, 10.0]
    predictions = [110.0, 150.0, 50.0, 40.0]
    # errors 10, -50, 0, 30
    result = metrics(truths, predictions)
    assert result["mae"] == pytest.approx(22.5)
    assert result["mse"] == pytest.approx((100 + 2500 + 0 + 900) / 4)
    assert result["rmse"] == pytest.approx(math.sqrt(875))
    logs = [math.log1p(p) - math.log1p(t) for t, p in zip(truths, predictions)]
    assert result["rmsle"] == pytest.approx(math.sqrt(sum(x * x for x in logs) / 4))
    mean = 90.0
    total = sum((t - mean) ** 2 for t in truths)
    assert result["r2"] == pytest.approx((1 - 3500 / total) * 100)
    # colours: 10 green, 50 on 200 (<20%*200=40? no; <80 yes) orange, 0 green, 30 green
    assert result["hit_rate"] == pytest.approx(75.0)


@pytest.mark.parametrize(
    "truth, prediction, expected",
    [
        (100, 139.99, "green"),
        (100, 140, "orange"),  # $40 exactly is not < $40, and 40% of 100 is not < 20%
        (300, 359.99, "green"),  # < 20% of 300 = 60
        (300, 360, "orange"),
        (100, 179.99, "orange"),
        (100, 180, "red"),
        (300, 419.99, "orange"),  # < 40% of 300 = 120
        (300, 420, "red"),
    ],
)
def test_colour_rule_edges(truth, prediction, expected):
    assert colour(truth, prediction) == expected


def test_bootstrap_interval_contains_mean_and_is_seeded():
    values = [abs(x) for x in range(-50, 150)]
    low, high = bootstrap_mean_ci(values, seed=3)
    assert low < sum(values) / len(values) < high
    assert (low, high) == bootstrap_mean_ci(values, seed=3)
    assert bootstrap_mean_ci([5.0] * 10) == (5.0, 5.0)


def test_paired_difference_flags_only_real_gaps():
    base = [float(i % 17) for i in range(200)]
    worse = [e + 5 for e in base]
    real = paired_difference(worse, base)
    assert real["difference"] == pytest.approx(5.0) and real["significant"]
    noise = paired_difference([e + (1 if i % 2 else -1) for i, e in enumerate(base)], base)
    assert not noise["significant"]


def test_running_band_narrows_and_tracks_mean():
    mean, low, high = running_mean_band([10, 20, 30, 40])
    assert list(mean) == [10, 15, 20, 25]
    assert low[-1] < 25 < high[-1]


def test_empty_or_mismatched_inputs_are_errors():
    with pytest.raises(ValueError):
        metrics([], [])
    with pytest.raises(ValueError):
        metrics([1, 2], [1])
