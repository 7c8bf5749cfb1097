"""`think tune --data`: a profile fitted to the user's model and questions.

The questions are split (seeded) into a fit half and a held-out half, and both are recorded
(think.fit.record). Every way a budget could be spent (a direct answer, one chain at a cap, a vote
at a cap and temperature under a vote rule and an early-stop threshold; where programs were
recorded, one greedy program or a vote of programs likewise) is then scored by
replaying those samples through the same planner a solve uses (think.fit.replay): the plan says
how many samples the budget buys, the replay says how often their vote (early stopping and
top-ups included, over several orders of the samples) is right and what they cost.
Refinement cannot be replayed, so it is measured by real solves on a few questions and kept
only where it beat the best replayed shape at its budget.

Per budget the fit keeps the cheapest shape within one question of the best on the fit half;
the profile's stages are those shapes; think.fit.report compares the fitted profile with the
profile it started from on the held-out half, with the alpha of accuracy = a * C^alpha.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from think.config import Profile
from think.config.vote import flattened
from think.fit.record import Half
from think.fit.replay import ROOMY, Memo, Score, Solver, score_profile
from think.planning.budget import make_plan
from think.strategies.confidence import CISC, DEEPCONF, MAJORITY, VoteRule

# Vote rules a vote is scored under (as `think bench replay --rules` writes them). CISC's
# softmax temperature is fitted too: on the embedded model's small sums a sharper softmax
# (0.25..0.5) beat 1 at 4 to 16 samples, by up to 4 points held out, at no cost per solve.
RULES = (MAJORITY, f"{CISC}:0.25", f"{CISC}:0.5", CISC, DEEPCONF)
# Early-stop thresholds a vote is also scored at, beside the base profile's own: settling
# sooner (or later) changes how many samples a question buys, which can win at a budget.
STOP_THRESHOLDS = (0.8, 0.9)


@dataclass(frozen=True)
class Shape:
    """One way to spend a budget: a direct answer, one chain, or a vote, at a thinking cap
    (a vote also at a temperature, and an early-stop threshold)."""

    strategy: str  # direct | cot | vote | refine | program
    cap: int = 0  # thinking tokens (a program's: its tokens)
    rule: str = MAJORITY  # a RULES label: majority, cisc[:TEMPERATURE], deepconf
    temperature: float = 0.0  # a vote's samples' (a program stage: 0 is one greedy program)
    stop: float | None = None  # a vote's early-stop threshold (None: the base profile's)

    @property
    def votes(self) -> bool:
        """Whether it is a vote of samples (of chains, or of programs)."""
        return self.strategy == "vote" or (self.strategy == "program" and self.temperature > 0)

    @property
    def label(self) -> str:
        if self.strategy == "direct":
            return "direct"
        if not self.votes:
            return f"{self.strategy}@{self.cap}"
        rule = f",{self.rule}" if self.rule != MAJORITY else ""
        stop = f",stop{self.stop:g}" if self.stop is not None else ""
        return f"{self.strategy}@{self.cap},T{self.temperature:g}{rule}{stop}"


def one_stage(base: Profile, shape: Shape, k: int) -> Profile:
    """A profile that spends every budget the shape's way (for scoring it)."""
    return replace_stages(base, [stage_of(shape, 1, k)], shape.rule)


def stage_of(shape: Shape, from_budget: int, k: int) -> dict[str, Any]:
    """The profile stage that spends budgets from `from_budget` the shape's way."""
    if shape.strategy == "direct":
        return {"from_budget": from_budget, "strategy": "direct"}
    if shape.strategy == "cot":
        return {"from_budget": from_budget, "strategy": "cot", "cot_tokens": shape.cap,
                "max_cot_tokens": shape.cap}
    if shape.strategy == "refine":
        return {"from_budget": from_budget, "strategy": "refine", "cot_tokens": shape.cap,
                "max_rounds": 3}
    stop = {} if shape.stop is None else {"early_stop_threshold": shape.stop}
    if shape.strategy == "program":
        program = {"from_budget": from_budget, "strategy": "program", "program_tokens": shape.cap}
        if not shape.votes:
            return {**program, "max_samples": 1}  # one greedy program
        return {**program, "max_samples": max(2, k), "temperature": shape.temperature, **stop}
    # A vote at the measured cap and temperature, as many samples as were recorded (what
    # the fit measured).
    return {"from_budget": from_budget, "strategy": "vote", "cot_tokens": shape.cap,
            "max_cot_tokens": shape.cap, "max_samples": max(2, k),
            "temperature": shape.temperature, **stop}


def replace_stages(base: Profile, stages: list[dict[str, Any]], rule: str) -> Profile:
    """The base profile with these stages, counting its votes by `rule` (a RULES label)."""
    data = base.model_dump(exclude={"source"})
    chosen = VoteRule.parse(rule)
    # The rule's knobs go with it: a label names them, and the base's own would differ.
    knobs = {knob: getattr(chosen, knob) for knob in chosen.kind.knobs}
    vote = base.vote.model_copy(update={"rule": chosen.name, **knobs})
    data.update(stages=stages, **flattened({"vote": vote.model_dump()}))
    return Profile.model_validate(data)


def affords(base: Profile, shape: Shape, budget: int, half: Half, k: int) -> bool:
    """Whether the budget buys the shape about as it was recorded: its plans keep nearly
    the recorded cap (a budget too small cuts the thinking shorter than anything measured;
    a vote's planner rounds its samples, which can leave a few tokens under the cap)."""
    if shape.strategy == "direct":
        return True
    profile = one_stage(base, shape, k)
    plans = [make_plan(profile, budget, prompt, ROOMY) for prompt in half.prompts]
    if shape.strategy == "program":
        return all(plan.answer_tokens >= shape.cap * 0.9 for plan in plans)
    return all(plan.cot_tokens >= shape.cap * 0.9 for plan in plans)


def candidates(half: Half, base: Profile) -> list[Shape]:
    # Other thresholds only where the base stops early at all, and not its own twice.
    stops = [None] + [t for t in STOP_THRESHOLDS if base.early_stop.enabled
                      and t != base.early_stop.threshold]
    # A vote at temperature 0 would be one chain drawn again and again: recorded samples at
    # 0 (a base profile or a model that samples greedily) are not votes. So for programs.
    programs = [Shape("program", half.program_cap)] + [
        Shape("program", half.program_cap, rule, temperature, stop)
        for temperature in sorted(half.programs) if temperature > 0
        for rule in RULES for stop in stops] if half.program_cap else []
    return [Shape("direct")] + [Shape("cot", cap) for cap in half.caps] + [
        Shape("vote", cap, rule, temperature, stop) for cap, temperature in sorted(half.chains)
        if temperature > 0 for rule in RULES for stop in stops] + programs


@dataclass
class Fit:
    """The fitted choice per budget, and every candidate's score on the fit half."""

    chosen: dict[int, Shape]
    scores: dict[int, dict[str, Score]]
    rule: str
    # Refinement against the replayed choice at its budget, on the questions it was solved on.
    refine_checks: dict[int, tuple[Score, Score]] = field(default_factory=dict)


def fit(base: Profile, half: Half, budgets: list[int], k: int, solve: Solver | None,
        refine_check: int, refine_budgets: tuple[int, ...] = (8,)) -> Fit:
    """The shape per budget on the fit half (cheapest_of_best). The profile holds one vote
    rule, so the rule that does best summed over the budgets is every vote's rule.
    Refinement replaces a budget's choice only where real solves on `refine_check`
    questions beat it there."""
    shapes = {shape.label: shape for shape in candidates(half, base)}
    scores: dict[int, dict[str, Score]] = {budget: {} for budget in budgets}
    for rule in RULES:  # one rule's tallies at a time, shared by its budgets and stops
        memo = Memo()
        for budget in budgets:
            scores[budget].update(
                {label: score for label, shape in shapes.items()
                 if shape.rule == rule and affords(base, shape, budget, half, k)
                 and (score := score_profile(one_stage(base, shape, k), budget, half, None,
                                             memo)) is not None})
    # In the candidates' order again: among shapes as cheap and as right, the first is kept.
    scores = {budget: {label: scores[budget][label] for label in shapes
                       if label in scores[budget]} for budget in budgets}
    votes = [s for s in shapes.values() if s.votes]

    def total(rule: str) -> float:
        return sum(max((scores[b][s.label].accuracy for s in votes
                        if s.rule == rule and s.label in scores[b]), default=0.0)
                   for b in budgets)

    rule = max(RULES, key=lambda r: (round(total(r), 6), r == MAJORITY))
    chosen = {}
    for budget in budgets:
        allowed = {label: score for label, score in scores[budget].items()
                   if not shapes[label].votes or shapes[label].rule == rule}
        chosen[budget] = shapes[cheapest_of_best(allowed, len(half.questions))]
    result = Fit(chosen, scores, rule)
    if solve is None or refine_check <= 0:
        return result
    few = half.head(refine_check)
    refine = Shape("refine", half.caps[0])
    for budget in (b for b in refine_budgets if b in budgets):
        replayed = score_profile(one_stage(base, chosen[budget], k), budget, few, None)
        solved = score_profile(one_stage(base, refine, k), budget, few, solve)
        assert replayed is not None and solved is not None
        result.refine_checks[budget] = (solved, replayed)
        if solved.accuracy > replayed.accuracy:
            chosen[budget] = refine
    return result


def cheapest_of_best(scores: dict[str, Score], questions: int) -> str:
    """The label of the cheapest shape within one question of the best accuracy: a gap that
    small is luck on the fit half, while the units are paid on every solve."""
    best = max(score.accuracy for score in scores.values())
    near = [label for label, score in scores.items()
            if score.accuracy >= best - 1 / max(1, questions) - 1e-9]
    return min(near, key=lambda label: (scores[label].units, -scores[label].accuracy))


def fitted_profile(base: Profile, result: Fit, k: int, name: str) -> Profile:
    """The fitted shapes as stages: each from its budget until the next different one."""
    stages: list[dict[str, Any]] = []
    last: Shape | None = None
    for budget in sorted(result.chosen):
        shape = result.chosen[budget]
        if shape != last:
            stages.append(stage_of(shape, 1 if not stages else budget, k))
            last = shape
    fitted = replace_stages(base, stages, result.rule)
    return fitted.model_copy(update={
        "name": name, "description": f"Fitted by think tune --data from '{base.name}': per "
                                     "budget, the cheapest shape within one question of the "
                                     "best on the fit half."})
