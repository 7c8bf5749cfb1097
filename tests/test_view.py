"""The live view's state and rendering, from scripted event sequences, on a capture console."""

from __future__ import annotations

import io

from rich.console import Console

from think.events import (
    ComputeSpent,
    CritiqueDone,
    Finished,
    SampleDone,
    Started,
    StepStarted,
    Token,
    VoteUpdated,
)
from think.planning.budget import Plan
from think.result import Compute, CritiqueRecord, Result, SampleRecord, VoteSummary
from think.strategies.vote import tally
from think.ui.plain import PlainView
from think.ui.render import render, summary
from think.ui.state import ViewState

PLAN = Plan(budget=20, strategy="vote", cot_tokens=400, samples=10, refine_rounds=0,
            temperature=0.7, answer_tokens=32, critique_tokens=128, unit_tokens=256,
            planned_tokens=5120, early_stop=True)


def screen(state: ViewState, width: int = 80, color: bool = False) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=color,
                      color_system="standard" if color else None)
    console.print(render(state, width, now=state.started + 10.0))
    return console.file.getvalue()


def sample(index: int, answer: str, finish: str = "stop") -> SampleRecord:
    return SampleRecord(index, f"so {answer}.\nFinal answer: {answer}", answer, 30, finish, index)


def voting_state() -> ViewState:
    state = ViewState(started=100.0)
    state.apply(Started("Sara has 5 cookies and eats 2. How many are left?", "math",
                        "gemma3-270m", "default", PLAN))
    state.apply(StepStarted("sample", 10, 400))
    for index in range(3):
        state.apply(Token("sample", index, f" thinking {index}"))
    answers = []
    for index, answer in enumerate(["3", "3", "5"]):
        answers.append(answer)
        state.apply(SampleDone("sample", sample(index, answer,
                                                "budget-forced" if index == 2 else "stop")))
        state.apply(VoteUpdated(tally(answers), len(answers), 10, False))
    state.apply(Token("sample", 3, " still going"))
    return state


def test_samples_votes_and_forced_marks_are_shown() -> None:
    text = screen(voting_state())
    assert "Sara has 5 cookies" in text and "gemma3-270m" in text and "budget 20" in text
    assert "#1" in text and "→ 3" in text and "forced at budget" in text
    assert "#4" in text and "still going" in text  # a live sample streams its tail
    assert "3 of 10 drawn" in text and "confidence" in text
    assert "2 67%" in text and "1 33%" in text  # a bar per answer with count and share


def test_the_leader_is_highlighted() -> None:
    text = screen(voting_state(), color=True)
    line = next(line for line in text.splitlines() if "67%" in line)
    assert "\x1b[1;32m" in line  # bold green


def test_early_stop_line_and_stopped_samples() -> None:
    state = voting_state()
    state.apply(SampleDone("sample", sample(3, "3")))
    state.apply(VoteUpdated(tally(["3", "3", "5", "3"]), 4, 10, True))
    text = screen(state)
    assert "settled after 4 of 10" in text


def test_a_top_up_round_counts_on_and_says_what_paid_for_it() -> None:
    state = voting_state()
    state.apply(StepStarted("sample", 6, 400, first=10))
    answers = [str(n) for n in range(16)]
    state.apply(VoteUpdated(tally(answers), 16, 16, False))
    text = screen(state)
    assert "16 of 16 drawn (6 bought with unspent budget)" in text
    stream = io.StringIO()
    view = PlainView(stream=stream)
    view(Started("q", "math", "m", "default", PLAN))
    view(StepStarted("sample", 6, 400, first=10))
    view(SampleDone("sample", sample(12, "7")))
    view(VoteUpdated(tally(answers), 16, 16, False))
    lines = stream.getvalue().splitlines()
    assert "think: vote unsettled, unspent budget buys 6 more samples" in lines
    assert "think: sample 13/16: 7 (30 tokens)" in lines
    # Sixteen one-off answers: the vote line lists the first five and counts the rest.
    assert lines[-1] == "think: vote: 0 x1, 1 x1, 2 x1, 3 x1, 4 x1 (+11 more)"


def test_critique_panel() -> None:
    state = ViewState(started=0.0)
    refine = Plan(budget=12, strategy="refine", cot_tokens=200, samples=1, refine_rounds=3,
                  temperature=0.7, answer_tokens=32, critique_tokens=128, unit_tokens=256,
                  planned_tokens=3072)
    state.apply(Started("q", "math", "m", "default", refine))
    state.apply(StepStarted("critique", 1, 128, round=1))
    state.apply(Token("critique", 0, " The subtraction is wrong"))
    text = screen(state)
    assert "critique, round 1" in text and "The subtraction is wrong" in text
    state.apply(CritiqueDone(CritiqueRecord(1, "5 - 2 is 3.\nVerdict: wrong", "wrong", "3")))
    text = screen(state)
    assert "round 1: wrong → revised answer 3" in text


def test_compute_meter_counts_units_tokens_and_time() -> None:
    state = voting_state()
    state.apply(ComputeSpent(prompt_tokens=200, generated_tokens=312, used_units=2.0, seconds=9.0))
    text = screen(state)
    assert "2.0 / 20 units" in text and "512 tokens" in text and "10.0 s" in text
    assert "s left" in text


def test_narrow_terminals_do_not_garble() -> None:
    state = voting_state()
    state.apply(Token("sample", 4, " a very long stream of words " * 20))
    text = screen(state, width=40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "#5" in text


def test_a_short_terminal_keeps_the_vote_and_meter_in_view() -> None:
    state = voting_state()
    for index in range(4, 16):
        state.apply(Token("sample", index, f" thinking {index}"))
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(render(state, 80, now=state.started + 10.0, height=20))
    lines = console.file.getvalue().splitlines()
    text = "\n".join(lines)
    assert len(lines) <= 19 and "vote" in text and "units" in text
    assert "more decoding" in text and "#4 " in text  # the first live samples stay
    assert "thinking 15" in screen(state)  # with no height every live sample is shown


def test_no_color_means_no_escape_codes() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, no_color=True)
    console.print(render(voting_state(), 80, now=5.0))
    assert "\x1b[3" not in console.file.getvalue()  # no foreground colours


def test_summary_after_the_run() -> None:
    state = voting_state()
    result = Result(question="q", answer="3", task="math", task_detected=True, budget=20,
                    plan=PLAN, compute=Compute(20, 256, 300, 600, 12.5), model="m",
                    profile="default", seed=1, samples=[sample(i, "3") for i in range(4)],
                    vote=VoteSummary({"3": 4}, "3", [], 0.97, 10, 4, True))
    state.apply(Finished(result))
    text = summary(state).plain
    assert "answer 3" in text and "3×4" in text and "settled after 4 of 10" in text
    assert "3.5 of 20 units" in text and "12.5 s" in text


def test_plain_answer_line_names_what_the_answer_rests_on() -> None:
    def answer_line(samples: list[SampleRecord], critiques: list[CritiqueRecord]) -> str:
        answers = [record.answer or "" for record in samples]
        result = Result(question="q", answer="144", task="math", task_detected=True, budget=8,
                        plan=PLAN, compute=Compute(8, 256, 200, 130, 3.9), model="m",
                        profile="default", seed=1, samples=samples,
                        vote=VoteSummary(dict(tally(answers).counts), answers[0], [], 0.5, 1,
                                         len(samples), False),
                        critiques=critiques)
        stream = io.StringIO()
        PlainView(stream)(Finished(result))
        return stream.getvalue()

    # A refined answer is not the first sample's, so a vote count of it would read 0/1.
    refined = answer_line([sample(0, "3")], [CritiqueRecord(1, "wrong", "wrong", "144")])
    assert "(1 refinement round, 1.3 of 8 units" in refined
    assert "votes" not in refined and "1.3 of 8 units" in refined
    voted = answer_line([sample(0, "144"), sample(1, "144"), sample(2, "7")], [])
    assert "answer 144 (2/3 votes" in voted and "refinement" not in voted


def test_live_view_keeps_full_texts_when_verbose_and_leaves_a_summary() -> None:
    from think.ui.live import LiveView

    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    view = LiveView(console, verbose=True)
    with view:
        for event in (Started("q", "math", "m", "default", PLAN), StepStarted("sample", 10, 400),
                      SampleDone("sample", sample(0, "42"))):
            view(event)
        result = Result(question="q", answer="42", task="math", task_detected=True, budget=20,
                        plan=PLAN, compute=Compute(20, 256, 10, 20, 1.0), model="m",
                        profile="default", seed=1, samples=[sample(0, "42")])
        view(Finished(result))
    output = console.file.getvalue()
    assert "[sample 1] so 42.\nFinal answer: 42" in output
    assert output.rstrip().endswith("1.0 s")  # the summary is what stays


def test_a_reasoning_sample_shows_its_thinking_dimmed_apart_from_its_answer() -> None:
    state = ViewState()
    state.apply(Started("Q?", "math", "reasoner", "default", PLAN))
    state.apply(StepStarted("sample", 2, 400))
    for piece in ("<think>", " three", " plus", " four"):
        state.apply(Token("sample", 0, piece))
    line = state.lines[0]
    assert line.in_block and line.split_tail() == (" three plus four", "")
    colored = screen(state, color=True)
    assert "three plus four" in colored and "\x1b[2;3m" in colored  # dim italic
    assert "<think>" not in screen(state)
    for piece in ("</think>", "\n\nFinal answer:", " 7"):
        state.apply(Token("sample", 0, piece))
    assert not line.in_block and line.split_tail() == (" three plus four", "\n\nFinal answer: 7")
    done = SampleRecord(0, line.tail, "7", 12, "stop", 0, thinking_tokens=3, closed="model")
    state.apply(SampleDone("sample", done))
    assert "→ 7 · thought 3 tokens, closed by the model" in screen(state, width=100)


def test_a_models_own_thinking_tags_are_told_apart_too() -> None:
    state = ViewState()
    state.apply(Started("Q?", "math", "reasoner", "default", PLAN,
                        think_tags=("<thought>", "</thought>")))
    state.apply(StepStarted("sample", 1, 400))
    for piece in ("<thought>", " three", " plus", " four"):
        state.apply(Token("sample", 0, piece))
    assert state.lines[0].in_block
    for piece in ("</thought>", "\n\nFinal answer:", " 7"):
        state.apply(Token("sample", 0, piece))
    line = state.lines[0]
    assert not line.in_block
    assert line.split_tail() == (" three plus four", "\n\nFinal answer: 7")
