"""The candidate's side of a test run, in its own sandbox: loads the candidate program as the
module `candidate` (so a `if __name__ == "__main__":` demo block does not run) and answers
the judge's requests (call, getattr, iterate...) with plain data, or with handles for the
objects that stay here. Nothing this process says can pass a test by itself: the judge, in
another sandbox, compares the values. Standard library only.

It starts before the candidate is known (a spare, warmed up while the model decodes) and
reads the program from SOURCE_FD when the run begins.

Usage: python -I -S worker.py SOURCE_FD READ_FD WRITE_FD [guard]
"""

from __future__ import annotations

import os
import sys
import types

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run_start import close_others, read_run  # noqa: E402  (not a package here)
from wire import Channel, TooLarge, decode, encode  # noqa: E402


def builtin_name(exc: BaseException) -> str:
    """The nearest built-in exception type, so the judge can raise one `except` clauses know."""
    return next(kind.__name__ for kind in type(exc).__mro__ if kind.__module__ == "builtins")


class Objects:
    """What the judge holds handles to: values that are not plain data."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def keep(self, value: Any) -> int:
        self.items.append(value)
        return len(self.items) - 1

    def get(self, handle: int) -> Any:
        if not 0 <= handle < len(self.items):
            raise LookupError(f"no object {handle}")
        return self.items[handle]


def perform(request: dict[str, Any], objects: Objects) -> Any:
    """What one request asks of an object."""
    target = objects.get(request["h"])
    op = request["op"]
    if op == "call":
        args = decode(request["a"], objects.get)
        kwargs = decode(request["k"], objects.get)
        return target(*args, **kwargs)
    if op == "getattr":
        return getattr(target, request["name"])
    if op == "getitem":
        return target[decode(request["key"], objects.get)]
    if op == "contains":
        return decode(request["item"], objects.get) in target
    simple: dict[str, Callable[[Any], Any]] = {
        "iter": iter, "next": next, "len": len, "repr": repr, "str": str}
    return simple[op](target)


def answer(request: dict[str, Any], objects: Objects) -> dict[str, Any]:
    try:
        return {"ok": encode(perform(request, objects), objects.keep)}
    except BaseException as exc:  # noqa: B036 - SystemExit in a function is the test's failure
        return {"error": [builtin_name(exc), str(exc)[:500]]}


def load(source: str) -> types.ModuleType:
    """The candidate program run as the module `candidate` (importlib would cost a start-up)."""
    module = types.ModuleType("candidate")
    module.__file__ = "candidate.py"
    sys.modules["candidate"] = module
    exec(compile(source, "candidate.py", "exec"), module.__dict__)
    return module


def main() -> None:
    source_fd, read_fd, write_fd = map(int, sys.argv[1:4])
    close_others({source_fd, read_fd, write_fd})
    channel = Channel(read_fd, write_fd)
    import _sitebuiltins
    import builtins

    # -S leaves exit() undefined; programs that call it are ordinary.
    builtins.exit = builtins.quit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    source = read_run(source_fd)  # waits here, a spare, until a run begins
    if sys.argv[4:] == ["guard"]:
        import guard

        guard.install(os.getcwd())
    objects = Objects()
    try:
        module = load(source)
    except BaseException as exc:  # noqa: B036 - exiting while loading is a failed candidate
        from failure import show

        show(exc, source, "candidate.py")
        channel.send({"error": [builtin_name(exc), str(exc)[:500]]})
        return
    names = {name: value for name, value in vars(module).items()
             if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    reply: dict[str, Any] = {"ok": encode(names, objects.keep)}
    while True:
        try:
            channel.send(reply)
        except TooLarge as exc:  # the judge fails the test with this, not a silent fail
            channel.send({"error": ["TooLarge", str(exc)]})
        if (request := channel.receive()) is None:
            return
        reply = answer(request, objects)


if __name__ == "__main__":
    main()
