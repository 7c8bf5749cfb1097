"""The Strategy protocol: what a strategy module provides so a profile stage can name it.

A strategy has a name, a stage settings model (a subclass of `think.config.StageSettings`),
a planner that sizes its knobs for a budget, a runner that carries the plan out on a `Run`,
and the words `describe_plan` starts its line with. Built-ins and third-party strategies are
registered alike, through the `think.strategies` entry-point group (see `registry`).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from pydantic import Field

from think.config import StageSettings
from think.planning.budget import Knobs, Plan, Sizing

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


class Steps(Protocol):
    """What a strategy's runner sees of a solve in progress (think.strategies.solver's Run):
    declared here so a strategy depends on this protocol, not on the solver that runs it."""

    plan: Plan
    task: str
    sandbox: str
    programs: Any  # a program stage sets its ProgramRunner: the samples are programs to run

    def direct(self) -> None:
        """Draw the plan's one direct answer."""

    def sample_and_vote(self) -> None:
        """Draw the plan's chains of thought and vote, topping up while it is unsettled."""

    def refine(self) -> None:
        """Critique and revise the leading answer for the plan's rounds."""


class Strategy(Protocol[S]):
    """One way to spend a range of budgets; `S` is its stage settings model."""

    name: str  # what a profile stage writes as `strategy:`, and the entry point's name
    settings: type[S]
    words: str  # how describe_plan names it: "self-consistency vote"

    def plan(self, stage: S, sizing: Sizing) -> Knobs:
        """The samples, rounds and thinking tokens this stage buys with the budget."""
        ...

    def run(self, run: Steps) -> None:
        """Carry out `run.plan` with the Run's steps (direct, sample_and_vote, refine)."""
        ...
