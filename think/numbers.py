"""Numbers as a person types them on the command line, read whole and in ASCII digits only.

Python's int() and float() take more than a person means: `1_0` is 10, and digits of other
scripts (Arabic-Indic, full-width) count, so a typo can pass for a number. These readers take
an optional sign, digits and (for decimals) a point and an exponent, nothing else, with
spaces around allowed; anything else is None, for the caller to refuse in its own words.
"""

from __future__ import annotations

import math
import re

WHOLE = re.compile(r"[+]?[0-9]+")
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
MAX_DIGITS = 100  # far past any option's range; keeps a pasted megabyte from being parsed


def whole_number(text: str) -> int | None:
    """`text` as a whole number when all of it is one (`8`, ` 08 `, `+8`), else None."""
    text = text.strip(" \t\r\n")
    if len(text) > MAX_DIGITS or not WHOLE.fullmatch(text):
        return None
    return int(text)


def decimal_number(text: str) -> float | None:
    """`text` as a finite number when all of it is one (`0.7`, `.5`, `1e-3`), else None."""
    text = text.strip(" \t\r\n")
    if len(text) > MAX_DIGITS or not DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def shown(text: str) -> str:
    """A value as an error message quotes it: as typed, with what a terminal cannot show
    (NUL, escape, a line break) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
