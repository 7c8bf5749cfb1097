"""`think tune --data`: a profile fitted to the user's model and questions.

The questions are split (seeded) into a fit half and a held-out half. On both, think records
K chains of thought per question at each of a few thinking caps, and one direct answer. Every
way a budget could be spent (a direct answer, one chain at a cap, a vote at a cap under a
vote rule) is then scored by replaying those samples through the same planner a solve uses:
the plan says how many samples the budget buys, the replay says how often their vote (early
stopping included) is right and what the drawn samples cost. Refinement cannot be replayed,
so it is measured by real solves on a few questions and kept only where it beat the best
replayed shape at its budget.

Per budget the fit keeps the shape that scored best on the fit half (fewer units on a tie);
the profile's stages are those shapes; fit_report compares the fitted profile with the
profile it started from on the held-out half, with the alpha of accuracy = a * C^alpha.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from think.config import Profile
from think.engine.base import Engine
from think.planning.budget import Plan, PromptCosts, make_plan
from think.strategies.confidence import CISC, DEEPCONF, MAJORITY, VoteRule, weigh
from think.strategies.cot import cot_request, direct_request, record
from think.strategies.vote import settled
from think.tasks.datasets import DatasetQuestion
from think.tasks.prompts import Prompts
from think.tasks.recording import Recording

Step = Callable[[str], None]
RULES = (MAJORITY, CISC, DEEPCONF)


@dataclass(frozen=True)
class Shape:
    """One way to spend a budget: a direct answer, one chain, or a vote, at a thinking cap."""

    strategy: str  # direct | cot | vote | refine
    cap: int = 0
    rule: str = MAJORITY

    @property
    def label(self) -> str:
        if self.strategy == "direct":
            return "direct"
        rule = f", {self.rule}" if self.strategy == "vote" and self.rule != MAJORITY else ""
        return f"{self.strategy}@{self.cap}{rule}"


@dataclass
class Half:
    """What was recorded on one half of the questions."""

    questions: list[DatasetQuestion]
    direct: list[str | None] = field(default_factory=list)  # one greedy answer each
    direct_tokens: list[int] = field(default_factory=list)
    chains: dict[int, list[Recording]] = field(default_factory=dict)  # by cap: K samples each
    prompts: list[PromptCosts] = field(default_factory=list)  # each question's prompt sizes
    # By cap: one greedy chain each (answer, tokens), as a plan of one chain draws it.
    greedy: dict[int, list[tuple[str | None, int]]] = field(default_factory=dict)

    def head(self, count: int) -> Half:
        """The first `count` questions (refinement is solved for real on these only)."""
        return Half(self.questions[:count], self.direct[:count], self.direct_tokens[:count],
                    {cap: chains[:count] for cap, chains in self.chains.items()},
                    self.prompts[:count],
                    {cap: chains[:count] for cap, chains in self.greedy.items()})


@dataclass(frozen=True)
class Score:
    """A shape or profile at one budget: accuracy and the units it used, per question."""

    accuracy: float
    units: float
    questions: int
    measured: str = "replayed"  # or "solved" (refinement, run for real)


def split(items: list[DatasetQuestion], seed: int) -> tuple[list[DatasetQuestion],
                                                             list[DatasetQuestion]]:
    """A seeded half for fitting and the other half held out."""
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    middle = len(shuffled) // 2
    return shuffled[:middle], shuffled[middle:]


def record_half(engine: Engine, questions: list[DatasetQuestion], caps: list[int], k: int,
                profile: Profile, seed: int, step: Step, label: str) -> Half:
    """K chains per question at each cap (with confidences), one greedy chain at each cap
    (one chain is drawn greedily in a solve), and a direct answer."""
    half = Half(questions)
    half.chains = {cap: [] for cap in caps}
    half.greedy = {cap: [] for cap in caps}
    for number, item in enumerate(questions, 1):
        prompts = Prompts(engine, item.question, "math")
        half.prompts.append(PromptCosts(direct=engine.count_tokens(prompts.direct()),
                                        cot=engine.count_tokens(prompts.cot()),
                                        round_overhead=engine.count_tokens(
                                            prompts.round_overhead())))
        base = make_plan(profile, 1, half.prompts[-1], engine.context)
        direct = engine.sample(direct_request(prompts, base, seed + number)).completions
        half.direct.append(record(direct[0], "math").answer if direct else None)
        half.direct_tokens.append(direct[0].tokens if direct else 0)
        for cap in caps:
            one = replace(base, strategy="cot", cot_tokens=cap, samples=1, temperature=0.0)
            chain = engine.sample(cot_request(prompts.cot(), prompts, one, n=1,
                                              seed=seed + number)).completions
            half.greedy[cap].append((record(chain[0], "math").answer, chain[0].tokens)
                                    if chain else (None, 0))
            plan = replace(base, strategy="vote", cot_tokens=cap, samples=k,
                           temperature=profile.temperature)
            request = replace(cot_request(prompts.cot(), prompts, plan, n=k,
                                          seed=seed + 1000 * number), confidence=True)
            done = engine.sample(request).completions
            half.chains[cap].append(Recording(
                item.id, item.gold, [record(c, "math").answer for c in done],
                [c.confidence for c in done], [c.tokens for c in done]))
        step(f"{label}: recorded {number}/{len(questions)}")
    return half


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
    # A vote at the measured cap, as many samples as were recorded (what the fit measured).
    return {"from_budget": from_budget, "strategy": "vote", "cot_tokens": shape.cap,
            "max_cot_tokens": shape.cap, "max_samples": max(2, k)}


def replace_stages(base: Profile, stages: list[dict[str, Any]], rule: str) -> Profile:
    data = base.model_dump(exclude={"source"})
    data.update(stages=stages, vote_rule=rule)
    return Profile.model_validate(data)


def nearest_cap(half: Half, cap: int) -> int:
    """The recorded cap for a plan's thinking cap: the smallest at or above it, else the
    largest recorded."""
    caps = sorted(half.chains)
    return next((c for c in caps if c >= cap), caps[-1])


def replay_plan(plan: Plan, half: Half, index: int, rule: VoteRule) -> tuple[bool, float]:
    """(right, tokens) of one question under a plan without refinement, from the recording."""
    prompt = half.prompts[index]
    gold = half.questions[index].gold
    if plan.strategy == "direct" or not plan.cot_tokens:
        answer = half.direct[index]
        return answer is not None and answer == gold, prompt.direct + half.direct_tokens[index]
    cap = nearest_cap(half, plan.cot_tokens)
    if plan.samples <= 1 and plan.temperature == 0 and half.greedy:
        answer, drawn_tokens = half.greedy[cap][index]  # one chain: drawn greedily
        return answer is not None and answer == gold, float(prompt.cot + drawn_tokens)
    recording = half.chains[cap][index]
    votes = recording.votes(plan.samples)
    drawn = []
    for vote in votes:
        drawn.append(vote)
        if plan.early_stop and len(drawn) < len(votes) and settled(
                weigh(drawn, rule), plan.early_stop_threshold, plan.early_stop_min_samples):
            break
    leader = weigh(drawn, rule).leader
    tokens = prompt.cot + sum(recording.tokens[:len(drawn)])
    return leader is not None and leader == gold, float(tokens)


def score_profile(profile: Profile, budget: int, half: Half,
                  solve: Callable[[Profile, int, DatasetQuestion], tuple[bool, float]] | None
                  ) -> Score | None:
    """The profile at `budget` on the half: replayed, or (refinement) solved for real with
    `solve`, or None when it refines and there is nothing to solve with."""
    rule = VoteRule.of(profile)
    right, units = 0, 0.0
    questions = half.questions
    refining = make_plan(profile, budget, half.prompts[0], 1 << 20).refine_rounds > 0
    if refining and solve is None:
        return None
    for index, item in enumerate(questions):
        plan = make_plan(profile, budget, half.prompts[index], 1 << 20)
        if refining and solve is not None:
            ok, spent = solve(profile, budget, item)
        else:
            ok, tokens = replay_plan(plan, half, index, rule)
            spent = tokens / profile.unit_tokens
        right += ok
        units += spent
    count = max(1, len(questions))
    return Score(right / count, units / count, len(questions),
                 "solved" if refining else "replayed")


def affords(base: Profile, shape: Shape, budget: int, half: Half, k: int) -> bool:
    """Whether the budget buys the shape as it was recorded: its plans keep the recorded
    cap (a budget too small cuts the thinking shorter than anything measured)."""
    if shape.strategy == "direct":
        return True
    profile = one_stage(base, shape, k)
    return all(make_plan(profile, budget, prompt, 1 << 20).cot_tokens >= shape.cap
               for prompt in half.prompts)


def candidates(caps: list[int]) -> list[Shape]:
    return [Shape("direct")] + [Shape("cot", cap) for cap in caps] + [
        Shape("vote", cap, rule) for cap in caps for rule in RULES]


Solver = Callable[[Profile, int, DatasetQuestion], tuple[bool, float]]  # (right, units)


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
    """The best shape per budget on the fit half. The profile holds one vote rule, so the
    rule that does best summed over the budgets is every vote's rule. Refinement replaces a
    budget's choice only where real solves on `refine_check` questions beat it there."""
    caps = sorted(half.chains)
    shapes = {shape.label: shape for shape in candidates(caps)}
    scores: dict[int, dict[str, Score]] = {}
    for budget in budgets:
        scores[budget] = {label: score for label, shape in shapes.items()
                          if affords(base, shape, budget, half, k)
                          and (score := score_profile(one_stage(base, shape, k), budget, half,
                                                      None)) is not None}
    votes = [s for s in shapes.values() if s.strategy == "vote"]

    def total(rule: str) -> float:
        return sum(max((scores[b][s.label].accuracy for s in votes
                        if s.rule == rule and s.label in scores[b]), default=0.0)
                   for b in budgets)

    rule = max(RULES, key=lambda r: (round(total(r), 6), r == MAJORITY))
    chosen = {}
    for budget in budgets:
        allowed = {label: score for label, score in scores[budget].items()
                   if shapes[label].strategy != "vote" or shapes[label].rule == rule}
        best = max(allowed, key=lambda label: (round(allowed[label].accuracy, 6),
                                               -allowed[label].units))
        chosen[budget] = shapes[best]
    result = Fit(chosen, scores, rule)
    if solve is None or refine_check <= 0:
        return result
    few = half.head(refine_check)
    refine = Shape("refine", caps[0])
    for budget in (b for b in refine_budgets if b in budgets):
        replayed = score_profile(one_stage(base, chosen[budget], k), budget, few, None)
        solved = score_profile(one_stage(base, refine, k), budget, few, solve)
        assert replayed is not None and solved is not None
        result.refine_checks[budget] = (solved, replayed)
        if solved.accuracy > replayed.accuracy:
            chosen[budget] = refine
    return result


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
        "name": name, "description": f"Fitted by think tune --data from '{base.name}': the "
                                     "shape that scored best at each budget on the fit half."})
