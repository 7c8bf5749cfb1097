"""What one sandboxed run may use, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one run may use; each of its two processes gets the per-process limits."""

    seconds: float = 5.0  # wall time of the whole run
    memory_mb: int = 512  # address space per process
    processes: int = 16  # processes the candidate may have at once
    file_mb: int = 16  # largest file it may write
    tmp_mb: int = 64  # its private writable folder (a tmpfs under bwrap)
    output_kb: int = 1024  # output read before the run is killed; only the tail is kept


@dataclass(frozen=True)
class RunResult:
    """How a test run ended."""

    status: str  # passed, failed, timeout, memory, output, blocked
    output: str  # the tail of what the candidate printed, then the judge's (test failures)
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"
