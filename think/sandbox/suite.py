"""Inside the judge: a test file run as its author wrote it. A script of asserts passes when
it runs to its end. A file of tests (unittest TestCase classes, pytest-style test_*
functions and Test* classes) passes when every test in it passes and at least one ran:
a file whose tests all skip, need fixtures the sandbox lacks or are missing fails.
`unittest.main()` runs the tests defined above it, where it stands, whatever its argv or
exit= say. Only what the test file itself defines is collected: the candidate's names are
proxies, never tests. Standard library only.
"""

from __future__ import annotations

import sys
import types

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

__unittest = True  # unittest leaves this module's frames out of failure tracebacks
FILENAME = "tests.py"
SHOWN = 5  # failures printed in full; the rest are counted


class Failed(Exception):
    """The tests failed, or none ran; what failed is printed already."""


def defined_here(value: Any) -> bool:
    """A function or class the test file defines (never a proxy for the candidate's)."""
    if type(value) is types.FunctionType:
        return value.__code__.co_filename == FILENAME
    return isinstance(value, type) and value.__module__ == "__main__"


def required(function: Any) -> list[str]:
    """The parameters a call must fill (a method's self left out)."""
    code = function.__code__
    names = list(code.co_varnames[:code.co_argcount])
    names = names[:len(names) - len(function.__defaults__ or ())]
    kwonly = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    return names + [n for n in kwonly if n not in (function.__kwdefaults__ or {})]


class Run:
    """One test file's run: what it collected, ran and failed."""

    def __init__(self, source: str, module: types.ModuleType) -> None:
        self.source, self.module = source, module
        self.done: set[str] = set()
        self.styled = False  # a file of tests, not a script
        self.lacking: list[str] = []  # tests that need fixtures the sandbox lacks
        self.result: Any = None

    def main(self, *args: Any, exit: bool = True, **kwargs: Any) -> Any:
        """unittest.main() in the test file: the tests so far run now."""
        self.styled = True
        self.run_pending()
        if exit:
            raise SystemExit(0 if self.result.wasSuccessful() else 1)
        return types.SimpleNamespace(result=self.result)

    def run_pending(self) -> None:
        import unittest

        from failure import formatted, remember

        if self.result is None:
            source = self.source

            class Tally(unittest.TestResult):
                def _exc_info_to_string(self, err: Any, test: Any) -> str:
                    remember(source, FILENAME)
                    return formatted(err[1])
            self.result = Tally()
        suite = unittest.TestSuite(case for case in self.collect() if case.id() not in
                                   self.done)
        self.done |= {case.id() for case in suite}
        suite.run(self.result)

    def collect(self) -> Iterator[Any]:
        import unittest

        for name, value in list(vars(self.module).items()):
            if not defined_here(value):
                continue
            if isinstance(value, type) and issubclass(value, unittest.TestCase):
                self.styled = True
                yield from unittest.defaultTestLoader.loadTestsFromTestCase(value)
            elif isinstance(value, type) and name.startswith("Test") and "__init__" not in \
                    vars(value):
                self.styled = True
                for method, function in list(vars(value).items()):
                    if method.startswith("test") and type(function) is types.FunctionType:
                        yield from self.cases(f"{name}.{method}", function, value)
            elif name.startswith("test") and type(value) is types.FunctionType:
                if required(value) and self.source.count(f"{name}(") > 1 and not hasattr(
                        value, "_pytest_parametrize"):
                    continue  # a helper the script calls itself, with its arguments
                self.styled = True
                yield from self.cases(name, value, None)

    def cases(self, name: str, function: Any, owner: type | None) -> Iterator[Any]:
        """One unittest case per parameter set of a pytest-style test."""
        import itertools
        import unittest

        from pytest_style import FIXTURES, param

        marks = [*getattr(owner, "_pytest_skip", []), *getattr(function, "_pytest_skip", [])]
        grids = [[dict(zip(names, v.values if isinstance(v, param) else
                           (v,) if len(names) == 1 else v, strict=True)) for v in values]
                 for names, values in reversed(getattr(function, "_pytest_parametrize", []))]
        for number, combination in enumerate(itertools.product(*grids)):
            given = {key: value for part in combination for key, value in part.items()}
            needed = [n for n in required(function)[1 if owner else 0:] if n not in given]
            if missing := [n for n in needed if n not in FIXTURES]:
                self.lacking.append(f"{name} needs the fixture {', '.join(missing)}, "
                                    "which the sandbox does not have")
                continue
            call = self.caller(function, owner, given, needed, marks)
            call.__name__ = call.__qualname__ = f"{name}[{number}]" if grids else name
            yield unittest.FunctionTestCase(call)

    def caller(self, function: Any, owner: type | None, given: dict[str, Any],
               needed: list[str], marks: list[str]) -> Callable[[], None]:
        import unittest

        from pytest_style import FIXTURES

        def call() -> None:
            if marks:
                raise unittest.SkipTest(marks[0])
            finish: list[Any] = []
            try:
                arguments = {**given, **{n: fixture_value(FIXTURES, n, finish) for n in
                                         needed}}
                if owner is None:
                    ended(function(**arguments))
                else:
                    instance = owner()
                    getattr(instance, "setup_method", lambda method: None)(function)
                    try:
                        ended(function(instance, **arguments))
                    finally:
                        getattr(instance, "teardown_method", lambda method: None)(function)
            except Exception:
                if getattr(function, "_pytest_xfail", None):
                    raise unittest.SkipTest("an expected failure") from None
                raise
            finally:
                for generator in reversed(finish):
                    next(generator, None)
        return call

    def looks_tested(self) -> bool:
        """Whether the file defines anything that may be a test (checked without unittest)."""
        unittest = sys.modules.get("unittest")
        return any(defined_here(value) and (name.lower().startswith("test") or (
            unittest is not None and isinstance(value, type)
            and issubclass(value, unittest.TestCase))) for name, value in vars(
                self.module).items())

    def verdict(self) -> None:
        """Raise Failed unless the tests passed (a script: it ran to its end)."""
        if self.result is None and not self.looks_tested():
            return  # a script of asserts, the common case: no unittest to import
        self.run_pending()
        if not self.styled and not self.lacking:
            return  # only helpers named test..., which the script called itself
        result = self.result
        broken = [*result.errors, *result.failures]
        broken += [(test, "an unexpected success\n") for test in result.unexpectedSuccesses]
        for test, text in broken[:SHOWN]:
            print(f"FAIL: {test.id().removeprefix('__main__.')}\n{text}", file=sys.stderr)
        if broken:
            raise Failed(f"{len(broken)} of {result.testsRun} tests failed")
        if result.testsRun - len(result.skipped) == 0:
            why = "; ".join(self.lacking[:3]) or (f"{len(result.skipped)} skipped" if
                                                  result.skipped else "none collected")
            raise Failed(f"no tests ran ({why})")


def ended(returned: Any) -> None:
    """A test that returned a generator or coroutine ran none of its asserts: as pytest,
    a yield test is an error and an async one is skipped (it needs a plugin)."""
    if isinstance(returned, types.GeneratorType):
        raise TypeError("yield tests are not supported: the test's asserts never ran")
    if isinstance(returned, types.CoroutineType):
        import unittest

        returned.close()
        raise unittest.SkipTest("async tests need a plugin")


def fixture_value(fixtures: dict[str, Any], name: str, finish: list[Any],
                  depth: int = 0) -> Any:
    """A fixture's value for one test (its own fixtures first); a generator's teardown
    runs after the test."""
    if depth > 20:
        raise RecursionError(f"fixture {name} depends on itself")
    function = fixtures[name]
    value = function(**{n: fixture_value(fixtures, n, finish, depth + 1)
                        for n in required(function)})
    if isinstance(value, types.GeneratorType):
        finish.append(value)
        return next(value)
    return value


def run_file(source: str, module: types.ModuleType) -> None:
    """Run the test file as `module` (the tests' __main__); raise what failed."""
    run = Run(source, module)
    if "unittest" in source:
        import unittest

        program = sys.modules["unittest.main"]
        for owner in (unittest, program):
            owner.main = owner.TestProgram = run.main  # type: ignore[attr-defined]
    if "pytest" in source:
        import pytest_style

        sys.modules["pytest"] = pytest_style
    code = compile(source, FILENAME, "exec")
    try:
        exec(code, vars(module))
    except SystemExit as stop:  # the tests' own exit, or unittest.main()'s
        if stop.code not in (None, 0, False) and run.result is None:
            raise
    run.verdict()
