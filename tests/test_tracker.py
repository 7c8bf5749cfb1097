"""Per-sample stopping shared by all engines: stop strings, answer cue, budget forcing."""

from __future__ import annotations

from think.engine.base import SampleRequest
from think.engine.scripted import split_tokens
from think.engine.tracker import SampleTracker


def feed_all(request: SampleRequest, text: str) -> SampleTracker:
    tracker = SampleTracker(request)
    for piece in split_tokens(text):
        if tracker.finish:
            break
        tracker.feed(piece)
    if tracker.finish is None:
        tracker.end_of_generation()
    return tracker


COT = dict(answer_cue="Final answer:", answer_tokens=5, stop=("\nQuestion:",))


def test_a_sample_that_answers_stops_at_the_end_of_the_answer_line() -> None:
    tracker = feed_all(SampleRequest("p", max_tokens=50, **COT),
                       " 2 + 2 = 4.\nFinal answer: 4\nQuestion: next one")
    assert tracker.text == " 2 + 2 = 4.\nFinal answer: 4" and tracker.finish == "stop"


def test_budget_forcing_appends_the_cue_at_the_cap() -> None:
    tracker = feed_all(SampleRequest("p", max_tokens=3, **COT), " one two three four five six")
    assert tracker.forced and tracker.finish == "budget-forced"
    assert tracker.thinking_tokens == 3
    assert tracker.text.startswith(" one two three\nFinal answer:")
    assert tracker.answer_tokens_used <= 5


def test_stop_string_cuts_the_text() -> None:
    tracker = feed_all(SampleRequest("p", max_tokens=50, **COT), " thinking\nQuestion: more")
    assert tracker.text == " thinking" and tracker.finish == "stop"


def test_without_a_cue_the_cap_is_a_length_stop() -> None:
    tracker = feed_all(SampleRequest("p", max_tokens=2), " a b c d")
    assert tracker.finish == "length" and tracker.generated == 2


def test_direct_answer_is_one_line() -> None:
    request = SampleRequest("p", max_tokens=10, answer_cue="", answer_tokens=10)
    tracker = feed_all(request, " 42\nQuestion: what")
    assert tracker.text == " 42" and tracker.finish == "stop"


def test_code_answers_end_at_the_closing_fence() -> None:
    request = SampleRequest("p", max_tokens=50, answer_cue="Final answer:", answer_tokens=40,
                            answer_end="\n```")
    text = " easy\nFinal answer:\n```python\ndef f():\n    return 1\n```\nmore words"
    tracker = feed_all(request, text)
    assert tracker.text.endswith("return 1") and tracker.finish == "stop"
