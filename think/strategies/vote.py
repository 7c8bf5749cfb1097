"""Self-consistency voting: majority vote with deterministic ties, and the early-stopping rule.

The stopping rule is Adaptive-Consistency's Beta posterior: with the leader's count a and the
runner-up's count b, stop once P(p > 1/2) >= threshold for p ~ Beta(a + 1, b + 1), i.e. once
the leader is very probably the true majority between the two.

The vote strategy draws as many chains as the budget pays for and answers with the leader.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import comb
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from think.planning.budget import Knobs, Sizing
from think.strategies.base import ChainStage, Strategy

if TYPE_CHECKING:
    from think.strategies.solver import Run


@dataclass(frozen=True)
class Tally:
    """The state of a vote: counts per answer, the leader, and how it was decided."""

    counts: dict[str, int] = field(default_factory=dict)
    leader: str | None = None
    tied: tuple[str, ...] = ()
    confidence: float = 0.0  # the evidence settled() reads (a weighted vote: effective counts)
    abstained: int = 0
    weights: dict[str, float] = field(default_factory=dict)  # a weighted vote's shares
    rule: str = "majority"  # the rule that decided (strategies/confidence)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


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


class VoteStage(ChainStage):
    """Samples of about cot_tokens thinking each, at most max_samples (top-ups included).
    The planner lengthens the thinking to spend what the samples leave of the budget, up to
    max_cot_tokens when set (a fitted profile keeps the length it was measured at)."""

    max_samples: Annotated[int, Field(ge=2, le=256)] = 64
    max_cot_tokens: Annotated[int | None, Field(ge=16, le=32768)] = None
    # The samples' temperature (None: the profile's). A small model sampled hot is much
    # weaker than greedy, so a fitted profile may vote cooler at small budgets.
    temperature: Annotated[float | None, Field(gt=0.0, le=2.0)] = None
    # The early stop's P(leader is the true majority) for this stage's votes (None: the
    # profile's early_stop.threshold). A fitted profile may settle small budgets sooner.
    early_stop_threshold: Annotated[float | None, Field(gt=0.5, lt=1.0)] = None


class Vote:
    """Self-consistency: a majority vote of sampled chains of thought."""

    name = "vote"
    settings = VoteStage
    words = "self-consistency vote"

    def plan(self, stage: VoteStage, sizing: Sizing) -> Knobs:
        """As many samples of cot_tokens as the budget pays for; their thinking fills it."""
        from think.strategies.usc import USC, reserve  # usc counts with vote's tallies

        solution = stage.cot_tokens + sizing.profile.answer_tokens
        # A usc vote keeps room for its selection request (strategies/usc).
        kept = reserve(sizing.prompts.direct, sizing.profile.answer_tokens) \
            if sizing.profile.vote_rule == USC else 0
        samples = round((sizing.total - sizing.prompts.cot - kept) / solution)
        return sizing.chains(samples=max(2, min(stage.max_samples, samples)),
                             limit=stage.max_cot_tokens,
                             top_up_to=stage.max_samples if sizing.profile.top_up else 0,
                             reserved=kept)

    def run(self, run: Run) -> None:
        """Draw and count the votes; refine the leader if the plan has rounds (auto's do)."""
        run.sample_and_vote()
        run.refine()


strategy: Strategy[VoteStage] = Vote()
