"""Significance tests that decide whether a metric moved more than noise.

A trend compares the reported period with the comparison period and counts
a change only when a two-sided test rejects "no change" at the 5% level:

* averages (response times, ratings): Welch's t-test, which does not assume
  equal variances, with Welch-Satterthwaite degrees of freedom;
* shares of conversations (resolution, handoff): the pooled two-proportion
  z-test;
* conversation counts of two equally long periods: the exact binomial test
  of the current count against half of the total.

Averages and shares need at least ``MIN_SAMPLE`` observations on each side,
and a count test needs at least one conversation, or the trend is
``insufficient_data``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

SIGNIFICANCE = 0.05
MIN_SAMPLE = 5

IMPROVING = "improving"
DECLINING = "declining"
STABLE = "stable"
INCREASING = "increasing"
DECREASING = "decreasing"
INSUFFICIENT = "insufficient_data"


@dataclass(frozen=True, slots=True)
class Sample:
    """Summary statistics of one side: count, sum and sum of squares."""

    n: int
    total: float
    total_squares: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def variance(self) -> float:
        """Unbiased sample variance; 0 for fewer than two observations."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.total_squares - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True, slots=True)
class TestResult:
    test: str
    p_value: float | None
    difference: float | None


def _beta_fraction(a: float, b: float, x: float) -> float:
    # Continued fraction of the incomplete beta function, evaluated with the
    # modified Lentz method; converges fast for x < (a + 1) / (a + b + 2).
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for term in (even, odd):
            d = 1.0 + term * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + term / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def regularized_beta(x: float, a: float, b: float) -> float:
    """Return the regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def student_t_two_sided_p(t: float, degrees_of_freedom: float) -> float:
    """Return P(|T| >= |t|) for Student's t distribution."""
    return regularized_beta(
        degrees_of_freedom / (degrees_of_freedom + t * t), degrees_of_freedom / 2.0, 0.5
    )


def welch_t_test(current: Sample, previous: Sample) -> TestResult:
    if current.n < MIN_SAMPLE or previous.n < MIN_SAMPLE:
        return TestResult("welch_t", None, None)
    difference = current.mean - previous.mean
    share_current = current.variance / current.n
    share_previous = previous.variance / previous.n
    squared_error = share_current + share_previous
    if squared_error == 0.0:
        # Both sides are constant: any difference is exact, none is noise.
        return TestResult("welch_t", 0.0 if difference else 1.0, difference)
    t = difference / math.sqrt(squared_error)
    degrees = squared_error**2 / (
        share_current**2 / (current.n - 1) + share_previous**2 / (previous.n - 1)
    )
    return TestResult("welch_t", student_t_two_sided_p(t, degrees), difference)


def two_proportion_z_test(current: Sample, previous: Sample) -> TestResult:
    """Compare two shares; ``total`` of each sample is its number of successes."""
    if current.n < MIN_SAMPLE or previous.n < MIN_SAMPLE:
        return TestResult("two_proportion_z", None, None)
    difference = current.mean - previous.mean
    pooled = (current.total + previous.total) / (current.n + previous.n)
    squared_error = pooled * (1.0 - pooled) * (1.0 / current.n + 1.0 / previous.n)
    if squared_error == 0.0:
        return TestResult("two_proportion_z", 1.0, difference)
    z = difference / math.sqrt(squared_error)
    return TestResult("two_proportion_z", 2.0 * (1.0 - NormalDist().cdf(abs(z))), difference)


def count_binomial_test(current: int, previous: int) -> TestResult:
    """Test whether two counts of equally long periods differ, given their total."""
    total = current + previous
    if total == 0:
        return TestResult("exact_binomial", None, None)
    smaller = min(current, previous)
    # P(X <= k) for X ~ Binomial(n, 1/2) is I_{1/2}(n - k, k + 1).
    tail = 1.0 if smaller == total else regularized_beta(0.5, total - smaller, smaller + 1)
    return TestResult("exact_binomial", min(1.0, 2.0 * tail), float(current - previous))


def direction(result: TestResult, *, higher_is_better: bool | None) -> str:
    """Name the trend of a test result.

    ``higher_is_better=None`` marks a metric with no better direction (a
    count), which moves ``increasing`` or ``decreasing``.
    """
    if result.p_value is None or result.difference is None:
        return INSUFFICIENT
    if result.p_value >= SIGNIFICANCE or result.difference == 0:
        return STABLE
    if higher_is_better is None:
        return INCREASING if result.difference > 0 else DECREASING
    return IMPROVING if (result.difference > 0) == higher_is_better else DECLINING
