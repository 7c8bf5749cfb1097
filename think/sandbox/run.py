"""One test run: the candidate program in one sandbox (the worker), its tests in another (the
judge), joined by two pipes that carry plain data. A pass is the judge's token, read back on
a pipe only the judge holds; exit codes and printed text decide nothing."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from think.sandbox.launch import Launcher, kill, share_files
from think.sandbox.limits import Limits, RunResult
from think.sandbox.output import Stream, drain, read_all

# Sandboxes running at once in this process, whatever the number of solving threads: each
# holds its output tails and two interpreters, so think's memory stays bounded.
MAX_RUNS = max(2, min(4, (os.cpu_count() or 2) // 2))
_slots = threading.BoundedSemaphore(MAX_RUNS)


def run_tests(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    """Run `tests` as the main program against `program` (the module `candidate`)."""
    with _slots:
        return _run(program, tests, limits, mode)


def _run(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    start = time.monotonic()
    token = secrets.token_hex(16).encode()
    rundir = Path(tempfile.mkdtemp(prefix="think-run-"))
    (rundir / "candidate.py").write_text(program, encoding="utf-8")
    (rundir / "tests.py").write_text(tests, encoding="utf-8")
    share_files(rundir)
    token_r, token_w = os.pipe()
    os.write(token_w, token)
    os.close(token_w)
    result_r, result_w = os.pipe()
    to_worker_r, to_worker_w = os.pipe()
    to_judge_r, to_judge_w = os.pipe()
    judge_out_r, judge_out_w = os.pipe()
    worker_out_r, worker_out_w = os.pipe()
    launcher = Launcher(mode, str(rundir), limits)
    started = []
    try:
        judge_fds = (token_r, result_w, to_judge_r, to_worker_w)
        started.append(launcher.start(
            "judge.py", [launcher.file("tests.py"), *map(str, judge_fds)], judge_fds,
            judge_out_w))
        worker_fds = (to_worker_r, to_judge_w)
        started.append(launcher.start(
            "worker.py", [launcher.file("candidate.py"), *map(str, worker_fds)], worker_fds,
            worker_out_w))
    finally:
        # Only the sandboxes hold these now, so their ends close when the sandboxes die.
        for fd in (token_r, result_w, to_worker_r, to_worker_w, to_judge_r, to_judge_w,
                   judge_out_w, worker_out_w):
            os.close(fd)
        if len(started) < 2:
            for process in started:
                kill(process)
            launcher.close()
            shutil.rmtree(rundir, ignore_errors=True)
            for fd in (result_r, judge_out_r, worker_out_r):
                os.close(fd)
    # The token ends the run: the judge has nothing left to say after it.
    worker, judge = Stream(worker_out_r, False), Stream(judge_out_r, False)
    result = Stream(result_r, True, enough=len(token))
    try:
        reading = read_all([worker, judge, result], start + limits.seconds,
                           limits.output_kb * 1024)
    finally:
        for process in started:
            kill(process)
        launcher.close()
        drain(worker)
        drain(judge)
        for stream in (worker, judge, result):
            os.close(stream.fd)
        shutil.rmtree(rundir, ignore_errors=True)
    text = (bytes(worker.tail) + bytes(judge.tail)).decode("utf-8", "replace")
    status = verdict(reading.over, bytes(result.tail) == token, text, mode)
    return RunResult(status, text[-2000:], time.monotonic() - start)


def verdict(over: str, token_seen: bool, text: str, mode: str) -> str:
    """The run's status: the token is the only way to `passed`."""
    if over != "done":
        return over  # timeout, or output past the cap
    if token_seen:
        return "passed"
    if "MemoryError" in text:
        return "memory"
    if mode == "guard" and "sandbox:" in text:
        return "blocked"
    return "failed"
