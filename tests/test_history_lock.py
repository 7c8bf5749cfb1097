"""A history another process keeps locked costs a run a moment at most: the answer prints
first, the row is written once the lock is free, or skipped with a note when it stays held.
Real processes on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

from support.bad_server import serving

from think import history

REPO_ROOT = Path(__file__).resolve().parent.parent
HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")  # the write lock, as a long write of another think holds it
db.execute("INSERT INTO runs (question) VALUES ('held')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def hold_the_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    with closing(history.connect(path)):
        pass  # the file exists, in WAL mode, at the current version
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def timed_solve(url: str, home: Path) -> tuple[float | None, float, int, str]:
    """Seconds from start to the answer on stdout and to the exit; exit code and stderr."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "think", "solve", "What is 2 + 2?", "--engine", url, "-b", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "THINK_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)})
    answered: list[float] = []

    def read_answer() -> None:
        assert process.stdout is not None
        if process.stdout.readline().strip() == "4":
            answered.append(time.monotonic() - started)

    reader = threading.Thread(target=read_answer, daemon=True)
    reader.start()
    try:
        err = process.stderr.read() if process.stderr else ""
        process.wait(timeout=40)
    finally:
        process.kill()
    exited = time.monotonic() - started
    reader.join(5)
    return (answered[0] if answered else None), exited, process.returncode, err


def test_an_answer_is_not_held_by_a_locked_history_and_the_run_is_skipped_with_a_note(
        think_home: Path) -> None:
    path = think_home / "data" / history.FILE_NAME
    holder = hold_the_lock(path, 60)
    try:
        with serving() as server:
            answered, exited, code, err = timed_solve(server.url, think_home)
    finally:
        holder.kill()
    assert code == 0 and answered is not None, err
    assert exited < 15, f"the run waited {exited:.0f} s on the history"  # it waited 60 s
    assert answered < exited  # the answer first, then the moment given to the history
    assert "think: note: the run history" in err and "this run is not logged" in err
    assert "Traceback" not in err


def test_a_row_waits_out_a_short_lock_after_the_answer(think_home: Path) -> None:
    path = think_home / "data" / history.FILE_NAME
    holder = hold_the_lock(path, 1.0)
    with serving() as server:
        answered, exited, code, err = timed_solve(server.url, think_home)
    holder.wait(10)
    assert code == 0 and answered is not None and "not logged" not in err, err
    assert [run["answer"] for run in history.runs(path=path)] == ["4"]
