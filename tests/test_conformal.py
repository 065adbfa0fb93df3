import numpy as np

from pricer_core.evaluation.conformal import conformal_quantile, coverage, interval


def test_coverage_on_synthetic_data_is_within_three_points_of_nominal():
    rng = np.random.default_rng(0)
    truth = np.exp(rng.normal(4, 1, 4000))
    prediction = np.expm1(np.log1p(truth) + rng.normal(0, 0.4, truth.size))
    half_width = conformal_quantile(truth[:2000], prediction[:2000], level=0.9)
    assert abs(coverage(truth[2000:], prediction[2000:], half_width) - 0.9) <= 0.03


def test_interval_is_symmetric_in_log_space_and_never_negative():
    low, high = interval(99.0, np.log(2))
    assert np.isclose(low, 49.0) and np.isclose(high, 199.0)
    assert interval(0.0, 5.0)[0] == 0.0
