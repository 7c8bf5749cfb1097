"""Numbers read from model text, in the canonical form a vote compares, with bounded work.

A model (or the value its program prints) can write anything: `1e-1000000` parsed as an
exact fraction builds a million-digit integer, and stripping its factors of 2 and 5 then
takes hours; `1e5000` overflows str() and `1e400/3` overflows float(). So a number is read
by a strict grammar of our own, its size is checked before any big integer is built, and a
number larger than MOST_DIGITS digits either side of the point is no answer.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal
from fractions import Fraction

# Far past any answer a vote compares, and under Python's own 4300-digit limit on str(int).
MOST_DIGITS = 4000
MOST_BITS = 13_288  # MOST_DIGITS * log2(10), rounded up: the same bound on an integer's bits
# Commas and spaces (1,000,000) take room too; anything longer is not one number.
MOST_CHARACTERS = 2 * MOST_DIGITS
_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?")
# Ten significant digits, as float's .10g gives, for values float cannot hold.
_TEN_DIGITS = Context(prec=10, Emax=10 * MOST_DIGITS, Emin=-10 * MOST_DIGITS)


def parse_decimal(text: str) -> Fraction | None:
    """The exact value of `12`, `-0.5`, `.5`, `3.`, `1e3`; None for anything else or a
    value with more than MOST_DIGITS digits before or after the point."""
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    sign, whole, part, exponent = match.groups()
    part = part or ""
    if not whole and not part:
        return None
    digits = (whole + part).lstrip("0")
    if not digits:
        return Fraction(0)
    scale = int(exponent or 0) - len(part)  # the value is digits * 10**scale
    if len(digits) > MOST_DIGITS or abs(scale) > MOST_DIGITS \
            or len(digits) + scale > MOST_DIGITS:
        return None
    value = Fraction(int(digits)) * Fraction(10) ** scale
    return -value if sign == "-" else value


def parse_number(raw: str) -> Fraction | None:
    """The exact value of a decimal or of a fraction of two (`3/4`, `1,000`), or None."""
    if len(raw) > MOST_CHARACTERS:
        return None
    cleaned = raw.replace(",", "").replace(" ", "").strip()
    if cleaned.count("/") > 1:
        return None
    top, slash, bottom = cleaned.partition("/")
    value = parse_decimal(top)
    if value is None or not slash:
        return value
    divisor = parse_decimal(bottom)
    if divisor is None or divisor == 0:
        return None
    value /= divisor
    if max(abs(value.numerator), value.denominator).bit_length() > MOST_BITS:
        return None
    return value


def normalize_number(raw: str) -> str | None:
    """Canonical form of a number: 1,000 / 1000.0 / $1000 -> 1000; 0.5 and 1/2 -> 0.5."""
    value = parse_number(raw)
    if value is None:
        return None
    if value.denominator == 1:
        return str(value.numerator)
    # A terminating decimal (its denominator divides a power of ten, at most its bit length)
    # prints as a decimal; another keeps an exact fraction.
    if pow(10, value.denominator.bit_length(), value.denominator) != 0:
        return f"{value.numerator}/{value.denominator}"
    if Fraction(1, 10**300) < abs(value) < 10**300:
        return f"{float(value):.10g}"
    rounded = _TEN_DIGITS.divide(Decimal(value.numerator), Decimal(value.denominator))
    return format(rounded.normalize(_TEN_DIGITS), "g")  # 1e+400, as float's .10g writes
