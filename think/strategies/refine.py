"""Iterative refinement: a verifier critiques the current solution, the solver revises it,
for up to R rounds, stopping as soon as the verifier accepts (or, greedy, once a revision
repeats the solution it revised); and the refine strategy: one chain of thought, then as
many rounds as the budget pays for."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from think.engine.base import Engine, SampleRequest
from think.events import CritiqueDone, EventHandler
from think.planning.budget import Knobs, Plan, Sizing, round_cost
from think.result import CritiqueRecord, SampleRecord
from think.strategies.base import ChainStage, Steps, Strategy
from think.strategies.cot import cot_request, draw, sampling
from think.strategies.verify import CodeCheck, critique_from
from think.tasks.prompts import VERDICT_CUE, Prompts

VERDICT_TOKENS = 4
REVISE_STOP = "\nRevised solution:"

Spend = Callable[[int, int], None]


def parse_verdict(critique: str) -> str:
    """'correct' when the verifier accepted the solution, else 'wrong'."""
    index = critique.rfind(VERDICT_CUE)
    words = critique[index + len(VERDICT_CUE):].strip().lower() if index >= 0 else ""
    return "correct" if words.startswith(("correct", "right", "yes")) else "wrong"


@dataclass
class Refiner:
    """Runs the critique -> revise rounds of a plan."""

    solver: Engine
    verifier: Engine
    prompts: Prompts
    verifier_prompts: Prompts
    plan: Plan
    emit: EventHandler
    spend: Spend
    deadline: float | None = None
    check: CodeCheck | None = None  # code: the tests critique, not the verifier model

    def critique_request(self, solution: str, seed: int) -> SampleRequest:
        stops = self.verifier_prompts.stops()
        prompt = self.verifier_prompts.critique(solution)
        return SampleRequest(
            prompt=prompt, shared_prefix=self.verifier_prompts.shared_prefix(prompt), n=1,
            max_tokens=self.plan.critique_tokens,
            stop=stops + ((REVISE_STOP,) if stops else ()),
            answer_cue=VERDICT_CUE, answer_tokens=VERDICT_TOKENS,
            seed=seed, **sampling(self.verifier_prompts, self.plan))

    def _critique(self, current: SampleRecord, seed: int, round_no: int
                  ) -> tuple[str, str, bool]:
        """The critique of a solution, its verdict, and whether running the tests wrote it
        (else the verifier did)."""
        outcome = self.check.run(current.answer) if self.check else None
        if outcome is not None:
            critique, verdict = critique_from(outcome)
            return f" {critique}\n{VERDICT_CUE} {verdict}", verdict, True
        request = self.critique_request(current.text, seed)
        reviews, used = draw(self.verifier, request, self.prompts.task, "critique", self.emit,
                             round_no=round_no, deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        critique = reviews[0].text
        return critique, parse_verdict(critique), False

    def run(self, start: SampleRecord, seed: int,
            on_revision: Callable[[SampleRecord], None]) -> list[CritiqueRecord]:
        """Refine `start` for the plan's rounds; on_revision hears each revised solution."""
        task = self.prompts.task
        current, rounds = start, []
        for round_no in range(1, self.plan.refine_rounds + 1):
            if self.deadline is not None and time.monotonic() >= self.deadline:
                break  # out of time: the current solution stands
            critique, verdict, tested = self._critique(current, seed + round_no, round_no)
            record = CritiqueRecord(round=round_no, critique=critique.strip(), verdict=verdict)
            done = verdict == "correct"
            if not done:
                request = cot_request(self.prompts.revise(current.text, critique), self.prompts,
                                      self.plan, n=1, seed=seed + 100 + round_no)
                revised, used = draw(self.solver, request, task, "revise", self.emit,
                                     round_no=round_no, deadline=self.deadline)
                self.spend(used.prompt_tokens, used.generated_tokens)
                # Greedy, a round on an unchanged solution would repeat this one word for word.
                done = revised[0].text == current.text and self.greedy(tested)
                current = revised[0]
                record.revised_text, record.revised_answer = current.text, current.answer
                on_revision(current)
            rounds.append(record)
            self.emit(CritiqueDone(critique=record))
            if done:
                break
        return rounds

    def greedy(self, tested: bool) -> bool:
        """Whether the round just run would repeat itself on the same solution: its revision
        decodes at temperature 0 (the model's own rules included), and so does its critique,
        unless the tests wrote it (`tested`)."""
        return sampling(self.prompts, self.plan)["temperature"] == 0 and (
            tested or sampling(self.verifier_prompts, self.plan)["temperature"] == 0)


class RefineStage(ChainStage):
    """A chain of about cot_tokens, then up to max_rounds of critique and revision."""

    max_rounds: Annotated[int, Field(ge=1, le=20)] = 3


def rounds_for(stage: RefineStage, sizing: Sizing) -> int:
    """Rounds (1..max_rounds) that spend what one chain of cot_tokens leaves of the budget."""
    profile = sizing.profile
    solution = stage.cot_tokens + profile.answer_tokens
    spare = sizing.total - sizing.prompts.cot - solution
    rounds = round(spare / round_cost(solution, profile.critique_tokens,
                                      sizing.prompts.round_overhead))
    return max(1, min(stage.max_rounds, rounds))


class Refine:
    """One chain of thought, critiqued and revised until the verifier accepts it (or,
    greedy, a revision repeats the solution it revised)."""

    name = "refine"
    settings = RefineStage
    words = "chain of thought + refinement"

    def plan(self, stage: RefineStage, sizing: Sizing) -> Knobs:
        """The rounds first; the chain is as long as what they leave pays for."""
        return sizing.chains(rounds=rounds_for(stage, sizing))

    def run(self, run: Steps) -> None:
        """Draw the chain, then refine it."""
        run.sample_and_vote()
        run.refine()


strategy: Strategy[RefineStage] = Refine()
