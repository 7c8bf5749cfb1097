"""The held-out comparison `think tune --data` prints and writes into the fitted profile:
both profiles at each budget (accuracy and units per question), with the alpha of
accuracy = a * C^alpha for each."""

from __future__ import annotations

from dataclasses import dataclass

from think.config import Profile
from think.fit.choice import Fit
from think.fit.record import Half
from think.fit.replay import ROOMY, Memo, Score, Solver, score_profile
from think.planning.budget import make_plan
from think.stats import fit_power_law, paired_difference
from think.strategies.confidence import VoteRule


@dataclass
class Comparison:
    """Both profiles on the held-out half at each budget, with their power-law fits."""

    budgets: list[int]
    base: dict[int, Score | None]
    fitted: dict[int, Score | None]
    # One chain on the same questions, as (which profile, budget, score): what the fitted
    # profile's larger budgets are paired against; and one greedy program, where a profile
    # has a program stage.
    chain: tuple[str, int, Score] | None = None
    program: tuple[str, int, Score] | None = None

    def alpha(self, side: dict[int, Score | None]) -> dict[str, float] | None:
        points = [s for s in side.values() if s is not None]
        return fit_power_law([s.units for s in points], [s.accuracy for s in points])


def compare(base: Profile, fitted: Profile, held_out: Half, budgets: list[int],
            solve: Solver | None, refine_check: int) -> Comparison:
    """Both profiles on the held-out half. At a budget where either refines, both are
    scored on the first `refine_check` questions (refinement is solved for real there)."""
    comparison = Comparison(sorted(budgets), {}, {})
    memo = Memo()  # the held-out half's tallies, shared by the budgets
    for budget in comparison.budgets:
        refines = any(make_plan(p, budget, held_out.prompts[0], ROOMY).refine_rounds
                      for p in (base, fitted))
        on = held_out.head(refine_check) if refines else held_out
        comparison.base[budget] = score_profile(base, budget, on, solve, memo)
        comparison.fitted[budget] = score_profile(fitted, budget, on, solve, memo)
    comparison.chain = one_chain(comparison, base, fitted, held_out)
    comparison.program = one_chain(comparison, base, fitted, held_out, "program")
    return comparison


def one_chain(comparison: Comparison, base: Profile, fitted: Profile, held_out: Half,
              strategy: str = "cot") -> tuple[str, int, Score] | None:
    """The smallest budget at which the fitted profile, else the base, draws one chain of
    thought (or one program), scored on every held-out question."""
    for name, profile, side in (("fitted", fitted, comparison.fitted),
                                (base.name, base, comparison.base)):
        for budget in comparison.budgets:
            plan = make_plan(profile, budget, held_out.prompts[0], ROOMY)
            score = side[budget]
            if plan.strategy == strategy and plan.samples == 1 and score is not None \
                    and len(score.right) == len(held_out.questions):
                return name, budget, score
    return None


def format_table(comparison: Comparison, base_name: str, result: Fit) -> list[str]:
    """The lines that justify the profile: per budget, each profile's accuracy and units on
    the held-out questions."""
    width = max([len("fitted shape")] + [len(shape.label) for shape in result.chosen.values()])
    lines = [f"{'budget':>6}  {'fitted shape':<{width}} {'questions':>9}  "
             f"{base_name + ' acc':>14} {'units':>6}  {'fitted acc':>10} {'units':>6}"]

    def cell(score: Score | None, width: int) -> str:
        if score is None:
            return f"{'-':>{width}} {'-':>6}"
        mark = "*" if score.measured == "solved" else " "
        return f"{score.accuracy:>{width - 1}.1%}{mark} {score.units:>6.2f}"

    for budget in comparison.budgets:
        base, fitted = comparison.base[budget], comparison.fitted[budget]
        count = next((s.questions for s in (base, fitted) if s is not None), 0)
        lines.append(f"{budget:>6}  {result.chosen[budget].label:<{width}} {count:>9}  "
                     f"{cell(base, 14)}  {cell(fitted, 10)}")
    for label, side in ((base_name, comparison.base), ("fitted", comparison.fitted)):
        law = comparison.alpha(side)
        lines.append(f"{label}: " + (f"accuracy = {law['a']:.3f} * C^{law['alpha']:.3f}"
                                     if law else "alpha needs two budgets with right answers"))
    lines += paired_lines(comparison)
    if any(s is not None and s.measured == "solved"
           for s in [*comparison.base.values(), *comparison.fitted.values()]):
        lines.append("* refinement: real solves, on the first of the held-out questions")
    for budget, (solved, replayed) in result.refine_checks.items():
        verdict = "kept" if result.chosen[budget].strategy == "refine" else "dropped"
        lines.append(f"refinement at budget {budget} on {solved.questions} fit questions: "
                     f"{solved.accuracy:.1%} against {replayed.accuracy:.1%} without it "
                     f"({verdict})")
    return lines


def paired_lines(comparison: Comparison) -> list[str]:
    """Each larger budget of the fitted profile against one chain (and one program) on the
    same held-out questions (paired: no room needed for question luck)."""
    lines = []
    for words, reference in (("one chain", comparison.chain),
                             ("one program", comparison.program)):
        if reference is None:
            continue
        name, chain_budget, chain = reference
        for budget in (b for b in comparison.budgets if b > chain_budget):
            other = comparison.fitted[budget]
            if other is None or len(other.right) != len(chain.right):
                continue  # solved on fewer questions: not paired
            mean, low, high = paired_difference(list(chain.right), list(other.right))
            lines.append(f"fitted budget {budget} vs {words} ({name} budget {chain_budget}), "
                         f"paired on {len(chain.right)} held-out questions: {mean:+.1%} "
                         f"(95% CI {low:+.1%} to {high:+.1%})")
    return lines


def render(profile: Profile, table: list[str], source: str) -> str:
    """The fitted profile as YAML, the table that justifies it in its header."""
    import yaml

    header = [f"# Profile '{profile.name}', fitted by `think tune --data` on {source}.",
              f"# Vote rule: {VoteRule.of(profile).label}. Held-out accuracy and units per "
              "question:",
              *(f"#   {line}" for line in table)]
    data = profile.model_dump(exclude={"source", "name"}, exclude_none=True)
    return "\n".join(header) + "\n" + yaml.safe_dump(data, sort_keys=False)
