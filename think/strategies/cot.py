"""Chains of thought with budget forcing (and direct answers), turned into sample records;
and the cot strategy: one chain whose thinking cap doubles with each budget step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from pydantic import Field

from think.engine.base import (
    FINISH_CANCELLED,
    FINISH_LOW,
    Completion,
    Engine,
    SampleRequest,
    SampleResult,
)
from think.engine.prompt import Prompt
from think.engine.thinking import Reasoning
from think.events import EventHandler, Note, SampleDone, StepStarted, Token
from think.planning.budget import Knobs, Plan, Sizing
from think.result import SampleRecord
from think.strategies.base import ChainStage, Steps, Strategy
from think.tasks.extract import FINAL_CUE, extract
from think.tasks.prompts import Prompts

CODE_ANSWER_END = "\n```"


def answer_end(task: str) -> str:
    """Where a final answer ends: the closing fence for code, else the end of the line."""
    return CODE_ANSWER_END if task == "code" else "\n"


def sampling(prompts: Prompts, plan: Plan, temperature: float | None = None) -> dict[str, Any]:
    """A request's sampler settings: the plan's (the profile's), with the model's own in
    their place where models.yaml gives them."""
    chosen = prompts.engine.rules.sampling(
        plan.temperature if temperature is None else temperature, plan.top_k, plan.top_p,
        plan.min_p)
    return {"temperature": chosen.temperature, "top_k": chosen.top_k, "top_p": chosen.top_p,
            "min_p": chosen.min_p}


def thinking(prompts: Prompts, plan: Plan) -> Reasoning | None:
    """A reasoning model's block rules for a chain, with the plan's minimum thinking."""
    reasoning = prompts.engine.rules.reasoning
    if reasoning is None:
        return None
    return replace(reasoning, min_tokens=min(plan.min_thinking_tokens, plan.cot_tokens))


def direct_request(prompts: Prompts, plan: Plan, seed: int) -> SampleRequest:
    """One answer with no chain of thought: the model's next line (or code block)."""
    prompt = prompts.direct()
    return SampleRequest(
        prompt=prompt, shared_prefix=prompts.shared_prefix(prompt), n=1,
        max_tokens=plan.answer_tokens, stop=prompts.stops(),
        answer_cue="", answer_tokens=plan.answer_tokens, answer_end=answer_end(prompts.task),
        seed=seed, **sampling(prompts, plan))


def cot_request(prompt: Prompt, prompts: Prompts, plan: Plan, n: int, seed: int,
                temperature: float | None = None) -> SampleRequest:
    """Chains of thought capped at plan.cot_tokens, each forced to answer at the cap (a
    reasoning model's cap counts its thinking block, which is closed for it there)."""
    return SampleRequest(
        prompt=prompt, shared_prefix=prompts.shared_prefix(prompt), n=n,
        max_tokens=plan.cot_tokens, stop=prompts.stops(),
        answer_cue=FINAL_CUE, answer_tokens=plan.answer_tokens,
        answer_end=answer_end(prompts.task), seed=seed, reasoning=thinking(prompts, plan),
        **sampling(prompts, plan, temperature))


def tests_request(prompts: Prompts, plan: Plan, seed: int) -> SampleRequest:
    """The model writes assert statements for a code question (when none were given)."""
    prompt = prompts.write_tests()
    return SampleRequest(prompt=prompt, n=1, max_tokens=plan.critique_tokens,
                         stop=prompts.stops(), answer_cue=FINAL_CUE,
                         answer_tokens=plan.critique_tokens, answer_end=CODE_ANSWER_END,
                         seed=seed, **sampling(prompts, plan, 0.0))


def record(completion: Completion, task: str, offset: int = 0) -> SampleRecord:
    """A finished completion as a sample record with its extracted answer."""
    # A reasoning model's answer is read only after its thinking block.
    # A sample stopped at low confidence (DeepConf online) never answered.
    answer = None if completion.finish == FINISH_LOW else \
        extract(task, completion.text[completion.answer_from:])
    return SampleRecord(index=completion.index + offset, text=completion.text, answer=answer,
                        tokens=completion.tokens, finish=completion.finish, seed=completion.seed,
                        thinking_tokens=completion.thinking_tokens, closed=completion.closed,
                        confidence=completion.confidence)


def draw(engine: Engine, request: SampleRequest, task: str, kind: str, emit: EventHandler,
         keep_going: Callable[[SampleRecord], bool] | None = None, round_no: int = 0,
         deadline: float | None = None, first: int = 0
         ) -> tuple[list[SampleRecord], SampleResult]:
    """Run a request, streaming tokens and finished samples as events.

    Samples are numbered from `first`, so a later draw for the same vote continues the count.
    Finished samples reach `keep_going` in the order they were asked for, not the order
    they finish in: in a batch the short ones finish first, and a vote that settled on them
    would lean to whatever answer comes shortest (a program `5 * 8` against `5 + 8`, three
    tokens of thought against thirty). So the early stop sees what a replay of the samples
    in order sees.
    """
    request = replace(request, deadline=deadline)
    emit(StepStarted(kind=kind, n=request.n, max_tokens=request.max_tokens, round=round_no,
                     first=first))
    records: list[SampleRecord] = []
    waiting: dict[int, SampleRecord] = {}  # finished, behind a sample still decoding
    going = True

    def on_token(index: int, text: str) -> None:
        emit(Token(kind=kind, index=index + first, text=text))

    def release(sample: SampleRecord) -> None:
        nonlocal going
        records.append(sample)
        emit(SampleDone(kind=kind, sample=sample))
        going = keep_going(sample) if keep_going else True

    def on_done(completion: Completion) -> bool:
        waiting[completion.index + first] = record(completion, task, first)
        while going and first + len(records) in waiting:
            release(waiting.pop(first + len(records)))
        return going

    result = engine.sample(request, on_token=on_token, on_done=on_done)
    for text in result.notes:
        emit(Note(text))
    for index in sorted(waiting):  # behind a sample that never finished (a failed request)
        if going:
            release(waiting.pop(index))
    # Sequences stopped early (the vote settled) are kept for the record but never vote,
    # and so are those that finished behind one still decoding then.
    finished = {sample.index for sample in records}
    records += [replace(record(c, task, first), answer=None,
                        finish=FINISH_CANCELLED if c.index + first in waiting else c.finish)
                for c in result.completions if c.index + first not in finished]
    return sorted(records, key=lambda r: r.index), result


class CotStage(ChainStage):
    """One chain of thought: its cap is cot_tokens at from_budget, doubling per budget step,
    and never so short that the plan spends under three quarters of the budget."""

    max_cot_tokens: Annotated[int, Field(ge=16, le=32768)] = 2048


class Cot:
    """One chain of thought, forced to answer at its cap."""

    name = "cot"
    settings = CotStage
    words = "chain of thought"

    def plan(self, stage: CotStage, sizing: Sizing) -> Knobs:
        """A chain as long as the budget pays for, within the doubling cap."""
        growth = stage.cot_tokens * 2 ** (sizing.budget - stage.from_budget)
        # A short question leaves more of a small budget than the curve's first steps
        # think: the chain grows to the plan's lower bound, never past max_cot_tokens.
        cap = max(growth, sizing.least_cot())
        return sizing.chains(limit=min(cap, stage.max_cot_tokens))

    def run(self, run: Steps) -> None:
        """Draw the chain; its answer is the one vote."""
        run.sample_and_vote()


strategy: Strategy[CotStage] = Cot()
