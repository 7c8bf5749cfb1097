"""A real terminal: the real CLI on the embedded model with stderr on a pty, read through a
terminal emulator while it runs and after; stdout (a pipe) must hold only the answer."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time

import pyte
import pytest

pytestmark = pytest.mark.real

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"
COLUMNS, LINES = 100, 40


def run_on_terminal(*args: str, timeout: float = 300) -> tuple[list[str], str, str, int]:
    """Screens seen while running, the final screen, stdout, and the exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS),
           "LINES": str(LINES)}
    env.pop("NO_COLOR", None)
    think = shutil.which("think", path=os.path.dirname(sys.executable)) or "think"
    process = subprocess.Popen([think, *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            stream.feed(data)
            seen.append("\n".join(screen.display))
        elif process.poll() is not None:
            break
    out = process.stdout.read().decode() if process.stdout else ""
    process.wait(timeout=30)
    os.close(master)
    return seen, "\n".join(screen.display), out, process.returncode


def test_live_view_on_a_real_terminal() -> None:
    seen, final, out, code = run_on_terminal("solve", Q, "--budget", "20", "--no-early-stop",
                                             "--seed", "1")
    assert code == 0
    live = [s for s in seen if "#1 " in s and "units" in s]
    assert live, "the live view never showed a sample line"
    # Samples move: a later screen shows more tokens or more finished samples than an earlier.
    assert len(set(live)) > 3
    assert any("vote" in s for s in live)
    assert "answer " in final and "of 20 units" in final  # the summary stays after the run
    assert "#1 " not in final  # the live area gave way to it
    answer = out.strip()
    assert out.count("\n") == 1 and answer and answer in final
