"""One test run's two sandboxes: the candidate program in one (the worker), its tests in the
other (the judge), joined by two pipes that carry plain data.

A pair starts before its run (a spare: the sandboxes and interpreters start while the model
decodes) and waits for the program, the tests and the token on pipes. A pass is the judge's
token, read back on a pipe only the judge holds; exit codes and printed text decide nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from contextlib import ExitStack

from think.sandbox.launch import Launcher, kill
from think.sandbox.limits import Limits, RunResult
from think.sandbox.output import Stream, drain, read_all
from think.sandbox.run_start import run_header


class Pipes:
    """The pipe ends that are open in think; each is closed once, whatever happens."""

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

    def send(self, fd: int, data: bytes) -> None:
        """All of `data`, then the end of it (a sandbox that died just takes nothing)."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            pass  # its output says why it died
        self.close(fd)


class Pair:
    """A judge and a worker, started and waiting for one run."""

    def __init__(self, mode: str, limits: Limits) -> None:
        self.mode, self.limits = mode, limits
        self.cleanup = ExitStack()
        try:
            self._start()
        except BaseException:
            self.cleanup.close()
            raise

    def _start(self) -> None:
        fds, cleanup = Pipes(), self.cleanup
        cleanup.callback(fds.close_all)
        folder = None
        if self.mode != "bwrap":  # bwrap's folders are tmpfs inside; the others need one
            folder = tempfile.mkdtemp(prefix="think-run-")
            cleanup.callback(shutil.rmtree, folder, True)
        launcher = self.launcher = Launcher(self.mode, self.limits, folder)
        cleanup.callback(launcher.close)
        tests_r, self.tests_w = fds.pipe()
        program_r, self.program_w = fds.pipe()
        token_r, self.token_w = fds.pipe()
        self.result_r, result_w = fds.pipe()
        to_worker_r, to_worker_w = fds.pipe()
        to_judge_r, to_judge_w = fds.pipe()
        self.judge_out, judge_out_w = fds.pipe()
        self.worker_out, worker_out_w = fds.pipe()
        judge_fds = (tests_r, token_r, result_w, to_judge_r, to_worker_w)
        self.judge = launcher.start("judge.py", [*map(str, judge_fds)], judge_fds, judge_out_w)
        cleanup.callback(kill, self.judge)
        worker_fds = (program_r, to_worker_r, to_judge_w)
        self.worker = launcher.start("worker.py", [*map(str, worker_fds)], worker_fds,
                                     worker_out_w)
        cleanup.callback(kill, self.worker)
        if not launcher.join_group(self.judge, self.worker):
            raise OSError("could not move a sandbox into its run's control group")
        # Only the sandboxes hold these now, so they close when the sandboxes die.
        fds.close(*judge_fds, *worker_fds, judge_out_w, worker_out_w)
        self.fds = fds

    def alive(self) -> bool:
        """Whether both sandboxes are still waiting (a spare may have been killed)."""
        return self.judge.poll() is None and self.worker.poll() is None

    def run(self, program: str, tests: str) -> RunResult:
        """Run `tests` against `program`; the pair is spent after it."""
        start = time.monotonic()
        token = secrets.token_hex(16).encode()
        with self.cleanup:
            header = run_header(self.launcher.run_process_limit())
            self.fds.send(self.program_w, header + program.encode())
            self.fds.send(self.tests_w, header + tests.encode())
            self.fds.send(self.token_w, token)
            # The token ends the run: the judge has nothing left to say after it.
            worker, judge = Stream(self.worker_out, False), Stream(self.judge_out, False)
            result = Stream(self.result_r, True, enough=len(token))
            reading = read_all([worker, judge, result], start + self.limits.seconds,
                               self.limits.output_kb * 1024)
            kill(self.judge)
            kill(self.worker)
            drain(worker)  # what they wrote before they died
            drain(judge)
            out_of_memory = self.launcher.out_of_memory()
        text = (bytes(worker.tail) + bytes(judge.tail)).decode("utf-8", "replace")
        status = verdict(reading.over, bytes(result.tail) == token, text, self.mode)
        if out_of_memory and status != "passed":
            status = "memory"  # the run's group was over its memory: the kernel killed it
        return RunResult(status, text[-2000:], time.monotonic() - start)

    def discard(self) -> None:
        self.cleanup.close()


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
