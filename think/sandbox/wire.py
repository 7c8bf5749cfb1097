"""Plain data on the wire between the test judge and the candidate's worker, one JSON line
a message.

Only exact built-in types cross (an int subclass or an object with its own __eq__ does not):
None, bool, int, float, str, bytes, and lists, tuples, dicts, sets and frozensets of them.
Anything else stays in the worker and crosses as a numbered handle. Runs inside the
sandbox: standard library only, and no import of think.
"""

from __future__ import annotations

import json
import os

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SCALARS = (type(None), bool, int, float, str)
MAX_LINE = 8 * 2**20  # one message; a longer one is refused, not buffered
MAX_DEPTH = 100


class WireError(Exception):
    """A message that is not plain data in the agreed shape."""


def encode(value: Any, keep: Callable[[Any], int] | None = None, depth: int = 0) -> Any:
    """A JSON-ready form of a plain value; `keep(obj) -> handle` stores anything else."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind is bytes:
        return {"b": value.hex()}
    tags: dict[type, str] = {list: "l", tuple: "t", set: "s", frozenset: "f"}
    if kind in tags:
        return {tags[kind]: [encode(item, keep, depth + 1) for item in value]}
    if kind is dict:
        return {"d": [[encode(k, keep, depth + 1), encode(v, keep, depth + 1)]
                      for k, v in value.items()]}
    if keep is None:
        raise WireError(f"{kind.__name__} is not plain data")
    return {"h": keep(value)}


def decode(data: Any, remote: Callable[[int], Any] | None = None, depth: int = 0) -> Any:
    """The value a JSON form stands for; `remote(handle)` makes a proxy for a handle."""
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if type(data) in SCALARS:
        return data
    if type(data) is not dict or len(data) != 1:
        raise WireError("not a wire value")
    (tag, body), = data.items()
    if tag == "b" and type(body) is str:
        return bytes.fromhex(body)
    if tag == "h" and type(body) is int and remote is not None:
        return remote(body)
    if type(body) is not list:
        raise WireError("not a wire value")
    builders: dict[str, Callable[[list[Any]], Any]] = {
        "l": list, "t": tuple, "s": set, "f": frozenset}
    if tag in builders:
        return builders[tag]([decode(item, remote, depth + 1) for item in body])
    if tag == "d":
        pairs = [pair for pair in body if type(pair) is list and len(pair) == 2]
        if len(pairs) != len(body):
            raise WireError("not a wire dict")
        return {decode(k, remote, depth + 1): decode(v, remote, depth + 1) for k, v in pairs}
    raise WireError(f"unknown wire tag {tag!r}")


class Channel:
    """Messages over a pair of pipe descriptors, one JSON object a line."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = os.fdopen(read_fd, "rb", buffering=65536)
        self.write_fd = write_fd

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self) -> dict[str, Any] | None:
        """The next message, or None when the other side has gone."""
        line = self.reader.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE or not line.endswith(b"\n"):
            raise WireError("a message is too long")
        message = json.loads(line)
        if type(message) is not dict:
            raise WireError("a message is not an object")
        return message
