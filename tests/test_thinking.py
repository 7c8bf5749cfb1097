"""A reasoning model's thinking block, followed token by token: the cap closes it with the
stop message, a model that closes it itself answers the same way, the minimum turns an early
close (or end) into "Wait", and the answer is read only after the block."""

from __future__ import annotations

from think.engine.base import SampleRequest
from think.engine.scripted import ScriptedEngine
from think.engine.thinking import STOP_MESSAGE, Reasoning
from think.engine.tracker import SampleTracker
from think.strategies.cot import record

CUE = "Final answer:"


def request(max_tokens: int = 4, min_tokens: int = 0) -> SampleRequest:
    return SampleRequest(prompt="q", max_tokens=max_tokens, answer_cue=CUE, answer_tokens=4,
                         reasoning=Reasoning(min_tokens=min_tokens))


def feed_all(tracker: SampleTracker, pieces: list[str]) -> list[str]:
    injected = []
    for piece in pieces:
        tracker.feed(piece)
        injected.append(tracker.take_injected())
        if tracker.finish:
            break
    return injected


def test_the_cap_closes_the_block_with_the_stop_message_then_the_cue() -> None:
    tracker = SampleTracker(request(max_tokens=3), think_open=True)
    injected = feed_all(tracker, [" 3", " plus", " 4", " 7", "\n"])
    assert injected[2] == f"\n\n{STOP_MESSAGE}\n</think>\n\n{CUE}"
    done = tracker.completion(0, 0)
    assert done.finish == "budget-forced" and done.closed == "forced"
    assert done.thinking_tokens == 3
    assert done.text.endswith(f"</think>\n\n{CUE} 7")
    assert record(done, "math").answer == "7"


def test_a_model_that_closes_its_block_reads_the_cue_and_its_answer_is_read_after_it() -> None:
    tracker = SampleTracker(request(max_tokens=50))
    injected = feed_all(tracker, ["<think>", " 2+2", " is 5?", " no, 4", "</think>", " 4", "\n"])
    assert injected[4] == f"\n\n{CUE}"  # no stop message: the model closed it
    done = tracker.completion(0, 0)
    assert done.closed == "model" and done.finish == "stop" and done.thinking_tokens == 3
    # The numbers inside the block (2, 2, 5, 4) are never read as the answer.
    assert done.text[done.answer_from:] == f"\n\n{CUE} 4"
    assert record(done, "math").answer == "4"


def test_a_close_before_the_minimum_becomes_wait_and_the_tag_is_cut() -> None:
    tracker = SampleTracker(request(max_tokens=20, min_tokens=4), think_open=True)
    tracker.feed(" 1")
    tracker.feed("</think>")
    assert tracker.retract_to == len(" 1") and tracker.take_injected() == "\nWait"
    assert "</think>" not in tracker.text and tracker.block is not None
    assert tracker.block.waits == 1 and tracker.finish is None
    tracker.retract_to = None
    for piece in (" 2", " 3", "</think>"):
        tracker.feed(piece)
    assert tracker.block.closed_by == "model"  # past the minimum, the close stands


def test_an_end_inside_the_block_is_wait_before_the_minimum_and_a_close_after() -> None:
    tracker = SampleTracker(request(max_tokens=20, min_tokens=2), think_open=True)
    tracker.feed(" a")
    assert tracker.end_of_generation() is False and tracker.take_injected() == "\nWait"
    tracker.feed(" b")
    assert tracker.end_of_generation() is False  # never an empty answer: it is closed for it
    assert tracker.take_injected().endswith(f"</think>\n\n{CUE}")
    tracker.feed(" 9")
    assert tracker.end_of_generation() is True
    done = tracker.completion(0, 0)
    assert done.closed == "forced" and record(done, "math").answer == "9"


def test_a_model_that_answers_without_a_block_is_a_plain_sample() -> None:
    tracker = SampleTracker(request(max_tokens=3))
    injected = feed_all(tracker, [" 5", " so", " 5", " 5", "\n"])
    assert injected[2] == f"\n{CUE}"  # ordinary budget forcing
    done = tracker.completion(0, 0)
    assert done.thinking_tokens is None and done.closed is None


def test_the_scripted_engine_runs_reasoning_samples_to_an_answer() -> None:
    engine = ScriptedEngine(["<think> 1 2 3 4 5 6 7 8 Final answer: 3", "<think> ok </think> 5"])
    result = engine.sample(SampleRequest(prompt="q", n=2, max_tokens=4, answer_cue=CUE,
                                         answer_tokens=4, reasoning=Reasoning()))
    forced, closed = result.completions
    assert forced.closed == "forced" and record(forced, "math").answer == "3"
    assert closed.closed == "model" and STOP_MESSAGE not in closed.text


def test_a_model_that_never_opens_its_block_is_still_forced_at_the_cap() -> None:
    # Whitespace could still be the start of "<think>": the cap holds all the same.
    tracker = SampleTracker(request(max_tokens=3))
    injected = feed_all(tracker, [" ", "\n", " ", " 6", "\n"])
    assert injected[2] == f"\n{CUE}"
    done = tracker.completion(0, 0)
    assert done.finish == "budget-forced" and done.thinking_tokens is None
    assert record(done, "math").answer == "6"


def test_a_reasoning_model_without_a_card_is_not_sampled_greedily() -> None:
    from think.engine.rules import PLAIN, ModelRules

    known_by_template = ModelRules(reasoning=Reasoning())  # no sampling from models.yaml
    assert known_by_template.sampling(0.0, 40, 0.9).temperature == 0.6
    assert known_by_template.sampling(0.8, 40, 0.9).temperature == 0.8  # a vote's own stays
    assert PLAIN.sampling(0.0, 40, 0.9).temperature == 0.0  # plain models: greedy as planned
