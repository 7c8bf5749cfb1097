"""The fit's replay of a vote draws as a solve would: the plan's samples, the early stop,
and top-ups while the vote is unsettled and the budget pays, as far as the recording goes."""

from __future__ import annotations

from think.config import load_profile
from think.fit.replay import ROOMY, replay_vote
from think.planning.budget import PromptCosts, make_plan
from think.strategies.confidence import VoteRule
from think.tasks.recording import Recording

PROMPT = PromptCosts(direct=60, cot=100, round_overhead=40)


def vote_plan(budget: int = 16):
    profile = load_profile("default")
    return make_plan(profile, budget, PROMPT, ROOMY), VoteRule.of(profile)


def test_an_unsettled_vote_tops_up_to_the_whole_recording() -> None:
    plan, rule = vote_plan()
    assert plan.samples < 40 <= plan.top_up_to
    split = Recording("q", "1", ["1", "2"] * 20, tokens=[20] * 40)
    leader, tokens = replay_vote(plan, PROMPT, split, rule)
    assert tokens == PROMPT.cot + 40 * 20  # every recorded sample, as the top-ups draw them
    assert leader == "1"  # a tie goes to the answer seen first


def test_a_settled_vote_stops_early_and_never_tops_up() -> None:
    plan, rule = vote_plan()
    same = Recording("q", "5", ["5"] * 40, tokens=[20] * 40)
    leader, tokens = replay_vote(plan, PROMPT, same, rule)
    # P(leader is the majority) passes 0.95 at the fourth agreeing sample.
    assert (leader, tokens) == ("5", PROMPT.cot + 4 * 20)


def test_top_ups_stop_where_the_budget_would_not_pay_for_a_sample_at_its_cap() -> None:
    plan, rule = vote_plan()
    long = Recording("q", "1", ["1", "2"] * 20, tokens=[plan.cot_tokens] * 40)
    _, tokens = replay_vote(plan, PROMPT, long, rule)
    drawn = (tokens - PROMPT.cot) / plan.cot_tokens
    worst = plan.cot_tokens + plan.answer_tokens + PROMPT.cue + 1
    assert plan.samples <= drawn < 40
    assert tokens <= plan.planned_tokens  # what it drew, the budget paid for
    assert tokens + PROMPT.cot + worst > plan.planned_tokens  # and no further sample fits


def test_a_vote_a_few_tokens_under_its_recorded_cap_is_still_affordable() -> None:
    # The vote's planner rounds its samples: at budget 8 with this prompt, 20 samples of 63
    # thinking tokens, one under the recorded 64. The fit once fell back to one chain there.
    from think.fit.choice import Shape, affords, one_stage
    from think.fit.record import Half

    base = load_profile("default")
    half = Half([], prompts=[PromptCosts(direct=60, cot=130, round_overhead=40)])
    vote = Shape("vote", 64, "majority", 0.7)
    plan = make_plan(one_stage(base, vote, 40), 8, half.prompts[0], ROOMY)
    assert plan.cot_tokens == 63
    assert affords(base, vote, 8, half, 40)
    assert not affords(base, vote, 1, half, 40)  # budget 1 cuts it far shorter


def test_a_vote_scores_the_share_of_orders_it_gets_right() -> None:
    # Drawn in this order the early stop settles on four 2s; nearly any other order of the
    # same samples finds the 1s. One order would call the shape always wrong.
    from think.fit.record import Half
    from think.fit.replay import ORDERS, orders, replay_plan
    from think.tasks.datasets import DatasetQuestion

    unlucky = Recording("q", "1", ["2"] * 4 + ["1"] * 36, tokens=[20] * 40)
    plan, rule = vote_plan()
    half = Half([DatasetQuestion("q", "What is 0 + 1?", "1")], prompts=[PROMPT],
                chains={(plan.cot_tokens, plan.temperature): [unlucky]})
    assert replay_vote(plan, PROMPT, unlucky, rule)[0] == "2"
    shuffled = orders(unlucky)
    assert len(shuffled) == ORDERS and shuffled[0] == unlucky
    assert all(sorted(order.answers) == sorted(unlucky.answers) for order in shuffled)
    assert orders(unlucky) == shuffled  # seeded: every shape sees the same orders
    share, tokens = replay_plan(plan, half, 0, rule)
    assert 0.8 <= share < 1.0
    assert PROMPT.cot + 4 * 20 <= tokens <= PROMPT.cot + 40 * 20


def test_a_memo_tallies_each_prefix_once_and_changes_no_score(monkeypatch) -> None:
    # A fit replays the same orders at every budget and stop threshold: with a memo each
    # prefix of each order is tallied once, and every score is what it was without one.
    from think.fit import replay as fit_replay
    from think.fit.choice import Shape, one_stage
    from think.fit.record import Half
    from think.strategies.confidence import weigh
    from think.tasks.datasets import DatasetQuestion

    mixed = [Recording(f"q{n}", "1", ["1", "2", "3", "1"] * 10, tokens=[20] * 40)
             for n in range(3)]
    half = Half([DatasetQuestion(f"q{n}", "What is 0 + 1?", "1") for n in range(3)],
                prompts=[PROMPT] * 3, chains={(64, 0.7): mixed})
    calls = []
    monkeypatch.setattr(fit_replay, "weigh", lambda votes, rule: calls.append(1) or
                        weigh(votes, rule))
    base = load_profile("default")
    shapes = [one_stage(base, Shape("vote", 64, "majority", 0.7, stop), 40)
              for stop in (None, 0.8, 0.99)]
    plain = [fit_replay.score_profile(p, b, half, None) for p in shapes for b in (4, 16)]
    without = len(calls)
    memo = fit_replay.Memo()
    calls.clear()
    shared = [fit_replay.score_profile(p, b, half, None, memo) for p in shapes for b in (4, 16)]
    assert shared == plain
    # At most one tally per sample of each order, against one per step of every replay.
    assert len(calls) <= 3 * fit_replay.ORDERS * 40 < without
