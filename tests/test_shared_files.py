"""Locks and atomic writes on files that several think runs share."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from think.shared_files import exclusive, try_lock, write_atomically


def test_a_locked_file_cannot_be_locked_again_until_it_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with path.open("a") as first:
        assert try_lock(first)
        with path.open("a") as second:
            assert not try_lock(second)
    with path.open("a") as third:
        assert try_lock(third)


def test_exclusive_makes_the_second_holder_wait(tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    order: list[str] = []
    waited: list[bool] = []
    inside = threading.Event()

    def first() -> None:
        with exclusive(target):
            inside.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    with exclusive(target, on_wait=lambda: waited.append(True)):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"] and waited == [True]


def test_exclusive_in_a_missing_folder_leaves_the_error_to_the_write(tmp_path: Path) -> None:
    with exclusive(tmp_path / "missing" / "model.gguf"):
        pass  # no lock could be taken; nothing raised here


def test_write_atomically_replaces_and_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("old: 1\n")
    write_atomically(path, "new: 2\n")
    assert path.read_text() == "new: 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.yaml"]
