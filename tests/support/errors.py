"""Checks on what a refused command prints."""

from __future__ import annotations


def one_error_line(stderr: str) -> str:
    """The single `Error: ...` line a refused command prints (no traceback), to check its words."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]
