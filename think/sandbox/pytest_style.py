"""Inside the judge: the part of pytest's API that test files use (raises, approx, param,
mark.parametrize, mark.skip, mark.skipif, mark.xfail, skip, fail, fixture), importable as
`pytest` there, because the sandbox has no third-party packages. suite.py collects and
runs the tests; this only records what the marks ask. Standard library only.
"""

from __future__ import annotations

import builtins
import math
import unittest

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__unittest = True  # unittest leaves this module's frames out of failure tracebacks

FIXTURES: dict[str, Callable[..., Any]] = {}


def fixture(function: Any = None, **options: Any) -> Any:
    """A function fixture of the test file, found by its name (scope is always a test)."""
    if function is None:
        return lambda inner: fixture(inner, **options)
    FIXTURES[options.get("name") or function.__name__] = function
    return function


def skip(reason: str = "") -> None:
    raise unittest.SkipTest(reason)


def fail(reason: str = "", pytrace: bool = True) -> None:
    raise AssertionError(reason)


def importorskip(name: str, *args: Any, **kwargs: Any) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise unittest.SkipTest(f"could not import {name!r}") from None


class ExceptionInfo:
    """What `raises` caught."""

    type: Any = None
    value: Any = None

    def match(self, pattern: str) -> bool:
        import re

        if not re.search(pattern, str(self.value)):
            raise AssertionError(f"Regex pattern did not match.\n Regex: {pattern!r}\n"
                                 f" Input: {str(self.value)!r}")
        return True


class Raises:
    def __init__(self, expected: Any, match: str | None) -> None:
        self.expected, self.pattern, self.info = expected, match, ExceptionInfo()

    def __enter__(self) -> ExceptionInfo:
        return self.info

    def __exit__(self, kind: Any, value: Any, tb: Any) -> bool:
        if kind is None:
            raise AssertionError(f"DID NOT RAISE {self.expected}")
        if not issubclass(kind, self.expected):
            return False
        self.info.type, self.info.value = kind, value
        if self.pattern is not None:
            self.info.match(self.pattern)
        return True


def raises(expected: Any, *args: Any, match: str | None = None, **kwargs: Any) -> Any:
    """A context that expects `expected` raised, or the call of args[0] that must raise it."""
    context = Raises(expected, match)
    if not args:
        return context
    with context:
        args[0](*args[1:], **kwargs)
    return context.info


class approx:  # noqa: N801 - pytest's own name for it
    """Equal to numbers (or lists, tuples, dicts of them) within a tolerance."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, expected: Any, rel: float | None = None, abs: float | None = None,
                 nan_ok: bool = False) -> None:
        self.expected, self.nan_ok = expected, nan_ok
        self.rel = 1e-6 if rel is None and abs is None else (rel or 0.0)
        self.abs = 1e-12 if abs is None else abs

    def close(self, got: Any, want: Any) -> bool:
        if type(want) in (list, tuple):
            return type(got) in (list, tuple) and len(got) == len(want) and all(
                self.close(g, w) for g, w in zip(got, want, strict=True))
        if type(want) is dict:
            return type(got) is dict and got.keys() == want.keys() and all(
                self.close(got[key], want[key]) for key in want)
        if type(want) not in (int, float, complex) or type(got) not in (int, float, complex):
            return bool(got == want)
        if got == want:
            return True
        if self.nan_ok and math.isnan(abs(got)) and math.isnan(abs(want)):
            return True
        return builtins.abs(got - want) <= max(self.rel * builtins.abs(want), self.abs)

    def __eq__(self, other: object) -> bool:
        return self.close(other, self.expected)

    def __ne__(self, other: object) -> bool:
        return not self.close(other, self.expected)

    def __repr__(self) -> str:
        return f"approx({self.expected!r})"


class param:  # noqa: N801 - pytest's own name for it
    """One parameter set of a parametrize, with its marks."""

    def __init__(self, *values: Any, marks: Any = (), id: str | None = None) -> None:
        self.values, self.id = values, id
        self.marks = marks if isinstance(marks, (list, tuple)) else (marks,)


def marked(key: str, value: Any) -> Callable[[Any], Any]:
    """A decorator that records a mark on a test (function or class)."""
    def mark(target: Any) -> Any:
        setattr(target, key, [*getattr(target, key, []), value])
        return target
    return mark


class Marks:
    """pytest.mark: the marks that change what runs; any other name is a no-op mark."""

    def parametrize(self, names: Any, values: Any, ids: Any = None, **_: Any) -> Any:
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(
            names)
        return marked("_pytest_parametrize", (names, list(values)))

    def skip(self, reason: Any = "", **_: Any) -> Any:
        if callable(reason):  # used bare: @pytest.mark.skip
            return marked("_pytest_skip", "skipped")(reason)
        return marked("_pytest_skip", reason or "skipped")

    def skipif(self, condition: Any, reason: str = "", **_: Any) -> Any:
        return marked("_pytest_skip", reason or "skipped") if condition else marked(
            "_pytest_other", None)

    def xfail(self, *args: Any, **kwargs: Any) -> Any:
        if args and callable(args[0]):
            return marked("_pytest_xfail", True)(args[0])
        return marked("_pytest_xfail", True)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: args[0] if len(args) == 1 and callable(args[0]) \
            else marked("_pytest_other", name)


mark = Marks()
