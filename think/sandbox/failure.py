"""Inside the sandbox: a failure shown as a reader needs it, from the program's own frames
(the harness's frames say nothing to the model that reads the critique). Standard library
only; imported only when something failed."""

from __future__ import annotations

import linecache
import os
import sys
import traceback

HARNESS = os.path.dirname(os.path.abspath(__file__))


def show(exc: BaseException, source: str, filename: str) -> None:
    """Print `exc` with the frames outside the harness; `source` came through a pipe."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    own = [frame for frame in traceback.extract_tb(exc.__traceback__)
           if os.path.dirname(os.path.abspath(frame.filename)) != HARNESS]
    print("Traceback (most recent call last):\n", *traceback.format_list(own),
          *traceback.format_exception_only(type(exc), exc), sep="", end="", file=sys.stderr)
