"""The Strategy protocol: what a strategy module provides so a profile stage can name it.

A strategy has a name, a stage settings model (a subclass of `think.config.StageSettings`),
a planner that sizes its knobs for a budget, a runner that carries the plan out on a `Run`,
and the words `describe_plan` starts its line with. Built-ins and third-party strategies are
registered alike, through the `think.strategies` entry-point group (see `registry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol, TypeVar

from pydantic import Field

from think.config import StageSettings
from think.planning.budget import Knobs, Sizing

if TYPE_CHECKING:
    from think.strategies.solver import Run

S = TypeVar("S", bound=StageSettings)


class ChainStage(StageSettings):
    """Settings of a stage that thinks in chains: the thinking length it starts from."""

    # cot: the thinking cap at from_budget; refine and vote: the target length of a chain.
    cot_tokens: Annotated[int, Field(ge=16, le=32768)] = 256
    # A reasoning model thinks at least this share of its cap: closing its block (or ending)
    # sooner is suppressed and "Wait" appended, so budget buys longer thinking, not only more
    # samples. 0: it stops when it likes.
    min_thinking: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    # The chains' temperature. None: greedy for one chain (refined or not), the profile's
    # for a vote's samples (planning.budget.sampling_temperature). A --budget auto ladder
    # samples every step at the profile's: its steps vote together.
    temperature: Annotated[float | None, Field(ge=0.0, le=2.0)] = None


class Strategy(Protocol[S]):
    """One way to spend a range of budgets; `S` is its stage settings model."""

    name: str  # what a profile stage writes as `strategy:`, and the entry point's name
    settings: type[S]
    words: str  # how describe_plan names it: "self-consistency vote"

    def plan(self, stage: S, sizing: Sizing) -> Knobs:
        """The samples, rounds and thinking tokens this stage buys with the budget."""
        ...

    def run(self, run: Run) -> None:
        """Carry out `run.plan` with the Run's steps (direct, sample_and_vote, refine)."""
        ...
