"""Reading a stored run back as plain data, whatever a damaged or hand-edited history holds.

SQLite keeps any value in any column: a row written by another tool may hold bytes, a number
where text belongs, or JSON that does not parse. Each column comes back as the type
`think logs` expects (text, a number, parsed JSON of its shape) or None, never an error.
"""

from __future__ import annotations

import json
from typing import Any

# The JSON columns and the shape each holds; anything else read there is None.
JSON_SHAPES: dict[str, type] = {"plan": dict, "votes": dict, "samples": list, "result": dict}
NUMBERS = ("prompt_tokens", "generated_tokens", "units_used", "seconds")
SQLITE_INT = 2 ** 63  # an INTEGER is 64-bit signed: a larger id or limit cannot bind


def text_of(value: Any) -> str | None:
    """A text column's value as text: bytes decoded (bad bytes shown as U+FFFD)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def json_of(value: Any, shape: type) -> Any:
    """A JSON column's value parsed, when it parses to its shape; else None."""
    text = text_of(value)
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, shape):
        return None
    if shape is list:  # samples: one mapping each
        return [item for item in parsed if isinstance(item, dict)]
    return parsed


def number_of(value: Any) -> int | float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return value if is_number else None


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A stored run's columns as `think logs` shows them."""
    data: dict[str, Any] = {}
    for name, value in row.items():
        if name in JSON_SHAPES:
            data[name] = json_of(value, JSON_SHAPES[name])
        elif name in NUMBERS or name == "id":
            data[name] = number_of(value)
        else:
            data[name] = text_of(value)
    return data


def bindable(number: int) -> bool:
    """Whether an id or a count fits SQLite's INTEGER (a larger one is an OverflowError)."""
    return -SQLITE_INT <= number < SQLITE_INT
