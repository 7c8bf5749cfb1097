"""Plain data on the wire between the test judge and the candidate's worker, one JSON line
a message.

Only exact built-in types cross (an int subclass or an object with its own __eq__ does not):
None, bool, int, float, str, bytes, and lists, tuples, dicts, sets and frozensets of them,
plus a few standard-library value types (values.py). Anything else stays in the worker and
crosses as a numbered handle. A value is sent flat, as a table of its containers that refer
to each other by number, so any depth crosses without recursion and shared or
self-referencing containers come back shared. Ints past 64 bits go as hex, which has no
digit limit. Third-party objects (numpy arrays) cannot cross: the sandbox has no
third-party packages. Runs inside the sandbox: standard library only, and no import of
think.
"""

from __future__ import annotations

import json
import os

# Type names only: importing typing costs a sandboxed interpreter milliseconds per run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

INLINE = (type(None), bool, float, str)  # JSON carries these as they are
SMALL = 2**63  # ints below this go as JSON numbers; larger ones as hex
MAX_LINE = 32 * 2**20  # one message; a longer one is refused, not buffered
MUTABLE = {"l": list, "d": dict}  # containers a cycle can pass through
FROZEN = {"t": tuple, "s": set, "f": frozenset}
SEQUENCES = {list: "l", tuple: "t", set: "s", frozenset: "f"}
# values.py's types: their modules, and their tags. It is imported only when one is seen.
VALUE_MODULES = {"collections", "fractions", "decimal"}
VALUE_TAGS = frozenset("CODqFMjN")


def values() -> Any:
    if __package__:  # think's own process: a package
        from think.sandbox import values
    else:  # in the sandbox, this folder's files are top-level modules
        import values  # type: ignore[no-redef]
    return values


def tag_of(value: Any) -> str | None:
    """values.py's tag for a value of one of its types, if it is one."""
    kind = type(value)
    if kind.__module__ in VALUE_MODULES or kind is complex or kind.__bases__ == (tuple,):
        return values().tag_of(value)  # type: ignore[no-any-return]
    return None


class WireError(Exception):
    """A message that is not plain data in the agreed shape."""


class TooLarge(WireError):
    """A value whose message is past MAX_LINE: it cannot be compared, so it fails."""


def too_large(size: int) -> TooLarge:
    return TooLarge(f"value too large to compare (a {size / 2**20:.0f} MiB message; at most "
                    f"{MAX_LINE // 2**20} MiB cross between the sandboxes)")


def flat(items: Any) -> bool:
    """Whether a sequence's items all go inline as they are (checked at C speed)."""
    kinds = set(map(type, items))
    if kinds == {int}:
        return -SMALL < min(items) and max(items) < SMALL
    return kinds <= set(INLINE)


def encode(value: Any, keep: Callable[[Any], int] | None = None) -> dict[str, Any]:
    """A JSON-ready form of a plain value; `keep(obj) -> handle` stores anything else.

    {"v": item, "n": [tag, items, tag, items...]}: an item is a JSON scalar, [n] for the
    n-th container in "n", or {"i": hex}, {"b": hex} or {"h": handle}."""
    kind = type(value)
    if kind in INLINE or (kind is int and -SMALL < value < SMALL):
        return {"v": value, "n": []}  # most results: no table to build
    nodes: list[Any] = []
    seen: dict[int, list[int]] = {}
    todo: list[tuple[Any, int, str]] = []

    def item(value: Any) -> Any:
        kind = type(value)
        if kind in INLINE:
            return value
        if kind is int:
            return value if -SMALL < value < SMALL else {"i": hex(value)}
        if kind is bytes:
            return {"b": value.hex()}
        ref = seen.get(id(value))
        if ref is not None:  # a container already sent is referred to again
            return ref
        tag = SEQUENCES.get(kind) or ("d" if kind is dict else tag_of(value))
        if tag is None:
            if keep is None:
                raise WireError(f"{kind.__name__} is not plain data")
            return {"h": keep(value)}
        ref = seen[id(value)] = [len(nodes) // 2]
        nodes.extend((tag, None))
        todo.append((value, len(nodes) - 1, tag))
        return ref

    root = item(value)
    while todo:
        value, at, tag = todo.pop()
        if tag == "d":
            items = [x for pair in value.items() for x in pair]
        elif tag in SEQUENCES.values():
            items = value if tag == "l" else list(value)
        else:
            items = values().parts(tag, value)
        nodes[at] = items if flat(items) else [item(x) for x in items]
    return {"v": root, "n": nodes}


def decode(data: Any, remote: Callable[[int], Any] | None = None) -> Any:
    """The value a JSON form stands for; `remote(handle)` makes a proxy for a handle."""
    if type(data) is not dict or data.keys() != {"v", "n"} or type(data["n"]) is not list:
        raise WireError("not a wire value")
    if type(data["v"]) in INLINE or type(data["v"]) is int:
        return data["v"]
    try:
        return Decoder(data["n"], remote).value(data["v"])
    except (TypeError, ValueError, OverflowError) as exc:  # unhashable keys, bad hex...
        raise WireError(f"not a wire value ({exc})") from None


class Decoder:
    """Builds a table of containers back: mutable ones empty first (cycles pass through
    them), immutable ones once their items exist, without recursion."""

    def __init__(self, nodes: list[Any], remote: Callable[[int], Any] | None) -> None:
        self.nodes, self.remote = nodes, remote
        self.built: dict[int, Any] = {}
        self.unfilled: list[tuple[Any, list[Any]]] = []

    def value(self, item: Any) -> Any:
        root = self.item(item)
        while self.unfilled:
            target, body = self.unfilled.pop()
            items = body if list not in map(type, body) and dict not in map(type, body) \
                else [self.item(x) for x in body]
            if type(target) is list:
                target.extend(items)
            elif len(items) % 2:
                raise WireError("not a wire dict")
            else:
                target.update(zip(items[::2], items[1::2], strict=True))
        return root

    def node(self, index: Any) -> tuple[str, list[Any]]:
        if type(index) is not int or not 0 <= index < len(self.nodes) // 2:
            raise WireError("not a wire reference")
        tag, body = self.nodes[2 * index], self.nodes[2 * index + 1]
        if type(body) is not list or (tag not in MUTABLE and tag not in FROZEN
                                      and tag not in VALUE_TAGS):
            raise WireError(f"not a wire node: {tag!r}")
        return tag, body

    def item(self, item: Any) -> Any:
        kind = type(item)
        if kind is list:
            if len(item) != 1:
                raise WireError("not a wire reference")
            index = item[0]
            return self.built[index] if index in self.built else self.build(index)
        if kind in INLINE or kind is int:
            return item
        if kind is not dict or len(item) != 1:
            raise WireError("not a wire value")
        (tag, body), = item.items()
        if tag == "i" and type(body) is str:
            return int(body, 16)
        if tag == "b" and type(body) is str:
            return bytes.fromhex(body)
        if tag == "h" and type(body) is int and self.remote is not None:
            return self.remote(body)
        raise WireError(f"unknown wire tag {tag!r}")

    def build(self, index: int) -> Any:
        """Node `index` and the immutable nodes it needs, by an explicit stack."""
        stack, waiting = [index], set()
        while stack:
            top = stack[-1]
            if top in self.built:
                stack.pop()
                continue
            tag, body = self.node(top)
            if tag in MUTABLE:
                self.built[top] = MUTABLE[tag]()
                self.unfilled.append((self.built[top], body))
                stack.pop()
                continue
            missing = [x[0] for x in body if type(x) is list and len(x) == 1
                       and x[0] not in self.built]
            if missing:
                if top in waiting:
                    raise WireError("immutable values that contain each other")
                waiting.add(top)
                stack.extend(missing)
                continue
            items = body if list not in map(type, body) and dict not in map(type, body) \
                else [self.item(x) for x in body]
            self.built[top] = FROZEN[tag](items) if tag in FROZEN else values().build(tag, items)
            stack.pop()
        return self.built[index]


class Channel:
    """Messages over a pair of pipe descriptors, one JSON object a line."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = os.fdopen(read_fd, "rb", buffering=65536)
        self.write_fd = write_fd

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        if len(data) > MAX_LINE:
            raise too_large(len(data))
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
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise WireError("a message is not JSON") from None
        if type(message) is not dict:
            raise WireError("a message is not an object")
        return message
