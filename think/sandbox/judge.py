"""The tests' side of a test run, in a sandbox of its own: the tests run here as the main
program, and `candidate` is a module of proxies for the candidate's names, which run in the
worker's sandbox. Values come back as plain data (an object that says it equals anything
stays a proxy, and a proxy equals only itself), so the comparisons are the tests' own.

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

from wire import Channel, WireError, decode, encode  # noqa: E402  (not a package here)

# Exceptions the candidate raises arrive as built-in types so `except ValueError` works;
# these would end the tests themselves, so they arrive as CandidateError instead.
NOT_RAISED_AS_IS = {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "StopAsyncIteration"}


NOT_PLAIN = "the candidate returned an object that is not plain data"


class CandidateError(Exception):
    """The candidate program failed in a way the tests cannot catch by type."""


def raised(kind: str, message: str) -> BaseException:
    known = getattr(builtins, kind, None)
    if (isinstance(known, type) and issubclass(known, BaseException)
            and kind not in NOT_RAISED_AS_IS):
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
        raise raised(str(kind), str(message))
    return decode(reply["ok"], lambda handle: Remote(channel, handle))


def candidate_module(channel: Channel) -> types.ModuleType:
    """The module `candidate`: the worker's first message lists the program's names."""
    try:
        names = ask(channel, {})
    except Exception as exc:  # what the candidate raised while loading, or its exit
        raise ImportError(f"the candidate program did not load: {exc!r}") from None
    module = types.ModuleType("candidate")
    if type(names) is not dict:
        raise ImportError("the candidate's names are not a dict")
    for name, value in names.items():
        setattr(module, str(name), value)
    module.__all__ = [str(name) for name in names]  # type: ignore[attr-defined]
    return module


def main() -> None:
    source_fd, token_fd, result_fd, read_fd, write_fd = map(int, sys.argv[1:6])
    import _sitebuiltins

    builtins.exit = builtins.quit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    with open(source_fd, encoding="utf-8") as handle:
        tests = handle.read()  # waits here, a spare, until a run begins
    try:
        sys.modules["candidate"] = candidate_module(Channel(read_fd, write_fd))
    except ImportError as exc:
        sys.exit(str(exc))
    code = compile(tests, "tests.py", "exec")
    namespace = {"__name__": "__main__", "__file__": "tests.py", "__builtins__": builtins}
    exec("from candidate import *", namespace)
    try:
        exec(code, namespace)
    except SystemExit as stop:  # unittest.main() ends this way, passing or not
        if stop.code not in (None, 0, False):
            raise
    except BaseException as exc:  # noqa: B036 - a failing test, shown from the tests' frames
        from failure import show

        show(exc, tests, "tests.py")
        sys.exit(1)
    os.write(result_fd, os.read(token_fd, 64))


if __name__ == "__main__":
    main()
