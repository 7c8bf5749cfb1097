"""Gold answers from data files, normalised as the model's answers are, for grading."""

from __future__ import annotations

from think.tasks.extract import extract


def gold_answer(raw: object, task: str = "math") -> str | None:
    """The normalised gold answer: GSM8K's text after '####', else the whole field."""
    text = str(raw) if raw is not None else ""
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    return extract(task, f"Final answer: {text.strip()}")
