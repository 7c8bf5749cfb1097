"""Budget -> Plan: how many tokens of thought, samples and refinement rounds a budget buys.

Cost model: one unit is `unit_tokens` tokens processed by the model (prompt tokens plus
generated tokens; a prompt shared by several samples counts once). Budget B may spend about
B units. Each profile stage fixes the shape (direct answer, one chain of thought, refinement
rounds, or a vote of samples) and the planner sizes the free knobs so the planned cost meets
B units, as far as the model's context allows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from think.config import Profile
from think.config.stage import StageSettings, strategy
from think.errors import UsageError
from think.numbers import shown, whole_number

if TYPE_CHECKING:
    from think.engine.rules import ModelRules

MIN_BUDGET, MAX_BUDGET = 1, 100
MIN_COT_TOKENS = 32
PLAN_SLACK = 0.25  # a plan costs B units within this share either way (the README's promise)


@dataclass(frozen=True)
class PromptCosts:
    """Token counts of the prompts a plan will send, measured or estimated."""

    direct: int
    cot: int
    round_overhead: int  # prompt tokens of one critique+revise round beyond solution and critique
    cue: int = 6  # tokens of the forced answer cue; engines count it ("\nFinal answer:" is 4-6)
    program: int | None = None  # the program prompt (strategies/program); None: as the CoT's

    @property
    def program_prompt(self) -> int:
        return self.cot if self.program is None else self.program


@dataclass(frozen=True)
class Plan:
    """What a budget buys; `planned_tokens` is the upper bound the run may spend."""

    budget: int
    strategy: str
    cot_tokens: int
    samples: int
    refine_rounds: int
    temperature: float
    answer_tokens: int
    critique_tokens: int
    unit_tokens: int
    planned_tokens: int
    early_stop: bool = False
    early_stop_threshold: float = 0.95
    early_stop_min_samples: int = 3
    top_up_to: int = 0  # a vote may grow to this many samples with unspent budget (0: never)
    notes: tuple[str, ...] = field(default_factory=tuple)
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.0
    min_thinking_tokens: int = 0  # a reasoning model thinks at least this long ("Wait")
    predicted_seconds: float | None = None  # from the profile's measured speeds, if any

    @property
    def planned_units(self) -> float:
        return self.planned_tokens / self.unit_tokens

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        data["planned_units"] = round(self.planned_units, 2)
        return data


AUTO = "auto"


@dataclass(frozen=True)
class Budget:
    """A budget as the user gave it, read once: `units` (1..100) and whether it is adaptive
    (`auto[:MAX]`, which escalates while the answer is unsettled, never past MAX units)."""

    units: int
    adaptive: bool = False

    @classmethod
    def of(cls, value: Budget | str | int) -> Budget:
        """A Budget from `8`, `"8"`, `"auto"` or `"auto:20"`; bad values are UsageErrors."""
        if isinstance(value, Budget):
            return value
        text = str(value).strip().lower()
        if text == AUTO:
            return cls(MAX_BUDGET, adaptive=True)
        if text.startswith(AUTO + ":"):
            return cls(parse_budget(text[len(AUTO) + 1:]), adaptive=True)
        return cls(parse_budget(value))

    def __str__(self) -> str:
        return f"{AUTO}:{self.units}" if self.adaptive else str(self.units)


def parse_budget(value: str | int) -> int:
    """A budget from the command line or a caller: an integer 1..100, all of the text digits
    (`10abc`, `1_0` and digits of other scripts are no budget)."""
    budget = value if isinstance(value, int) and not isinstance(value, bool) \
        else whole_number(str(value))
    if budget is None:
        raise UsageError(f"budget '{shown(str(value))}' is not a whole number",
                         f"use {MIN_BUDGET}..{MAX_BUDGET}")
    if not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise UsageError(f"budget {budget} is out of range", f"use {MIN_BUDGET}..{MAX_BUDGET}")
    return budget


def round_cost(solution: int, critique: int, overhead: int) -> int:
    """Tokens of one refinement round: read the solution, critique it, re-read, revise."""
    return overhead + 2 * solution + 2 * critique


def plan_cost(prompt: int, solution: int, samples: int, rounds: int, critique: int,
              overhead: int) -> int:
    """Tokens processed by a plan: shared prompt once, each sample, each round."""
    return prompt + samples * solution + rounds * round_cost(solution, critique, overhead)


@dataclass(frozen=True)
class Knobs:
    """What a strategy's planner chose for a budget; make_plan costs it and makes the Plan."""

    prompt: int  # tokens of the prompt the plan sends (once, however many samples share it)
    cot_tokens: int = 0  # 0: no chain of thought
    samples: int = 1
    refine_rounds: int = 0
    answer_tokens: int | None = None  # None: the profile's answer_tokens
    top_up_to: int = 0  # a vote may grow to this many samples with unspent budget (0: never)
    notes: tuple[str, ...] = ()
    reserved: int = 0  # tokens kept for a step after the samples (a usc vote's selection)


@dataclass(frozen=True)
class Sizing:
    """What a strategy plans for: a budget under a profile, prompts of these sizes, and the
    model's context."""

    profile: Profile
    budget: int
    prompts: PromptCosts
    context: int

    @property
    def total(self) -> int:
        """The tokens the budget may spend."""
        return self.budget * self.profile.unit_tokens

    def least_cot(self) -> int:
        """The shortest thinking at which one chain still costs the least a plan may spend
        (1 - PLAN_SLACK of the budget)."""
        least = math.ceil(self.total * (1 - PLAN_SLACK))
        return least - self.prompts.cot - self.profile.answer_tokens

    def chains(self, samples: int = 1, rounds: int = 0, limit: int | None = None,
               top_up_to: int = 0, reserved: int = 0) -> Knobs:
        """`samples` chains of thought on the CoT prompt, then `rounds` of refinement, their
        thinking as long as spends the budget less `reserved`, within the context and
        `limit`."""
        profile, prompts = self.profile, self.prompts
        answer, critique = profile.answer_tokens, profile.critique_tokens
        notes: list[str] = []
        cot = _fill_cot(self.total - reserved, prompts.cot, samples, rounds, answer, critique,
                        prompts.round_overhead)
        cot = cot if limit is None else min(cot, limit)
        cap = _context_cap(self.context, prompts.cot, answer + prompts.cue, rounds, critique,
                           prompts.round_overhead)
        if cot > cap:
            cot = cap
            notes.append(f"chain of thought capped at {cap} tokens by the model's context "
                         f"({self.context} tokens)")
        if cot < MIN_COT_TOKENS:
            cot = MIN_COT_TOKENS
            notes.append("the prompt leaves little of the budget; thinking kept at its minimum")
        return Knobs(prompt=prompts.cot, cot_tokens=cot, samples=samples, refine_rounds=rounds,
                     top_up_to=top_up_to, notes=tuple(notes), reserved=reserved)


def make_plan(profile: Profile, budget: int, prompts: PromptCosts, context: int,
              early_stop: bool | None = None) -> Plan:
    """Turn a budget (1..100, read by Budget.of) into a plan under a profile, for prompts of
    the given sizes."""
    return sized_plan(profile, budget, prompts, context, early_stop)[0]


def sized_plan(profile: Profile, budget: int, prompts: PromptCosts, context: int,
               early_stop: bool | None = None) -> tuple[Plan, int]:
    """The plan for a budget, with the tokens of the prompt it sends: the stage's strategy
    sizes the knobs, and the cost and the rest of the plan follow from them."""

    stage = profile.stage_for(budget)
    chosen = strategy(stage.strategy)
    knobs = chosen.plan(stage, Sizing(profile, budget, prompts, context))
    total = budget * profile.unit_tokens
    answer = profile.answer_tokens if knobs.answer_tokens is None else knobs.answer_tokens
    samples, rounds, cot = knobs.samples, knobs.refine_rounds, knobs.cot_tokens
    stop = profile.early_stop.enabled if early_stop is None else early_stop
    # A strategy may keep its votes from stopping early (a best-of-n reads every sample).
    stops = getattr(chosen, "early_stop", None)
    stop = stop and (stops(stage) if callable(stops) else True)
    planned = plan_cost(knobs.prompt, cot + answer if cot else answer, samples, rounds,
                        profile.critique_tokens, prompts.round_overhead) + knobs.reserved
    notes = list(knobs.notes)
    if planned > total * (1 + PLAN_SLACK) or planned < total * (1 - PLAN_SLACK):
        notes.append(f"planned {planned / profile.unit_tokens:.1f} units for a budget of {budget}")
    plan = Plan(
        budget=budget, strategy=stage.strategy, cot_tokens=cot, samples=samples,
        refine_rounds=rounds, temperature=sampling_temperature(profile, stage, samples),
        answer_tokens=answer, critique_tokens=profile.critique_tokens,
        unit_tokens=profile.unit_tokens, planned_tokens=planned, early_stop=stop and samples > 1,
        early_stop_threshold=stage.stop_threshold() or profile.early_stop.threshold,
        early_stop_min_samples=profile.early_stop.min_samples,
        top_up_to=knobs.top_up_to, notes=tuple(notes), top_k=profile.top_k,
        top_p=profile.top_p, min_p=profile.min_p,
        min_thinking_tokens=int(stage.least_thinking() * cot),
    )
    return plan, knobs.prompt


def sampling_temperature(profile: Profile, stage: StageSettings, samples: int) -> float:
    """The stage's own temperature when it sets one; else greedy for one chain (a refined
    one too: nothing votes over it, and on a small model a greedy chain is right far more
    often than a sampled one), and the profile's for a vote's samples."""
    own = stage.sampled_at()
    if own is not None:
        return own
    return 0.0 if samples <= 1 else profile.temperature


def as_sampled(plan: Plan, rules: ModelRules) -> Plan:
    """The plan as the model samples it, for showing: a model's own rules may replace its
    temperature (a reasoning model is never greedy) and its min-p."""
    sampled = rules.sampling(plan.temperature, plan.top_k, plan.top_p, plan.min_p)
    shown = replace(plan, temperature=sampled.temperature, min_p=sampled.min_p)
    return plan if shown == plan else shown


def _fill_cot(total: int, prompt: int, samples: int, rounds: int, answer: int, critique: int,
              overhead: int) -> int:
    """The thinking length that makes the plan cost the whole budget."""
    spare = total - prompt - rounds * (overhead + 2 * critique)
    return spare // (samples + 2 * rounds) - answer


def _context_cap(context: int, prompt: int, answer: int, rounds: int, critique: int,
                 overhead: int) -> int:
    """The longest thinking one sequence can hold in the model's context; `answer` counts
    the forced answer cue with the answer."""
    if rounds:
        # The revise prompt holds the question, the solution, the critique and the revision.
        return (context - prompt - overhead - 2 * critique) // 2 - answer
    return context - prompt - answer
