"""Standard-library value types that cross the wire as their parts (Counter, OrderedDict,
defaultdict, deque, Fraction, Decimal, complex, namedtuples): the judge builds its own
object of the type from plain data, so its comparisons are the standard library's, never
code the candidate wrote. Types are recognised only once their module is loaded, so no run
pays for importing them. Standard library only.
"""

from __future__ import annotations

import sys

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BY_NAME = {("collections", "Counter"): "C", ("collections", "OrderedDict"): "O",
           ("collections", "defaultdict"): "D", ("collections", "deque"): "q",
           ("fractions", "Fraction"): "F", ("decimal", "Decimal"): "M",
           ("builtins", "complex"): "j"}
# A defaultdict's factory crosses by name, and only as one of these.
FACTORIES = {kind.__name__: kind for kind in (int, float, str, bytes, list, tuple, dict, set,
                                               frozenset, bool)}
_namedtuples: dict[tuple[str, ...], type] = {}


def tag_of(value: Any) -> str | None:
    """The wire tag of a value of one of these exact types, if it is one."""
    kind = type(value)
    key = (kind.__module__, kind.__name__)
    if key in BY_NAME and getattr(sys.modules.get(key[0]), key[1], None) is kind:
        return BY_NAME[key]
    fields = getattr(kind, "_fields", None)
    if kind.__bases__ == (tuple,) and type(fields) is tuple:
        return "N"
    return None


def parts(tag: str, value: Any) -> list[Any]:
    """The plain values a typed value is made of."""
    if tag in "COD":
        pairs = [x for pair in dict.items(value) for x in pair]
        if tag == "D":
            factory = value.default_factory
            return [factory.__name__ if FACTORIES.get(getattr(factory, "__name__", ""))
                    is factory else None, *pairs]
        return pairs
    if tag == "q":
        return [value.maxlen, *value]
    if tag == "F":
        return [value.numerator, value.denominator]
    if tag == "M":
        return [str(value)]
    if tag == "j":
        return [value.real, value.imag]
    return [type(value).__name__, *map(str, type(value)._fields), *tuple.__iter__(value)]


def build(tag: str, items: list[Any]) -> Any:
    """The judge's own object for a typed value's parts; ValueError or TypeError if bad."""
    if tag in "COD":
        import collections

        factory = FACTORIES.get(items.pop(0)) if tag == "D" and items else None
        if len(items) % 2:
            raise ValueError("an odd number of mapping parts")
        pairs = zip(items[::2], items[1::2], strict=True)
        if tag == "C":
            counter: collections.Counter[Any] = collections.Counter()
            dict.update(counter, pairs)  # as they were: Counter's own update would add
            return counter
        return collections.OrderedDict(pairs) if tag == "O" else collections.defaultdict(
            factory, pairs)
    if tag == "q":
        import collections

        if not items or not (items[0] is None or type(items[0]) is int):
            raise ValueError("a deque's maxlen")
        return collections.deque(items[1:], items[0])
    if tag == "F":
        import fractions

        if len(items) != 2 or not all(type(x) is int for x in items):
            raise ValueError("a fraction's parts")
        return fractions.Fraction(*items)
    if tag == "M":
        import decimal

        if len(items) != 1 or type(items[0]) is not str:
            raise ValueError("a decimal's digits")
        return decimal.Decimal(items[0])
    if tag == "j":
        if len(items) != 2 or not all(type(x) is float for x in items):
            raise ValueError("a complex number's parts")
        return complex(*items)
    return namedtuple_of(items)


def namedtuple_of(items: list[Any]) -> tuple[Any, ...]:
    """A namedtuple of a class the judge makes (one per name and fields)."""
    if not items or len(items) % 2 == 0 or not all(type(x) is str for x in items[:len(
            items) // 2 + 1]):
        raise ValueError("a namedtuple's parts")
    count = len(items) // 2
    key = tuple(items[:count + 1])
    if key not in _namedtuples:
        import collections

        _namedtuples[key] = collections.namedtuple(key[0], key[1:])  # type: ignore[misc]
    return _namedtuples[key](*items[count + 1:])
