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
from contextlib import ExitStack
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


class Pipes:
    """The run's pipe ends that are open in think; each is closed once, whatever happens."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    def pipe(self) -> tuple[int, int]:
        read, write = os.pipe()
        self.open |= {read, write}
        return read, write

    def close(self, *fds: int) -> None:
        for fd in fds:
            if fd in self.open:
                self.open.discard(fd)
                os.close(fd)

    def close_all(self) -> None:
        self.close(*list(self.open))


def run_folder(program: str, tests: str) -> Path:
    """The run's files, readable from inside the sandbox (read-only there)."""
    rundir = Path(tempfile.mkdtemp(prefix="think-run-"))
    (rundir / "candidate.py").write_text(program, encoding="utf-8")
    (rundir / "tests.py").write_text(tests, encoding="utf-8")
    share_files(rundir)
    return rundir


def _run(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    start = time.monotonic()
    token = secrets.token_hex(16).encode()
    with ExitStack() as cleanup:
        rundir = run_folder(program, tests)
        cleanup.callback(shutil.rmtree, rundir, True)
        fds = Pipes()
        cleanup.callback(fds.close_all)
        token_r, token_w = fds.pipe()
        os.write(token_w, token)
        fds.close(token_w)
        result_r, result_w = fds.pipe()
        to_worker_r, to_worker_w = fds.pipe()
        to_judge_r, to_judge_w = fds.pipe()
        judge_out_r, judge_out_w = fds.pipe()
        worker_out_r, worker_out_w = fds.pipe()
        launcher = Launcher(mode, str(rundir), limits)
        cleanup.callback(launcher.close)
        judge_fds = (token_r, result_w, to_judge_r, to_worker_w)
        judge_process = launcher.start(
            "judge.py", [launcher.file("tests.py"), *map(str, judge_fds)], judge_fds,
            judge_out_w)
        cleanup.callback(kill, judge_process)
        worker_fds = (to_worker_r, to_judge_w)
        worker_process = launcher.start(
            "worker.py", [launcher.file("candidate.py"), *map(str, worker_fds)], worker_fds,
            worker_out_w)
        cleanup.callback(kill, worker_process)
        # Only the sandboxes hold these now, so they close when the sandboxes die.
        fds.close(*judge_fds, *worker_fds, judge_out_w, worker_out_w)
        # The token ends the run: the judge has nothing left to say after it.
        worker, judge = Stream(worker_out_r, False), Stream(judge_out_r, False)
        result = Stream(result_r, True, enough=len(token))
        reading = read_all([worker, judge, result], start + limits.seconds,
                           limits.output_kb * 1024)
        kill(judge_process)
        kill(worker_process)
        drain(worker)  # what they wrote before they died
        drain(judge)
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
