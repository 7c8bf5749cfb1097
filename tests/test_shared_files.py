"""Locks and atomic writes on files that several think runs share."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from think import shared_files
from think.shared_files import exclusive, try_lock, write_atomically

ROOT = Path(__file__).resolve().parent.parent
# A second process that takes a lock, says so, and holds it until its stdin closes.
HOLD_EXCLUSIVE = ("import sys; from pathlib import Path; from think.shared_files import exclusive\n"
                  "with exclusive(Path(sys.argv[1])):\n"
                  "    print('locked', flush=True); sys.stdin.read()\n")
HOLD_OPEN_FILE = ("import sys; from think.shared_files import try_lock\n"
                  "with open(sys.argv[1], 'a') as handle:\n"
                  "    print('locked' if try_lock(handle) else 'refused', flush=True)\n"
                  "    sys.stdin.read()\n")
# What huggingface_hub does around a blob it downloads (utils/_fixes.py, WeakFileLock).
HOLD_LIKE_THE_HUB = ("import sys; from filelock import FileLock\n"
                     "with FileLock(sys.argv[1] + '.lock'):\n"
                     "    print('locked', flush=True); sys.stdin.read()\n")


def holder(code: str, path: Path) -> subprocess.Popen[str]:
    """A process holding a lock on PATH once it has printed its first line."""
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    return child


def release(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(30) == 0


def wait_in_thread(target: Path) -> tuple[threading.Thread, list[str]]:
    """exclusive(target) taken in a thread; the list says when it waited and when it got in."""
    events: list[str] = []

    def take() -> None:
        with exclusive(target, on_wait=lambda: events.append("waited")):
            events.append("in")

    thread = threading.Thread(target=take)
    thread.start()
    return thread, events


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


@pytest.mark.parametrize("code", [HOLD_EXCLUSIVE, HOLD_LIKE_THE_HUB], ids=["think", "hub"])
def test_exclusive_waits_for_another_process_until_it_lets_go(tmp_path: Path, code: str) -> None:
    # Another think run, or huggingface_hub downloading the same blob: either makes this one
    # wait, and it goes on as soon as the other lets go.
    target = tmp_path / "blob"
    child = holder(code, target)
    thread, events = wait_in_thread(target)
    time.sleep(0.5)
    assert events == ["waited"] and thread.is_alive()
    release(child)
    thread.join(30)
    assert events == ["waited", "in"]


def test_an_open_file_locked_by_another_process_is_refused_until_it_closes(tmp_path: Path
                                                                           ) -> None:
    out = tmp_path / "out.jsonl"
    child = holder(HOLD_OPEN_FILE, out)
    with out.open("a") as second:
        assert not try_lock(second)
    release(child)
    with out.open("a") as third:
        assert try_lock(third)
    release(holder(HOLD_OPEN_FILE, out))  # and once this one closed it, another process may


class FakeMsvcrt:
    """msvcrt as Windows has it: locking() locks bytes from the descriptor's position,
    raising EACCES where another handle holds them."""

    LK_NBLCK = 2

    def __init__(self, held_errno: int | None = None) -> None:
        self.calls: list[tuple[int, int, int]] = []  # (position, mode, bytes)
        self.held_errno = held_errno

    def locking(self, descriptor: int, mode: int, count: int) -> None:
        self.calls.append((os.lseek(descriptor, 0, os.SEEK_CUR), mode, count))
        if self.held_errno is not None:
            raise OSError(self.held_errno, "locked")


@pytest.mark.parametrize(("held_errno", "locked"), [(None, True), (errno.EACCES, False),
                                                    (errno.EINVAL, True)],
                         ids=["free", "held", "no-byte-locks"])
def test_on_windows_a_byte_past_any_data_is_locked_and_the_file_is_left_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held_errno: int | None,
        locked: bool) -> None:
    windows = FakeMsvcrt(held_errno)
    monkeypatch.setattr(shared_files, "fcntl", None)
    monkeypatch.setattr(shared_files, "msvcrt", windows)
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "1"}\n')
    with out.open("a") as handle:
        handle.write('{"id": "2"}')  # buffered: written before the position moves
        assert try_lock(handle) is locked  # held elsewhere: refused; no byte locks: unlocked
        handle.write("\n")
    # Windows byte locks are mandatory: the lock sits where no data is, so a reader (resume
    # reads the records through its own handle) and the holder's appends are never refused.
    assert windows.calls == [(shared_files.FAR_BYTE, FakeMsvcrt.LK_NBLCK, 1)]
    assert out.read_text() == '{"id": "1"}\n{"id": "2"}\n'


def test_exclusive_in_a_missing_folder_leaves_the_error_to_the_write(tmp_path: Path) -> None:
    with exclusive(tmp_path / "missing" / "model.gguf"):
        pass  # no lock could be taken; nothing raised here
    assert not (tmp_path / "missing").exists()  # nor a folder made for the lock


def test_write_atomically_replaces_and_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("old: 1\n")
    write_atomically(path, "new: 2\n")
    assert path.read_text() == "new: 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.yaml"]
