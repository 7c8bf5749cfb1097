"""Answer extraction: equal answers normalise to one string per task kind."""

from __future__ import annotations

import pytest

from think.tasks.extract import detect_task, extract


@pytest.mark.parametrize("text", ["Final answer: 1,000", "so 1000.0 in all\nFinal answer: 1000.0",
                                  "Final answer: $1000", "It costs 1000 dollars.",
                                  "\\boxed{1000}", "Final answer: 1000 apples."])
def test_math_forms_of_one_number_vote_together(text: str) -> None:
    assert extract("math", text) == "1000"


def test_math_fractions_decimals_and_negatives() -> None:
    assert extract("math", "Final answer: 1/2") == extract("math", "Final answer: 0.5") == "0.5"
    assert extract("math", "Final answer: 2/3") == "2/3"
    assert extract("math", "Final answer: -4") == "-4"
    assert extract("math", "\\boxed{\\frac{3}{4}}") == "4"  # last number inside the box
    assert extract("math", "no numbers here") is None


def test_math_prefers_the_number_after_the_cue() -> None:
    assert extract("math", "5 + 3 = 8, minus 2\nFinal answer: 6 apples (not 8)") == "6"


def test_choice_code_and_text() -> None:
    assert extract("choice", "Whales are mammals.\nFinal answer: (B)") == "B"
    assert extract("choice", "Final answer: C") == "C"
    code = "Reasoning.\nFinal answer:\n```python\ndef add(a, b):  \n    return a + b\n```"
    assert extract("code", code) == "def add(a, b):\n    return a + b"
    assert extract("text", "Final answer: Paris!") == extract("text", "Final answer:  paris") \
        == "paris"


@pytest.mark.parametrize("question, task", [
    ("What is 17 * 3?", "math"),
    ("Which is largest?\n(A) 1\n(B) 2\n(C) 3", "choice"),
    ("Write a Python function that reverses a string.", "code"),
    ("Who wrote Hamlet?", "text"),
])
def test_task_detection(question: str, task: str) -> None:
    assert detect_task(question) == task
