"""Significance tests behind every trend, checked against hand-computed values."""

from __future__ import annotations

import pytest

from campfire_server.analytics import trends
from campfire_server.analytics.trends import Sample


def sample(values: list[float]) -> Sample:
    return Sample(len(values), sum(values), sum(value * value for value in values))


def test_sample_mean_and_variance():
    observed = sample([10, 20, 30, 40, 50])
    assert observed.mean == 30
    assert observed.variance == pytest.approx(250)


def test_regularized_beta_known_values():
    # I_0.5(2, 3) = P(Binomial(4, 1/2) >= 2) = 11/16.
    assert trends.regularized_beta(0.5, 2, 3) == pytest.approx(11 / 16)
    assert trends.regularized_beta(0.0, 2, 3) == 0.0
    assert trends.regularized_beta(1.0, 2, 3) == 1.0


@pytest.mark.parametrize(
    ("t", "degrees", "expected"),
    [(2.228, 10, 0.05), (12.706, 1, 0.05), (1.0, 8, 0.3466), (1.96, 1e6, 0.05)],
)
def test_student_t_two_sided_p(t, degrees, expected):
    assert trends.student_t_two_sided_p(t, degrees) == pytest.approx(expected, abs=2e-4)


def test_welch_detects_large_drop():
    # Means 30 and 120, variances 250 each, n = 5: t = -90 / 10 = -9 on 8 df.
    result = trends.welch_t_test(sample([10, 20, 30, 40, 50]), sample([100, 110, 120, 130, 140]))
    assert result.difference == -90
    assert result.p_value < 0.001
    assert trends.direction(result, higher_is_better=False) == trends.IMPROVING
    assert trends.direction(result, higher_is_better=True) == trends.DECLINING


def test_welch_calls_small_shift_stable():
    # Means 40 and 30, t = 1 on 8 df, p = 0.347.
    result = trends.welch_t_test(sample([20, 30, 40, 50, 60]), sample([10, 20, 30, 40, 50]))
    assert result.p_value == pytest.approx(0.3466, abs=1e-3)
    assert trends.direction(result, higher_is_better=False) == trends.STABLE


def test_welch_needs_five_per_side():
    result = trends.welch_t_test(sample([1, 2, 3, 4]), sample([10, 20, 30, 40, 50]))
    assert result.p_value is None
    assert trends.direction(result, higher_is_better=False) == trends.INSUFFICIENT


def test_welch_constant_sides_differ_exactly():
    result = trends.welch_t_test(sample([5] * 6), sample([4] * 6))
    assert result.p_value == 0.0
    assert trends.direction(result, higher_is_better=True) == trends.IMPROVING


def test_two_proportion_z_known_value():
    # 10 of 10 against 5 of 10: pooled 0.75, z = 0.5 / sqrt(0.75 * 0.25 * 0.2) = 2.582.
    result = trends.two_proportion_z_test(Sample(10, 10), Sample(10, 5))
    assert result.p_value == pytest.approx(0.00982, abs=1e-4)
    assert trends.direction(result, higher_is_better=True) == trends.IMPROVING


def test_two_proportion_z_small_change_stable():
    # 0 of 10 against 1 of 10: z = -1.026, p = 0.305.
    result = trends.two_proportion_z_test(Sample(10, 0), Sample(10, 1))
    assert result.p_value == pytest.approx(0.305, abs=1e-3)
    assert trends.direction(result, higher_is_better=False) == trends.STABLE


def test_two_proportion_all_equal_is_stable():
    result = trends.two_proportion_z_test(Sample(8, 0), Sample(9, 0))
    assert trends.direction(result, higher_is_better=True) == trends.STABLE


def test_count_binomial_known_values():
    assert trends.count_binomial_test(6, 0).p_value == pytest.approx(0.03125)
    assert trends.count_binomial_test(10, 10).p_value == 1.0
    # 2 * P(X <= 5) for X ~ Binomial(15, 1/2) = 2 * 4944 / 32768.
    assert trends.count_binomial_test(10, 5).p_value == pytest.approx(2 * 4944 / 32768)


def test_count_directions():
    grew = trends.count_binomial_test(12, 1)
    shrank = trends.count_binomial_test(1, 12)
    assert trends.direction(grew, higher_is_better=None) == trends.INCREASING
    assert trends.direction(shrank, higher_is_better=None) == trends.DECREASING
    assert trends.direction(trends.count_binomial_test(0, 0), higher_is_better=None) == (
        trends.INSUFFICIENT
    )
