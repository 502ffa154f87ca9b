"""The study's estimators: means with 95% confidence intervals over seeds, and unbiased pass@k."""
from __future__ import annotations

import math
from statistics import mean, stdev

# Two-sided 95% quantiles of Student's t by degrees of freedom (standard table values); 1.96 beyond.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t975(df: int) -> float:
    """The t quantile for `df`, rounded down to the nearest tabulated df (a slightly wider interval)."""
    if df < 1:
        raise ValueError("a confidence interval needs at least two values")
    if df > 30:
        return 1.96
    return _T975[max(d for d in _T975 if d <= df)]


def mean_ci(values: list[float]) -> tuple[float, float]:
    """(mean, half-width of its 95% t interval); the half-width is nan for a single value."""
    m = mean(values)
    if len(values) < 2:
        return m, math.nan
    return m, t975(len(values) - 1) * stdev(values) / math.sqrt(len(values))


def paired_diff_ci(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of a - b over paired values (same seed) and its 95% half-width."""
    if len(a) != len(b):
        raise ValueError("paired values need the same seeds on both sides")
    return mean_ci([x - y for x, y in zip(a, b)])


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k) (Chen et al., 2021).

    Computed as a product, so large n does not overflow."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
