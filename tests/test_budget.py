"""Planning: budget -> plan for every shipped profile, cost within 25% of B units, monotone."""

from __future__ import annotations

import pytest

from think.config import load_profile, profile_files
from think.errors import UsageError
from think.planning.budget import CUE_TOKENS, PromptCosts, make_plan, parse_budget

TYPICAL = PromptCosts(direct=120, cot=190, round_overhead=260)
SHORT = PromptCosts(direct=40, cot=110, round_overhead=200)
CONTEXT = 32768


@pytest.mark.parametrize("name", sorted(profile_files()))
@pytest.mark.parametrize("costs", [TYPICAL, SHORT], ids=["typical", "short"])
def test_every_budget_costs_about_b_units_and_grows(name: str, costs: PromptCosts) -> None:
    profile = load_profile(name)
    previous = 0
    for budget in range(1, 101):
        plan = make_plan(profile, budget, costs, CONTEXT)
        assert 0.75 * budget <= plan.planned_units <= 1.25 * budget, (budget, plan)
        assert plan.planned_tokens >= previous, f"budget {budget} plans less than {budget - 1}"
        previous = plan.planned_tokens
        assert not plan.notes


def test_default_shape_follows_the_frontier_curve() -> None:
    profile = load_profile("default")

    def plan(budget: int):
        return make_plan(profile, budget, TYPICAL, CONTEXT)

    assert (plan(1).strategy, plan(1).cot_tokens, plan(1).samples) == ("direct", 0, 1)
    assert plan(2).strategy == "cot" and plan(2).cot_tokens == 256
    assert plan(4).strategy == "cot" and 750 <= plan(4).cot_tokens <= 1024
    assert plan(7).cot_tokens > plan(4).cot_tokens
    assert plan(12).strategy == "refine" and plan(12).refine_rounds == 3
    assert plan(20).strategy == "vote" and 9 <= plan(20).samples <= 11
    assert plan(100).strategy == "vote" and 45 <= plan(100).samples <= 56
    assert plan(20).temperature > 0 and plan(1).temperature == 0


def test_a_small_context_caps_thinking_and_says_so() -> None:
    plan = make_plan(load_profile("default"), 7, TYPICAL, context=1024)
    # A chain forced at its cap reads the answer cue, then answers: all within the context.
    assert TYPICAL.cot + plan.cot_tokens + CUE_TOKENS + plan.answer_tokens <= 1024
    assert any("context" in note for note in plan.notes)


@pytest.mark.parametrize("value", ["0", "101", "abc", "", "2.5"])
def test_bad_budgets_are_refused(value: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_budget(value)
    assert "budget" in error.value.message and "1..100" in str(error.value)
