"""Planning: budget -> plan for every shipped profile, cost within 25% of B units, monotone
(the README's promise), except where the question alone costs more than the budget."""

from __future__ import annotations

import pytest

from think import paths
from think.config import load_profile
from think.errors import UsageError
from think.planning.budget import PromptCosts, as_sampled, make_plan, parse_budget

TYPICAL = PromptCosts(direct=120, cot=190, round_overhead=260)
SHORT = PromptCosts(direct=40, cot=110, round_overhead=200)
# Shorter than any question's prompt: `think solve q --plan` estimates a CoT prompt of 37.
TINY = PromptCosts(direct=8, cot=20, round_overhead=100, cue=3)
CONTEXT = 32768


# The shipped profiles only: a user's own (a fitted one keeps the samples it measured) is
# theirs to shape, and collecting it would read this machine's config at import time.
SHIPPED = sorted(path.stem for path in paths.shipped("profiles").glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("costs", [TYPICAL, SHORT, TINY], ids=["typical", "short", "tiny"])
def test_every_budget_costs_about_b_units_and_grows(name: str, costs: PromptCosts) -> None:
    profile = load_profile(name)
    previous = 0
    for budget in range(1, 101):
        plan = make_plan(profile, budget, costs, CONTEXT)
        assert 0.75 * budget <= plan.planned_units <= 1.25 * budget, (budget, plan)
        assert plan.planned_tokens >= previous, f"budget {budget} plans less than {budget - 1}"
        previous = plan.planned_tokens
        assert not plan.notes


@pytest.mark.parametrize("name", SHIPPED)
def test_the_plan_a_one_letter_question_is_shown_keeps_the_promise(name: str) -> None:
    # What `think solve q --budget B --plan` plans: the prompt counted as --plan counts it.
    from think.api import prepare, prompt_costs

    setup = prepare("q", name, None, "auto", locate_model=False)
    costs, context = prompt_costs(setup)
    for budget in range(1, 101):
        plan = make_plan(setup.profile, budget, costs, context)
        assert 0.75 * budget <= plan.planned_units <= 1.25 * budget, (budget, plan)
        assert not plan.notes


@pytest.mark.parametrize("name", SHIPPED)
def test_a_question_longer_than_the_budget_plans_past_it_and_says_so(name: str) -> None:
    # The promise's one exception beside the context: the prompt alone costs more than
    # 1.25 B units, so no plan can keep it; it is read once and the plan says so.
    long = PromptCosts(direct=700, cot=790, round_overhead=900)
    profile = load_profile(name)
    for budget in range(1, 101):
        plan = make_plan(profile, budget, long, CONTEXT)
        within = 0.75 * budget <= plan.planned_units <= 1.25 * budget
        prompt_fits = min(long.direct, long.cot) <= 1.25 * budget * profile.unit_tokens
        assert within or not prompt_fits, (budget, plan)
        assert within != any(f"for a budget of {budget}" in note for note in plan.notes)


def test_default_shape_follows_the_frontier_curve() -> None:
    profile = load_profile("default")

    def plan(budget: int):
        return make_plan(profile, budget, TYPICAL, CONTEXT)

    assert (plan(1).strategy, plan(1).cot_tokens, plan(1).samples) == ("direct", 0, 1)
    assert plan(2).strategy == "cot" and plan(2).cot_tokens == 256
    assert plan(4).strategy == "cot" and 750 <= plan(4).cot_tokens <= 1024
    assert plan(7).cot_tokens > plan(4).cot_tokens
    # No same-model refinement in the default (the evidence is in default.yaml): votes from 8.
    assert plan(8).strategy == "vote" and 3 <= plan(8).samples <= 5
    assert plan(12).strategy == "vote" and plan(12).refine_rounds == 0
    critique = load_profile("critique")
    assert make_plan(critique, 12, TYPICAL, CONTEXT).refine_rounds == 3
    assert plan(20).strategy == "vote" and 9 <= plan(20).samples <= 11
    assert plan(100).strategy == "vote" and 45 <= plan(100).samples <= 56
    assert plan(20).temperature > 0 and plan(1).temperature == 0


def test_a_plan_is_shown_at_the_temperature_the_model_samples_at() -> None:
    from think.engine.rules import PLAIN, ModelRules
    from think.engine.thinking import Reasoning
    from think.ui.describe import describe_plan

    chain = make_plan(load_profile("default"), 3, TYPICAL, CONTEXT)
    assert chain.temperature == 0 and "temperature" not in describe_plan(chain)
    assert as_sampled(chain, PLAIN) is chain
    # A reasoning model whose card says 0.6 is never drawn greedily: --plan and the views
    # say so; a plain model with a card temperature still draws one chain greedily.
    card = as_sampled(chain, ModelRules(reasoning=Reasoning(), temperature=0.6))
    assert card.temperature == 0.6 and "at temperature 0.6" in describe_plan(card)
    assert as_sampled(chain, ModelRules(temperature=0.6)).temperature == 0


def test_a_profile_min_p_reaches_the_sampled_requests_and_the_plan_line() -> None:
    from think.engine.rules import PLAIN, ModelRules
    from think.ui.describe import describe_plan

    profile = load_profile("default").model_copy(update={"min_p": 0.1})
    vote = make_plan(profile, 20, TYPICAL, CONTEXT)
    assert vote.min_p == 0.1 and "at temperature 0.7, min-p 0.1" in describe_plan(vote)
    assert PLAIN.sampling(0.7, 40, 0.95, vote.min_p).min_p == 0.1
    # A greedy chain has no min-p to speak of; a model's card min-p replaces the profile's.
    chain = make_plan(profile, 3, TYPICAL, CONTEXT)
    assert "min-p" not in describe_plan(chain)
    card = ModelRules(min_p=0.05)
    assert card.sampling(0.7, 40, 0.95, 0.1).min_p == 0.05
    assert "min-p 0.05" in describe_plan(as_sampled(vote, card))


@pytest.mark.parametrize("cue", [4, 30])
def test_a_small_context_caps_thinking_and_says_so(cue: int) -> None:
    costs = PromptCosts(direct=120, cot=190, round_overhead=260, cue=cue)
    plan = make_plan(load_profile("default"), 7, costs, context=1024)
    # A chain forced at its cap reads the answer cue (as long as the engine counted it),
    # then answers: all within the context, and no room left over.
    assert costs.cot + plan.cot_tokens + cue + plan.answer_tokens == 1024
    assert any("context" in note for note in plan.notes)


@pytest.mark.parametrize("value", ["0", "101", "abc", "", "2.5"])
def test_bad_budgets_are_refused(value: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_budget(value)
    assert "budget" in error.value.message and "1..100" in str(error.value)
