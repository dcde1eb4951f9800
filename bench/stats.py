"""The few statistics the benchmarks report: median, percentiles (nearest rank), ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("no values")
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed (p99 of 100 values is the 99th)."""
    if not values:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[rank - 1]


def ratio(ours: float, baseline: float) -> float:
    """ours / baseline, the figure that survives a noisy machine."""
    if baseline <= 0:
        raise ValueError(f"baseline {baseline} is not positive")
    return ours / baseline


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
