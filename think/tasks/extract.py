"""Answer extraction and normalisation per task kind, so equal answers vote together."""

from __future__ import annotations

import re

from think.tasks.numbers import normalize_number

TASKS = ("math", "choice", "code", "text")
FINAL_CUE = "Final answer:"

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+"
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", re.S)
_CHOICE_OPTIONS = re.compile(r"(?m)^\s*\(?([A-E])[).:]\s+\S")
_CODE_HINTS = re.compile(r"```|\bdef \w+\(|\bimplement\b|\bfunction\b.*\breturns?\b"
                         r"|\bwrite (?:a|the) (?:python )?(?:function|program|script)", re.I)
_MATH_HINTS = re.compile(r"\d|\bhow (?:many|much)\b|\bcalculate\b|\bsolve\b|\bsum\b|[+*/=^]", re.I)
# A completion's answer is at its end: only its last MOST_TEXT characters are read, so the
# work stays bounded whatever a model or a server sends (about 64k tokens of prose).
MOST_TEXT = 256 * 1024
# What reading odd model text may raise; such a sample has no answer, and the vote goes on.
READ_ERRORS = (ValueError, ArithmeticError, RecursionError, MemoryError)


def detect_task(question: str) -> str:
    """Pick a task kind from the question text: choice, code, math, else text."""
    if len(set(_CHOICE_OPTIONS.findall(question))) >= 2:
        return "choice"
    if _CODE_HINTS.search(question):
        return "code"
    if _MATH_HINTS.search(question):
        return "math"
    return "text"


def final_part(text: str) -> str:
    """The text after the last final-answer cue, or all of it when there is none."""
    index = text.rfind(FINAL_CUE)
    return text[index + len(FINAL_CUE):] if index >= 0 else text


def extract_math(text: str) -> str | None:
    """A boxed answer, else the first number after the final cue, else the last number."""
    boxed = _BOXED.findall(text)
    if boxed:
        numbers = re.findall(_NUMBER, boxed[-1])
        return normalize_number(numbers[-1]) if numbers else normalize_text(boxed[-1])
    if FINAL_CUE in text:
        numbers = re.findall(_NUMBER, final_part(text))
        if numbers:
            return normalize_number(numbers[0])
    numbers = re.findall(_NUMBER, text)
    return normalize_number(numbers[-1]) if numbers else None


def extract_choice(text: str) -> str | None:
    """A letter A-E, preferring the one after the final cue."""
    for part in (final_part(text), text):
        match = re.search(r"(?<![A-Za-z])\(?([A-E])\)?(?![A-Za-z])", part)
        if match:
            return match.group(1)
    return None


def extract_code(text: str) -> str | None:
    """The last fenced code block, or the text from the first `def` or `import` line."""
    blocks = [block for block in _FENCE.findall(text) if block.strip()]
    if blocks:
        code = blocks[-1]
    else:
        match = re.search(r"(?m)^(?:def |import |from |class )", text)
        if not match:
            return None
        code = text[match.start():]
    lines = [line.rstrip() for line in code.strip("\n").splitlines()]
    return "\n".join(lines).strip("\n") or None


def extract_program(text: str) -> str | None:
    """A program-aided sample's code (strategies/program): its last fenced block, else the
    text itself (a base model continues `Python:` with one line)."""
    if "```" in text:
        return extract_code(text)
    return text.strip() or None


def normalize_text(text: str) -> str | None:
    """Lowercase, punctuation and extra spaces removed; None when nothing is left."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    return " ".join(words) or None


def extract_text(text: str) -> str | None:
    """The first line after the final cue (or of the text), normalised."""
    part = final_part(text).strip()
    return normalize_text(part.splitlines()[0]) if part else None


# "program" is no kind of question: it reads the code of a program-aided sample, whose answer
# is what the code computes (strategies/program).
EXTRACTORS = {"math": extract_math, "choice": extract_choice, "code": extract_code,
              "text": extract_text, "program": extract_program}


def extract(task: str, text: str) -> str | None:
    """The normalised answer of a completion for a task kind, or None when there is none
    (or none that can be read: one bad sample is no answer, never a lost solve)."""
    try:
        return EXTRACTORS[task](text[-MOST_TEXT:])
    except READ_ERRORS:
        return None
