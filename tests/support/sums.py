"""A scripted model that answers "What is N?" questions right, for batch tests that check
each record carries its own question's answer."""

from __future__ import annotations

from think.engine.base import SampleRequest


def answer_the_sum(request: SampleRequest, index: int) -> str:
    """The completion of a question that ends "What is 2+3?": its sum as the final answer."""
    question = request.prompt.rsplit("What is ", 1)[1].split("?")[0]
    return f" so.\nFinal answer: {eval(question)}"  # noqa: S307 - the tests' own arithmetic
