"""Strategies on the scripted engine: direct answers, forcing, votes, early stop, refinement."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import think
from think.config import profile_files
from think.engine.base import SampleRequest
from think.engine.scripted import ScriptedEngine
from think.errors import Interrupted
from think.events import (
    Event,
    Finished,
    SampleDone,
    Started,
    StepStarted,
    Token,
    VoteUpdated,
)

QUESTION = "Sara has 5 cookies and eats 2. How many are left?"


def solve(engine: ScriptedEngine, budget: int, **options):
    events: list[Event] = []
    result = think.solve(QUESTION, budget=budget, engine=engine, seed=7,
                         on_event=events.append, **options)
    return result, events


def test_budget_1_is_one_direct_answer() -> None:
    engine = ScriptedEngine([" 3\nQuestion: next"])
    result, events = solve(engine, 1)
    assert result.answer == "3" and result.plan.strategy == "direct"
    request = engine.history[0]
    assert request.n == 1 and request.answer_cue == "" and request.prompt.endswith("Answer:")
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)


def test_budget_2_thinks_within_its_cap_and_is_forced_to_answer() -> None:
    engine = ScriptedEngine([" step" * 1000 + "\nFinal answer: 3"])
    result, _ = solve(engine, 2)
    sample = result.samples[0]
    assert result.plan.strategy == "cot" and sample.finish == "budget-forced"
    assert sample.tokens <= result.plan.cot_tokens + result.plan.answer_tokens
    assert "\nFinal answer: 3" in sample.text and result.answer == "3"


def test_budget_20_draws_about_ten_samples_and_counts_every_vote() -> None:
    answers = "33537353333333"
    engine = ScriptedEngine(respond=lambda request, i: f" so {answers[i]}.\nFinal answer: "
                            f"{answers[i]}")
    result, events = solve(engine, 20, early_stop=False)
    planned = result.plan.samples
    assert 9 <= planned <= 11 and len(result.samples) == planned
    assert result.vote.counts["5"] == 2 and result.vote.counts["7"] == 1
    assert result.vote.counts["3"] == planned - 3 and result.answer == "3"
    assert sum(result.vote.counts.values()) == result.vote.drawn == planned
    assert len([e for e in events if isinstance(e, VoteUpdated)]) == planned
    assert len({s.seed for s in result.samples}) == planned


def test_early_stop_draws_fewer_samples_when_answers_agree() -> None:
    engine = ScriptedEngine(respond=lambda request, i: " easy.\nFinal answer: 3")
    result, _ = solve(engine, 20)
    assert result.vote.early_stopped and result.vote.drawn == 4
    assert result.vote.saved == result.plan.samples - 4


def scattered(request: SampleRequest, index: int) -> str:
    """A short sample whose answer no other sample shares: a vote that never settles."""
    return f" so.\nFinal answer: {request.seed + index}"


def test_short_samples_and_an_unsettled_vote_buy_more_samples_within_the_plan() -> None:
    engine = ScriptedEngine(respond=scattered)
    result, events = solve(engine, 20)
    vote, plan = result.vote, result.plan
    assert vote.planned == plan.samples and vote.topped_up > 0 and len(engine.history) > 1
    assert vote.drawn == plan.samples + vote.topped_up == plan.top_up_to
    # Top-up samples number on from the plan's, each with its own seed, and all of them vote.
    assert [s.index for s in result.samples] == list(range(vote.drawn))
    assert len({s.seed for s in result.samples}) == vote.drawn == sum(vote.counts.values())
    steps = [e for e in events if isinstance(e, StepStarted)]
    assert [s.first for s in steps] == [sum(s.n for s in steps[:k]) for k in range(len(steps))]
    spent = result.compute.prompt_tokens + result.compute.generated_tokens
    assert spent <= plan.planned_tokens


def test_no_top_up_when_samples_spend_their_cap_settle_or_the_profile_says_so(tmp_path) -> None:
    long = ScriptedEngine(respond=lambda request, i: " step" * 1000 + f"\nFinal answer: {i}")
    result, _ = solve(long, 20)
    assert result.vote.topped_up == 0 and len(long.history) == 1
    agreeing = ScriptedEngine(respond=lambda request, i: " so.\nFinal answer: 3")
    result, _ = solve(agreeing, 20, early_stop=False)
    assert result.vote.topped_up == 0 and result.vote.drawn == result.plan.samples
    shipped = Path(profile_files()["default"]).read_text()
    off = tmp_path / "no-top-up.yaml"
    off.write_text(shipped.replace("top_up: true", "top_up: false"))
    result, _ = solve(ScriptedEngine(respond=scattered), 20, profile=str(off))
    assert result.plan.top_up_to == 0 and result.vote.drawn == result.plan.samples


def test_no_top_up_once_time_is_up() -> None:
    def slow(request: SampleRequest, index: int) -> str:
        time.sleep(0.05)
        return scattered(request, index)

    engine = ScriptedEngine(respond=slow)
    result, _ = solve(engine, 20, max_seconds=0.2)
    assert result.vote.topped_up == 0 and len(engine.history) == 1


def test_refinement_stops_when_the_verifier_accepts() -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if request.answer_cue == "Verdict:":
            return " All steps hold.\nVerdict: correct"
        return " 5 - 2 = 3.\nFinal answer: 3"

    engine = ScriptedEngine(respond=respond)
    result, _ = solve(engine, 12, profile="critique")
    assert result.plan.strategy == "refine" and result.plan.refine_rounds == 3
    assert len(result.critiques) == 1 and result.critiques[0].verdict == "correct"
    assert result.answer == "3"


def always_rejected(request: SampleRequest, index: int) -> str:
    """A wrong chain; a verifier that rejects every solution; a revision that fixes it."""
    if request.answer_cue == "Verdict:":
        return " 5 - 2 is 3, not 7.\nVerdict: wrong"
    if "Revised solution:" in request.prompt:
        return " 5 - 2 = 3.\nFinal answer: 3"
    return " 5 + 2 = 7.\nFinal answer: 7"


def test_refinement_revises_a_rejected_answer() -> None:
    engine = ScriptedEngine(respond=always_rejected)
    result, _ = solve(engine, 12, profile="critique")
    assert result.plan.refine_rounds == 3 and result.plan.temperature == 0
    # Greedy, the second round revised the solution into itself: a third would repeat it.
    assert [c.verdict for c in result.critiques] == ["wrong"] * 2
    assert [c.revised_answer for c in result.critiques] == ["3", "3"] and result.answer == "3"
    assert all(request.temperature == 0 for request in engine.history)
    assert result.compute.used <= 1.25 * result.budget


def test_sampled_refinement_runs_every_round(tmp_path: Path) -> None:
    text = (profile_files()["critique"]).read_text()
    sampled = tmp_path / "sampled.yaml"
    sampled.write_text(text.replace("    max_rounds: 3", "    max_rounds: 3\n    temperature: 0.7"))
    engine = ScriptedEngine(respond=always_rejected)
    result, _ = solve(engine, 12, profile=str(sampled))
    # Sampled, a revision that repeats its solution may still change next round.
    assert result.plan.temperature == 0.7
    assert [c.verdict for c in result.critiques] == ["wrong"] * 3
    assert all(request.temperature == 0.7 for request in engine.history)


def test_a_step_that_starts_out_of_time_still_answers_at_once() -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if request.answer_cue == "Verdict:":
            time.sleep(0.5)  # the critique runs past --max-seconds
            return " 5 - 2 is 3, not 7.\nVerdict: wrong"
        if "Revised solution:" in request.prompt:
            return " a long revision" * 50 + "\nFinal answer: 3"
        return " 5 + 2 = 7.\nFinal answer: 7"

    result, _ = solve(ScriptedEngine(respond=respond), 12, max_seconds=0.3,
                      profile="critique")
    revision = result.critiques[0]
    # The revision began after the deadline: it answers without thinking, and no round follows.
    assert len(result.critiques) == 1 and revision.revised_answer == "3"
    assert revision.revised_text is not None and "long revision" not in revision.revised_text
    assert result.answer == "3"


def test_compute_counts_prompt_once_and_every_generated_token() -> None:
    engine = ScriptedEngine(respond=lambda request, i: " a b.\nFinal answer: 1")
    result, _ = solve(engine, 20, early_stop=False)
    prompt = engine.count_tokens(engine.history[0].prompt)
    assert result.compute.prompt_tokens == prompt
    assert result.compute.generated_tokens == sum(s.tokens for s in result.samples)


def test_ctrl_c_carries_the_best_answer_so_far() -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if index == 3:
            raise KeyboardInterrupt
        return " so.\nFinal answer: 4"

    with pytest.raises(Interrupted) as stopped:
        solve(ScriptedEngine(respond=respond), 20, early_stop=False)
    assert stopped.value.best_answer == "4" and stopped.value.exit_code == 130


def test_samples_stream_tokens_tagged_with_their_index() -> None:
    events: list[Event] = []
    engine = ScriptedEngine(respond=lambda request, i: f" x{i} y.\nFinal answer: {i}")
    think.solve(QUESTION, budget=20, engine=engine, seed=1, on_event=events.append,
                early_stop=False)
    done = [e.sample.index for e in events if isinstance(e, SampleDone)]
    tokens = {e.index for e in events if isinstance(e, Token)}
    assert done == list(range(len(done))) and tokens == set(done) and len(done) >= 9


def test_the_early_stop_reads_samples_in_the_order_asked_not_the_order_they_finish() -> None:
    # In a batch the short samples finish first. Here the short ones say 9 and the long ones
    # the right 3; in finishing order three 9s would settle the vote at once.
    def respond(request: SampleRequest, index: int) -> str:
        if index % 2:
            return " quick.\nFinal answer: 9"
        return " a much longer look at it," + " step" * 20 + "\nFinal answer: 3"

    result, events = solve(ScriptedEngine(respond=respond, batched=True), 20)
    counted = [e.sample.index for e in events if isinstance(e, SampleDone)]
    assert counted == sorted(counted) and counted[:2] == [0, 1]
    assert result.vote.counts.get("3", 0) >= result.vote.counts.get("9", 0) - 1
    # Samples that finished behind one still decoding when the vote stopped never voted.
    voters = [s for s in result.samples if s.answer is not None]
    assert [s.index for s in voters] == list(range(len(voters)))
