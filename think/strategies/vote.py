"""Self-consistency voting: majority vote with deterministic ties, and the early-stopping rule.

The stopping rule is Adaptive-Consistency's Beta posterior: with the leader's count a and the
runner-up's count b, stop once P(p > 1/2) >= threshold for p ~ Beta(a + 1, b + 1), i.e. once
the leader is very probably the true majority between the two.

The vote strategy draws as many chains as the budget pays for and answers with the leader.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from think.planning.budget import Knobs, Sizing
from think.result import Tally
from think.strategies import vote_rule
from think.strategies.base import ChainStage, Steps, Strategy
from think.strategies.counting import leader_probability, settled, tally

__all__ = ["Tally", "VoteStage", "leader_probability", "settled", "strategy", "tally"]


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

    def stop_threshold(self) -> float | None:
        return self.early_stop_threshold


class Vote:
    """Self-consistency: a majority vote of sampled chains of thought."""

    name = "vote"
    settings = VoteStage
    words = "self-consistency vote"

    def plan(self, stage: VoteStage, sizing: Sizing) -> Knobs:
        """As many samples of cot_tokens as the budget pays for; their thinking fills it."""
        solution = stage.cot_tokens + sizing.profile.answer_tokens
        # A rule with a step after the samples keeps room for it (usc's selection).
        kept = vote_rule.get(sizing.profile.vote.rule).reserve(sizing)
        samples = round((sizing.total - sizing.prompts.cot - kept) / solution)
        return sizing.chains(samples=max(2, min(stage.max_samples, samples)),
                             limit=stage.max_cot_tokens,
                             top_up_to=stage.max_samples if sizing.profile.top_up else 0,
                             reserved=kept)

    def run(self, run: Steps) -> None:
        """Draw and count the votes; refine the leader if the plan has rounds (auto's do)."""
        run.sample_and_vote()
        run.refine()


strategy: Strategy[VoteStage] = Vote()
