"""The Strategy protocol: what a strategy module provides so a profile stage can name it.

A strategy has a name, a stage settings model (a subclass of `think.config.StageSettings`),
a planner that sizes its knobs for a budget, a runner that carries the plan out on a `Run`,
and the words `describe_plan` starts its line with. It may also say whether its votes stop
early (`early_stop`), how `--plan` describes its plans (`describe`) and how a finished run
names the sample it picked (`picked`); `Described` holds the defaults, which the registry
uses for a strategy that leaves them out. Built-ins and third-party strategies are
registered alike, through the `think.strategies` entry-point group (see `registry`).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from pydantic import Field

from think.config import StageSettings
from think.errors import ConfigError
from think.planning.budget import Knobs, Plan, Sizing
from think.result import SampleRecord, VoteSummary
from think.strategies import vote_rule

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

    def sampled_at(self) -> float | None:
        return self.temperature

    def least_thinking(self) -> float:
        return self.min_thinking


class Steps(Protocol):
    """What a strategy's runner sees of a solve in progress (think.strategies.solver's Run):
    declared here so a strategy depends on this protocol, not on the solver that runs it."""

    plan: Plan
    stage: StageSettings | None  # the profile stage the plan came from (None: --budget auto)
    task: str
    sandbox: str
    programs: Any  # a program stage sets its ProgramRunner: the samples are programs to run
    samples: list[SampleRecord]  # drawn so far, in sample order once a draw is done
    best: str | None  # the answer the run gives (a strategy that picks its own sets it)
    vote: VoteSummary  # the vote so far (a pick sets its `selected` and `leader`)

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

    # Optional (the registry falls back on Described's): early_stop, describe, picked.


class Described:
    """The defaults of a strategy's optional methods; a strategy may inherit them."""

    words = ""

    def early_stop(self, stage: StageSettings) -> bool:
        """Whether a vote of this stage stops once it is settled (when the profile says so)."""
        return True

    def describe(self, plan: Plan) -> str:
        """What the plan buys, as `--plan` and the views say it (before its cost)."""
        return ", ".join(plan_parts(plan, self.words or plan.strategy))

    def picked(self, vote: VoteSummary) -> str:
        """How a finished run names the sample its vote picked (vote.selected)."""
        assert vote.selected is not None
        try:
            pick = vote_rule.get(vote.rule.partition(":")[0]).pick
        except ConfigError:  # a rule uninstalled since the run: the plain word
            pick = "chosen"
        return f"sample {vote.selected + 1} {pick} ({vote.rule})"


def refinement_rounds(count: int) -> str:
    return f"{count} refinement round{'' if count == 1 else 's'}"


def sampled_words(plan: Plan) -> str:
    """The plan's temperature and min-p as a clause ("" when greedy)."""
    at = f" at temperature {plan.temperature:g}" if plan.temperature else ""
    return at + (f", min-p {plan.min_p:g}" if plan.temperature and plan.min_p else "")


def plan_parts(plan: Plan, words: str, drawn: str | None = None) -> list[str]:
    """The pieces of a plan's description: its words, what it draws (`drawn`, else its
    chains of thought), minimum thinking, refinement, early stop and top-up."""
    parts = [words]
    at = sampled_words(plan)
    if drawn is not None:
        parts.append(drawn)
    elif plan.cot_tokens:  # a plan with no chain of thought (a direct answer) has none to show
        parts.append(f"{plan.samples} x {plan.cot_tokens} thinking tokens{at}"
                     if plan.samples > 1 else f"{plan.cot_tokens} thinking tokens{at}")
    if plan.min_thinking_tokens:
        parts.append(f"a reasoning model thinks at least {plan.min_thinking_tokens} ('Wait')")
    if plan.refine_rounds:
        parts.append(f"up to {refinement_rounds(plan.refine_rounds)}")
    if plan.early_stop:
        parts.append(f"early stop at {plan.early_stop_threshold:.0%}")
    if plan.top_up_to > plan.samples:
        parts.append(f"up to {plan.top_up_to} samples if short ones leave budget unspent")
    return parts
