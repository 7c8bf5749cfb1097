"""Small statistics shared by the benchmarks and the profile fit: an interval for a
proportion, a paired difference with its interval, and the power law accuracy = a * C^alpha."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def wilson(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion."""
    if total == 0:
        return 0.0, 0.0
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def fit_power_law(compute: list[float], accuracy: list[float]) -> dict[str, float] | None:
    """Least squares of log(accuracy) on log(compute): accuracy = a * C^alpha.

    Points with zero accuracy cannot be logged and are left out; two points give alpha
    exactly, three or more also its standard error.
    """
    points = [(c, y) for c, y in zip(compute, accuracy, strict=True) if c > 0 and y > 0]
    # Points at one compute say nothing of a slope (a profile whose budgets all buy the same).
    if len(points) < 2 or max(c for c, _ in points) - min(c for c, _ in points) < 1e-9:
        return None
    x = np.log([c for c, _ in points])
    y = np.log([v for _, v in points])
    design = np.vstack([x, np.ones_like(x)]).T
    (alpha, log_a), *_ = np.linalg.lstsq(design, y, rcond=None)
    fit = {"a": float(math.exp(log_a)), "alpha": float(alpha), "points": float(len(points))}
    if len(points) > 2:
        residuals = y - (alpha * x + log_a)
        variance = float(residuals @ residuals) / (len(points) - 2)
        fit["alpha_se"] = math.sqrt(variance / float(((x - x.mean()) ** 2).sum()))
    return fit


def paired_difference(first: Sequence[float], second: Sequence[float]
                      ) -> tuple[float, float, float]:
    """The second's accuracy minus the first's on the same questions (each right or not, or
    the share of replays it got right), with a 95% interval from the spread of the
    per-question differences (normal approximation)."""
    diffs = [float(b) - float(a) for a, b in zip(first, second, strict=True)]
    n = len(diffs)
    mean = sum(diffs) / n
    variance = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    half = 1.96 * math.sqrt(variance / n)
    return mean, mean - half, mean + half
