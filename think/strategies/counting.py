"""Counting a vote: majority tallies with deterministic ties, and the Beta-posterior early stop.

Apart from the vote strategy so the weighted rules (confidence, usc) count with the same
tallies without importing the strategy that uses them.
"""

from __future__ import annotations

from collections import Counter
from math import comb

from think.result import Tally


def tally(answers: list[str | None]) -> Tally:
    """Count answers in sample order; ties go to the answer that appeared first."""
    counts = Counter(answer for answer in answers if answer is not None)
    if not counts:
        return Tally(abstained=len(answers))
    # Counter keeps first-appearance order, so max() picks the earliest of equal counts.
    ordered = dict(counts)
    top = max(ordered.values())
    tied = tuple(answer for answer, count in ordered.items() if count == top)
    runner_up = max((count for answer, count in ordered.items() if answer != tied[0]), default=0)
    return Tally(counts=ordered, leader=tied[0], tied=tied if len(tied) > 1 else (),
                 confidence=leader_probability(top, runner_up),
                 abstained=len(answers) - sum(ordered.values()))


def leader_probability(leader: int, runner_up: int) -> float:
    """P(p > 1/2) for p ~ Beta(leader + 1, runner_up + 1), exact for integer counts."""
    # For integer a, b: P(Beta(a, b) > 1/2) = P(Binomial(a + b - 1, 1/2) <= a - 1).
    a, b = leader + 1, runner_up + 1
    n = a + b - 1
    return sum(comb(n, k) for k in range(a)) / 2**n


def settled(current: Tally, threshold: float, min_samples: int) -> bool:
    """Whether the vote may stop drawing samples now."""
    return current.total >= min_samples and current.confidence >= threshold
