"""Inside the sandbox: a failure shown as a reader needs it, from the program's own frames
(the harness's and unittest's frames say nothing to the model that reads the critique).
Standard library only; imported only when something failed."""

from __future__ import annotations

import linecache
import os
import sys
import traceback

HARNESS = os.path.dirname(os.path.abspath(__file__))


def remember(source: str, filename: str) -> None:
    """Let tracebacks quote `source`, which came through a pipe, as `filename`."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def formatted(exc: BaseException) -> str:
    """`exc` with the frames outside the harness and unittest, as a traceback."""
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if os.path.dirname(os.path.abspath(frame.f_code.co_filename)) != HARNESS \
                and "__unittest" not in frame.f_globals:
            frames.append((frame, tb.tb_lineno))
        tb = tb.tb_next
    own = traceback.StackSummary.extract(frames)
    return "".join(["Traceback (most recent call last):\n", *own.format(),
                    *traceback.format_exception_only(type(exc), exc)])


def show(exc: BaseException, source: str, filename: str) -> None:
    """Print `exc` with the program's own frames; `source` came through a pipe."""
    remember(source, filename)
    print(formatted(exc), end="", file=sys.stderr)
