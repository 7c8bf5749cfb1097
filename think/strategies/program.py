"""Program-aided answers: the model writes a short Python program (for a base model, one
expression) instead of reasoning in words; think runs each program in the OS sandbox and
the value it computes is the sample's answer. One greedy program, or a vote of sampled ones.

A small model that miscounts in words often writes the right expression: on the embedded
model's small sums one greedy expression was right on 103 of 120 held-out questions, one
greedy chain of thought on 69. The model's code runs only in the OS sandbox (bubblewrap or
sandbox-exec), or under the in-process guard where the user opted into it; with neither,
the stage refuses to run rather than run model code unguarded. Identical programs in a
vote run once.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from think import sandbox
from think.config import StageSettings
from think.engine.base import SampleRequest
from think.errors import UsageError
from think.planning.budget import Knobs, Plan, Sizing
from think.sandbox import Limits
from think.strategies.base import Steps, Strategy, plan_parts, sampled_words
from think.strategies.cot import sampling
from think.strategies.verify import Evaluated, pool
from think.tasks.program import READ_VALUE, as_program, read_value
from think.tasks.prompts import Prompts

# A program that computes a number needs well under a second; a runaway one is cut off here.
PROGRAM_LIMITS = Limits(seconds=3.0, memory_mb=256, processes=4, file_mb=1, tmp_mb=8,
                        output_kb=64)
CHAT_PROGRAM_TOKENS = 128  # a chat model's fenced program: `think tune` records them at 256
NOT_CODE = ("a program stage answers math, choice and text questions, not code questions",
            "give --task math, or use a profile whose stage for this budget is a vote")


def sandbox_for(task: str, setting: str) -> str:
    """The sandbox mode programs run in for this question; a UsageError where they cannot
    run (a code question, or no sandbox)."""
    if task == "code":
        raise UsageError(*NOT_CODE)
    mode = sandbox.resolve(setting)
    if mode == "none":
        reason, fix = sandbox.why_not_run(setting) or sandbox.CHOSEN_NONE
        raise UsageError(f"a program stage runs the model's programs, and {reason}",
                         f"{fix}, or use a profile without a program stage")
    return mode


def fits_the_model(stage: ProgramStage, profile: str, model: str, prompt_format: str) -> None:
    """Refuse, before any model loads, programs too short for the model to write: a chat
    model answers with a fenced program, which a base model's one-expression cap (48
    tokens, what `think tune` fits on a base model) cuts off into no answer at all."""
    if prompt_format == "chat" and stage.program_tokens < CHAT_PROGRAM_TOKENS:
        raise UsageError(f"profile '{profile}' writes programs of at most "
                         f"{stage.program_tokens} tokens from budget {stage.from_budget}, "
                         f"room for a base model's one expression; {model} is a chat model, "
                         f"whose fenced programs need about {CHAT_PROGRAM_TOKENS * 2}",
                         f"fit a profile on this model (think tune --data FILE -m {model}), "
                         "or give another --profile")


class ProgramStage(StageSettings):
    """Programs of at most program_tokens each: one greedy program, or a vote of up to
    max_samples sampled ones, as many as the budget pays for."""

    program_tokens: Annotated[int, Field(ge=8, le=4096)] = 48
    max_samples: Annotated[int, Field(ge=1, le=256)] = 64
    # None: greedy for one program, the profile's temperature for a vote's.
    temperature: Annotated[float | None, Field(ge=0.0, le=2.0)] = None
    # The early stop's P(leader is the true majority) (None: the profile's).
    early_stop_threshold: Annotated[float | None, Field(gt=0.5, lt=1.0)] = None

    def sampled_at(self) -> float | None:
        return self.temperature

    def stop_threshold(self) -> float | None:
        return self.early_stop_threshold


@dataclass
class ProgramRunner:
    """Runs a solve's programs in the sandbox pool, each distinct program once."""

    task: str
    setting: str = "auto"  # the sandbox setting: auto | guard | none
    mode: str = field(init=False, default="none")
    runs: dict[str, Future[Evaluated]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mode = sandbox_for(self.task, self.setting)
        sandbox.tell(self.mode, self.setting)
        sandbox.warm(self.mode, PROGRAM_LIMITS)

    def request(self, prompts: Prompts, plan: Plan, n: int, seed: int) -> SampleRequest:
        """N programs, each its whole output (no forced cue): one line for a base model,
        one fenced block for a chat model."""
        prompt = prompts.program()
        return SampleRequest(
            prompt=prompt, shared_prefix=prompts.shared_prefix(prompt), n=n,
            max_tokens=plan.answer_tokens, stop=prompts.stops(), answer_cue="",
            answer_tokens=plan.answer_tokens, answer_end="\n```" if prompts.chat else "\n",
            seed=seed, **sampling(prompts, plan))

    def submit(self, code: str | None) -> Future[Evaluated]:
        """The value of a sample's code, run in the pool (a program seen before: its run)."""
        key = code or ""
        if key not in self.runs:
            self.runs[key] = pool().submit(self.evaluate, code)
        return self.runs[key]

    def evaluate(self, code: str | None) -> Evaluated:
        program = as_program(code)
        if program is None:
            return Evaluated(None, None)
        result = sandbox.run_tests(program, READ_VALUE, PROGRAM_LIMITS, self.mode)
        return Evaluated(read_value(result.output, self.task) if result.passed else None,
                         result.status)


class Program:
    """Program-aided: programs instead of chains of thought, their values voted on."""

    name = "program"
    settings = ProgramStage
    words = "program-aided"

    def plan(self, stage: ProgramStage, sizing: Sizing) -> Knobs:
        """As many programs of program_tokens as the budget pays for, within max_samples."""
        prompt = sizing.prompts.program_prompt
        tokens = max(8, min(stage.program_tokens, sizing.context - prompt))
        samples = max(1, min(stage.max_samples, round((sizing.total - prompt) / tokens)))
        top_up = stage.max_samples if sizing.profile.top_up and samples > 1 else 0
        return Knobs(prompt=prompt, samples=samples, answer_tokens=tokens, top_up_to=top_up)

    def before_load(self, stage: ProgramStage, *, task: str, sandbox: str, profile: str,
                    model: str, prompt_format: str) -> None:
        """Refuse, before any model loads, programs with no sandbox or too short to write."""
        sandbox_for(task, sandbox)
        fits_the_model(stage, profile, model, prompt_format)

    def describe(self, plan: Plan) -> str:
        """Its programs, where a chain's plan shows its thinking."""
        count = f"{plan.samples} programs" if plan.samples > 1 else "1 program"
        return ", ".join(plan_parts(plan, self.words, f"{count} of up to {plan.answer_tokens} "
                                    f"tokens{sampled_words(plan)}, run in the sandbox"))

    def run(self, run: Steps) -> None:
        """Draw the programs, run them, and vote on their values."""
        run.programs = ProgramRunner(run.task, run.sandbox)
        run.sample_and_vote()


strategy: Strategy[ProgramStage] = Program()
