"""Running untrusted generated code: a separate process with a time limit, memory, process and
file-size limits, a fresh temporary working directory, a scrubbed environment, and an audit
hook (think/sandbox_guard.py) that refuses writes outside that directory, new processes,
native code and network access. The whole process group is killed when the run ends.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GUARD = Path(__file__).with_name("sandbox_guard.py")
OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class Limits:
    """What one run may use."""

    seconds: float = 5.0
    memory_mb: int = 512
    processes: int = 16
    file_mb: int = 16


@dataclass(frozen=True)
class RunResult:
    """How an untrusted program ended."""

    status: str  # passed, failed, timeout, memory, blocked
    output: str  # the tail of what it printed, stderr last
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _user_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def _limit_child(limits: Limits, process_cap: int) -> None:
    """In the child, before exec: its own process group and resource limits."""
    os.setsid()
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    size = limits.file_mb * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Counts every process of this user (root is exempt; the guard refuses forks anyway).
    resource.setrlimit(resource.RLIMIT_NPROC, (process_cap, process_cap))


def run_untrusted(source: str, limits: Limits = Limits()) -> RunResult:
    """Run a Python program in the sandbox; it passes when it exits 0."""
    workdir = Path(tempfile.mkdtemp(prefix="think-run-"))
    program = workdir / "program.py"
    program.write_text(source, encoding="utf-8")
    process_cap = _user_processes(os.getuid()) + limits.processes
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-I", "-S", str(GUARD), str(program)], cwd=workdir, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: _limit_child(limits, process_cap))
    try:
        out, err = child.communicate(timeout=limits.seconds)
        status = _status(child.returncode, err)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        out, err = child.communicate()
        status = "timeout"
    finally:
        _kill_group(child)  # anything it left behind in its group
        shutil.rmtree(workdir, ignore_errors=True)
    text = (out + err).decode("utf-8", "replace")
    return RunResult(status, text[-OUTPUT_TAIL:], time.monotonic() - start)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _status(code: int, err: bytes) -> str:
    if code == 0:
        return "passed"
    if code == -signal.SIGXCPU or code == -signal.SIGKILL:
        return "timeout"
    tail = err[-OUTPUT_TAIL:]
    if b"MemoryError" in tail:
        return "memory"
    if b"sandbox:" in tail:
        return "blocked"
    return "failed"
