"""The plain-data wire between judge and worker: exact built-in types (and a few stdlib value
types, rebuilt by the judge) only, everything else a handle; any depth, shared and
self-referencing containers and ints of any size cross; malformed or oversized messages
are refused, not trusted."""

from __future__ import annotations

import collections
import decimal
import fractions
import json
import os
import threading

import pytest

from think.sandbox.wire import MAX_LINE, Channel, TooLarge, WireError, decode, encode


def through(value: object) -> object:
    """The value as the other side gets it: encoded, as JSON text, decoded."""
    return decode(json.loads(json.dumps(encode(value))))


def test_plain_values_round_trip_with_their_types() -> None:
    value = [1, -2.5, "s", b"\x00\xff", None, True, (1, (2,)), {1: "a", (2, 3): [4]},
             {5, 6}, frozenset({7}), float("inf"), 10 ** 5000, -(2 ** 70)]
    back = through(value)
    assert back == value
    assert [type(item) for item in back] == [type(item) for item in value]


def test_other_objects_become_handles_or_are_refused() -> None:
    class Int(int):
        pass

    kept: list[object] = []

    def keep(obj: object) -> int:
        kept.append(obj)
        return len(kept) - 1

    value = [Int(3), len, object()]
    back = decode(encode(value, keep), lambda handle: ("proxy", handle))
    assert back == [("proxy", 0), ("proxy", 1), ("proxy", 2)] and kept == value
    with pytest.raises(WireError):
        encode(Int(3))  # no keeper: the judge never sends an object
    with pytest.raises(WireError):
        decode(encode(value, keep))  # the worker may not hand the judge its objects


def test_stdlib_value_types_come_back_as_the_judges_own() -> None:
    point = collections.namedtuple("Point", "x y")
    value = [collections.Counter("aab"), collections.OrderedDict(a=1),
             collections.defaultdict(list, a=[1]), collections.deque([1, 2], 5),
             fractions.Fraction(1, 3), decimal.Decimal("1.10"), 1 + 2j, point(1, 2)]
    back = through(value)
    assert back == value
    assert [type(item).__name__ for item in back] == [type(item).__name__ for item in value]
    assert back[2]["new"] == [] and back[3].maxlen == 5 and back[7].y == 2


@pytest.mark.parametrize("bad", [
    {"x": 1}, {"v": 1}, {"v": [0], "n": []}, {"v": [0], "n": ["t", [[0]]]},
    {"v": [0], "n": ["s", [[1]], "l", []]}, {"v": [0], "n": ["d", [1]]},
    {"v": {"x": 1}, "n": []}, {"v": [0], "n": ["?", []]}, {"v": [[0]], "n": []},
    {"v": {"i": "zz"}, "n": []}, {"v": {"h": 1}, "n": []}, [1]],
    ids=["no-table", "no-nodes", "dangling-ref", "tuple-in-itself", "unhashable-in-set",
         "odd-dict", "unknown-tag", "unknown-node", "bad-ref", "bad-hex", "handle-to-judge",
         "not-a-dict"])
def test_malformed_wire_values_are_refused(bad: object) -> None:
    with pytest.raises(WireError):
        decode(bad)


def test_any_depth_and_self_reference_cross_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    back, depth = through(deep), 0
    while back:
        back, depth = back[0], depth + 1  # type: ignore[index]
    assert depth == 100_000
    loop: list[object] = [1]
    loop.append(loop)
    ring = through({"loop": loop, "again": loop})
    assert ring["loop"][1] is ring["loop"] and ring["again"] is ring["loop"]  # type: ignore


def test_a_value_past_the_line_limit_is_too_large_to_send() -> None:
    read, write = os.pipe()
    channel = Channel(read, write)
    with pytest.raises(TooLarge, match="value too large to compare"):
        channel.send({"ok": encode("x" * (MAX_LINE + 1))})
    channel.reader.close()
    os.close(write)


def test_a_channel_refuses_an_oversized_line() -> None:
    read, write = os.pipe()
    channel = Channel(read, write)
    channel.send({"ok": 1})
    assert channel.receive() == {"ok": 1}
    def flood() -> None:  # more than a pipe holds, so from another thread
        try:
            os.write(write, b"x" * (MAX_LINE + 10))
        except OSError:
            pass  # the reader gave up and closed its end

    writer = threading.Thread(target=flood)
    writer.start()
    with pytest.raises(WireError):
        channel.receive()
    channel.reader.close()
    writer.join()
    os.close(write)
