"""The plain-data wire between judge and worker: exact built-in types only, everything else
a handle; malformed or oversized messages are refused, not trusted."""

from __future__ import annotations

import os
import threading

import pytest

from think.sandbox.wire import MAX_LINE, Channel, WireError, decode, encode


def test_plain_values_round_trip_with_their_types() -> None:
    value = [1, -2.5, "s", b"\x00\xff", None, True, (1, (2,)), {1: "a", (2, 3): [4]},
             {5, 6}, frozenset({7}), float("inf")]
    back = decode(encode(value))
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
    assert encode(value, keep) == {"l": [{"h": 0}, {"h": 1}, {"h": 2}]}
    with pytest.raises(WireError):
        encode(Int(3))  # no keeper: the judge never sends an object
    assert decode({"h": 1}, lambda handle: ("proxy", handle)) == ("proxy", 1)
    with pytest.raises(WireError):
        decode({"h": 1})  # the worker may not hand the judge a handle to its objects


@pytest.mark.parametrize("bad", [{"x": 1}, {"l": 1}, {"d": [[1]]}, {"b": 5}, [1], {"l": [],
                                                                                   "t": []}])
def test_malformed_wire_values_are_refused(bad: object) -> None:
    with pytest.raises(WireError):
        decode(bad)


def test_deep_nesting_is_refused_both_ways() -> None:
    deep: list[object] = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(WireError):
        encode(deep)
    data: dict[str, object] = {"l": []}
    for _ in range(200):
        data = {"l": [data]}
    with pytest.raises(WireError):
        decode(data)


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
