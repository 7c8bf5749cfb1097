"""Budget -> Plan: how many tokens of thought, samples and refinement rounds a budget buys.

Cost model: one unit is `unit_tokens` tokens processed by the model (prompt tokens plus
generated tokens; a prompt shared by several samples counts once). Budget B may spend about
B units. Each profile stage fixes the shape (direct answer, one chain of thought, refinement
rounds, or a vote of samples) and the planner sizes the free knobs so the planned cost meets
B units, as far as the model's context allows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from think.config import Profile, Stage
from think.errors import UsageError

MIN_BUDGET, MAX_BUDGET = 1, 100
MIN_COT_TOKENS = 32
CUE_TOKENS = 8  # room for a forced answer cue ("\nFinal answer:": 4-5 tokens in most vocabularies)


@dataclass(frozen=True)
class PromptCosts:
    """Token counts of the prompts a plan will send, measured or estimated."""

    direct: int
    cot: int
    round_overhead: int  # prompt tokens of one critique+revise round beyond solution and critique


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
    """A budget from the command line or a caller: an integer 1..100."""
    try:
        budget = int(str(value).strip())
    except ValueError:
        raise UsageError(f"budget '{value}' is not a whole number",
                         f"use {MIN_BUDGET}..{MAX_BUDGET}") from None
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


def make_plan(profile: Profile, budget: int, prompts: PromptCosts, context: int,
              early_stop: bool | None = None) -> Plan:
    """Turn a budget (1..100, read by Budget.of) into a plan under a profile, for prompts of
    the given sizes."""
    stage = profile.stage_for(budget)
    total = budget * profile.unit_tokens
    answer, critique = profile.answer_tokens, profile.critique_tokens
    notes: list[str] = []
    stop = profile.early_stop.enabled if early_stop is None else early_stop

    if stage.strategy == "direct":
        # The answer may use what the prompt leaves of the budget; it stops at a newline.
        reply = min(max(profile.direct_tokens, total - prompts.direct), context - prompts.direct)
        samples, rounds, cot, prompt = 1, 0, 0, prompts.direct
        answer = reply
    else:
        prompt = prompts.cot
        samples, rounds = _integer_knobs(stage, total, prompt, answer, critique,
                                         prompts.round_overhead)
        cot = _fill_cot(total, prompt, samples, rounds, answer, critique, prompts.round_overhead)
        cap = _context_cap(stage, context, prompt, answer, rounds, critique,
                           prompts.round_overhead)
        if stage.strategy == "cot":
            # The thinking cap starts at cot_tokens and doubles with each budget step.
            growth = stage.cot_tokens * 2 ** (budget - stage.from_budget)
            cot = min(cot, growth)
            cap = min(cap, stage.max_cot_tokens)
        if cot > cap:
            cot = cap
            if cap < stage.max_cot_tokens or stage.strategy != "cot":
                notes.append(f"chain of thought capped at {cap} tokens by the model's context "
                             f"({context} tokens)")
        if cot < MIN_COT_TOKENS:
            cot = MIN_COT_TOKENS
            notes.append("the prompt leaves little of the budget; thinking kept at its minimum")

    planned = plan_cost(prompt, cot + answer if cot else answer, samples, rounds, critique,
                        prompts.round_overhead)
    if planned > total * 1.25 or planned < total * 0.75:
        notes.append(f"planned {planned / profile.unit_tokens:.1f} units for a budget of {budget}")
    return Plan(
        budget=budget, strategy=stage.strategy, cot_tokens=cot, samples=samples,
        refine_rounds=rounds, temperature=profile.temperature if samples > 1 or rounds else 0.0,
        answer_tokens=answer, critique_tokens=critique, unit_tokens=profile.unit_tokens,
        planned_tokens=planned, early_stop=stop and samples > 1,
        early_stop_threshold=profile.early_stop.threshold,
        early_stop_min_samples=profile.early_stop.min_samples,
        top_up_to=stage.max_samples if stage.strategy == "vote" and profile.top_up else 0,
        notes=tuple(notes),
    )


def _integer_knobs(stage: Stage, total: int, prompt: int, answer: int, critique: int,
                   overhead: int) -> tuple[int, int]:
    """Samples and refinement rounds for a stage, rounded to the nearest that fits."""
    solution = stage.cot_tokens + answer
    spare = total - prompt - solution
    if stage.strategy == "refine":
        rounds = round(spare / round_cost(solution, critique, overhead))
        return 1, max(1, min(stage.max_rounds, rounds))
    if stage.strategy == "vote":
        samples = round((total - prompt) / solution)
        return max(2, min(stage.max_samples, samples)), 0
    return 1, 0


def _fill_cot(total: int, prompt: int, samples: int, rounds: int, answer: int, critique: int,
              overhead: int) -> int:
    """The thinking length that makes the plan cost the whole budget."""
    spare = total - prompt - rounds * (overhead + 2 * critique)
    return spare // (samples + 2 * rounds) - answer


def _context_cap(stage: Stage, context: int, prompt: int, answer: int, rounds: int,
                 critique: int, overhead: int) -> int:
    """The longest thinking one sequence can hold in the model's context."""
    answer += CUE_TOKENS  # a forced sample reads the answer cue before its answer
    if rounds:
        # The revise prompt holds the question, the solution, the critique and the revision.
        return (context - prompt - overhead - 2 * critique) // 2 - answer
    return context - prompt - answer
