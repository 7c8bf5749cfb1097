"""The tests' side of a test run, in a sandbox of its own: the tests run here as the main
program, and `candidate` is a module of proxies for the candidate's names, which run in the
worker's sandbox. Values come back as plain data (an object that says it equals anything
stays a proxy, and a proxy equals only itself), so the comparisons are the tests' own.

Of the names the candidate's module defines, the tests see only public identifiers that are
not built-ins: their __name__, __file__ and __builtins__ are the judge's, and so are abs,
len, isinstance, AssertionError..., whatever the candidate (or a message it forged) says.
A test file runs as its author wrote it (suite.py: asserts, unittest or pytest style).

After the last test the judge copies the run's token from TOKEN_FD to RESULT_FD; think
counts a pass only when it reads that token there. The candidate has no way to either
descriptor: it runs in another process, in other namespaces. Standard library only.

Like the worker it starts as a spare and reads the tests from SOURCE_FD when the run begins.

Usage: python -I -S judge.py SOURCE_FD TOKEN_FD RESULT_FD READ_FD WRITE_FD
"""

from __future__ import annotations

import builtins
import os
import sys
import types

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run_start import close_others, read_run  # noqa: E402  (not a package)
from wire import Channel, TooLarge, WireError, decode, encode  # noqa: E402

# Exceptions the candidate raises arrive as built-in types so `except ValueError` works;
# these would end the tests themselves, so they arrive as CandidateError instead.
NOT_RAISED_AS_IS = {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "StopAsyncIteration"}


NOT_PLAIN = "the candidate returned an object that is not plain data"
# Names the tests never take from the candidate: their meaning is the judge's.
BUILTIN_NAMES = frozenset(dir(builtins))


class CandidateError(Exception):
    """The candidate program failed in a way the tests cannot catch by type."""


def raised(kind: str, message: str, op: object) -> BaseException:
    """The candidate's exception as the tests see it."""
    if kind == "TooLarge":
        return TooLarge(message)
    known = getattr(builtins, kind, None)
    # StopIteration ends a loop only as an iterator's own end: from a call it would cut
    # map() and all() short (all(map(f, xs)) passing a wrong f).
    if (isinstance(known, type) and issubclass(known, BaseException)
            and kind not in NOT_RAISED_AS_IS and (op == "next" or kind != "StopIteration")):
        return known(message)
    return CandidateError(f"{kind}: {message}")


class Remote:
    """A proxy for an object in the worker; it compares equal only to itself."""

    __slots__ = ("_channel", "_handle")

    def __init__(self, channel: Channel, handle: int) -> None:
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_handle", handle)

    def _ask(self, op: str, **fields: Any) -> Any:
        return ask(self._channel, {"op": op, "h": self._handle, **fields})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", a=encode(list(args), handle_of), k=encode(kwargs, handle_of))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("getitem", key=encode(key, handle_of))

    def __contains__(self, item: Any) -> bool:
        return self._ask("contains", item=encode(item, handle_of)) is True

    def __iter__(self) -> Any:
        return self._ask("iter")

    def __next__(self) -> Any:
        return self._ask("next")

    def __len__(self) -> int:
        return self._ask("len")

    def __repr__(self) -> str:
        return str(self._ask("repr"))

    def __str__(self) -> str:
        return str(self._ask("str"))

    def __bool__(self) -> bool:
        raise TypeError(NOT_PLAIN)

    # Comparing it with anything but itself is an error: neither == nor != can pass a test.
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        raise TypeError(NOT_PLAIN)

    def __ne__(self, other: object) -> bool:
        if self is other:
            return False
        raise TypeError(NOT_PLAIN)

    def __hash__(self) -> int:
        return id(self)


def handle_of(value: Any) -> int:
    if isinstance(value, Remote):
        return value._handle
    raise WireError(f"only plain data can be passed to the candidate, not {type(value).__name__}")


def ask(channel: Channel, request: dict[str, Any]) -> Any:
    """Send a request to the worker and decode its answer (or raise its exception)."""
    if request:
        channel.send(request)
    reply = channel.receive()
    if reply is None:
        raise CandidateError("the candidate program ended before the tests did")
    if "error" in reply:
        kind, message = reply["error"]
        raise raised(str(kind), str(message), request.get("op"))
    return decode(reply["ok"], lambda handle: Remote(channel, handle))


def public(name: object) -> bool:
    """A name the candidate's module may give the tests: public, never a dunder (the worker
    sends only these; a forged message may send others)."""
    return type(name) is str and name.isidentifier() and not name.startswith("_")


def candidate_module(channel: Channel) -> types.ModuleType:
    """The module `candidate`: the worker's first message lists the program's names."""
    try:
        names = ask(channel, {})
    except TooLarge as exc:
        raise ImportError(f"failed: {exc}") from None
    except Exception as exc:  # what the candidate raised while loading, or its exit
        raise ImportError(f"the candidate program did not load: {exc!r}") from None
    module = types.ModuleType("candidate")
    if type(names) is not dict:
        raise ImportError("the candidate's names are not a dict")
    accepted = [name for name in names if public(name)]
    for name in accepted:
        setattr(module, name, names[name])
    # candidate.abs still reaches the candidate's own abs; a bare `abs` stays the built-in.
    module.__all__ = [name for name in accepted  # type: ignore[attr-defined]
                      if name not in BUILTIN_NAMES]
    return module


def tests_module(candidate: types.ModuleType) -> types.ModuleType:
    """The tests' __main__: the candidate's names, then the judge's own identity."""
    module = types.ModuleType("__main__")
    namespace = vars(module)
    namespace.update({name: getattr(candidate, name) for name in candidate.__all__})
    namespace.update(__name__="__main__", __file__="tests.py", __builtins__=builtins)
    return module


# Where none of these is in the tests, nothing in them is a unittest or pytest test: such a
# file (the common case: asserts) runs without suite.py and what it imports.
TEST_STYLES = ("unittest", "pytest", "def test", "class Test")


def run(tests: str, module: types.ModuleType) -> str | None:
    """Run the tests as `module`: why they failed if they did so by counting (no tests,
    some failed: printed already), None if they passed; a failure raises."""
    if any(style in tests for style in TEST_STYLES):
        import suite

        try:
            suite.run_file(tests, module)
        except suite.Failed as failed:
            return str(failed)
        return None
    code = compile(tests, "tests.py", "exec")
    try:
        exec(code, vars(module))
    except SystemExit as stop:  # the tests' own exit: passing only with status 0
        if stop.code not in (None, 0, False):
            raise
    return None


def main() -> None:
    source_fd, token_fd, result_fd, read_fd, write_fd = map(int, sys.argv[1:6])
    close_others({source_fd, token_fd, result_fd, read_fd, write_fd})
    sys.argv[:] = ["tests.py"]  # unittest.main() reads test names from argv: none here
    import _sitebuiltins

    builtins.exit = builtins.quit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    tests = read_run(source_fd)  # waits here, a spare, until a run begins
    try:
        sys.modules["candidate"] = candidate_module(Channel(read_fd, write_fd))
    except ImportError as exc:
        sys.exit(str(exc))
    sys.modules["__main__"] = module = tests_module(sys.modules["candidate"])
    try:
        failed = run(tests, module)
    except BaseException as exc:  # noqa: B036 - a failing test, shown from the tests' frames
        from failure import show

        show(exc, tests, "tests.py")
        if isinstance(exc, TooLarge):
            print(f"failed: {exc}", file=sys.stderr)
        sys.exit(1)
    if failed:
        sys.exit(f"failed: {failed}")
    os.write(result_fd, os.read(token_fd, 64))


if __name__ == "__main__":
    main()
