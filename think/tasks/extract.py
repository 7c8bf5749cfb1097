"""Answer extraction and normalisation per task kind, so equal answers vote together."""

from __future__ import annotations

import re
from fractions import Fraction

TASKS = ("math", "choice", "code", "text")
FINAL_CUE = "Final answer:"

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+"
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", re.S)
_CHOICE_OPTIONS = re.compile(r"(?m)^\s*\(?([A-E])[).:]\s+\S")
_CODE_HINTS = re.compile(r"```|\bdef \w+\(|\bimplement\b|\bfunction\b.*\breturns?\b"
                         r"|\bwrite (?:a|the) (?:python )?(?:function|program|script)", re.I)
_MATH_HINTS = re.compile(r"\d|\bhow (?:many|much)\b|\bcalculate\b|\bsolve\b|\bsum\b|[+*/=^]", re.I)


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


def normalize_number(raw: str) -> str | None:
    """Canonical form of a number: 1,000 / 1000.0 / $1000 -> 1000; 0.5 and 1/2 -> 0.5."""
    cleaned = raw.replace(",", "").replace(" ", "")
    try:
        if "/" in cleaned:
            top, bottom = cleaned.split("/")
            value = Fraction(top) / Fraction(bottom)
        else:
            value = Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        return None
    if value.denominator == 1:
        return str(value.numerator)
    decimal = float(value)
    # Terminating decimals print as decimals; others keep an exact fraction.
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return f"{decimal:.10g}" if denominator == 1 else f"{value.numerator}/{value.denominator}"


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
    """The normalised answer of a completion for a task kind, or None when there is none."""
    return EXTRACTORS[task](text)
