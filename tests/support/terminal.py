"""The real CLI with stderr on a pseudo-terminal, read through a terminal emulator (pyte):
what a person sees while it runs and after, with stdout (a pipe) kept apart."""

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

COLUMNS, LINES = 100, 40


def on_terminal(command: list[str], timeout: float) -> tuple[list[bytes], str, int]:
    """Run `command` with stderr on a pseudo-terminal of COLUMNS x LINES: the chunks it wrote
    there, in order, its stdout and its exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS),
           "LINES": str(LINES)}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
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
            chunks.append(data)
        elif process.poll() is not None:
            break
    out = process.stdout.read().decode() if process.stdout else ""
    process.wait(timeout=30)
    os.close(master)
    return chunks, out, process.returncode


def run_on_terminal(*args: str, timeout: float = 300) -> tuple[list[str], str, str, int]:
    """Screens seen while running, the final screen, stdout, and the exit code."""
    think = shutil.which("think", path=os.path.dirname(sys.executable)) or "think"
    chunks, out, code = on_terminal([think, *args], timeout)
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)
    seen: list[str] = []
    for chunk in chunks:  # the screen after each piece, as a person saw it change
        stream.feed(chunk)
        seen.append("\n".join(screen.display))
    return seen, "\n".join(screen.display), out, code
