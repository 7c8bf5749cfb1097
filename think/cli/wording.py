"""How the command line words a library error: options as flags (`--max-seconds`, where the
Python API says `max_seconds`), and a fix that does not fit as the profile field to edit."""

from __future__ import annotations

from think.errors import DoesNotFit, ThinkError

FIT_HINTS = {"cells": "raise load.n_ctx in the profile or lower the budget",
             "memory": "lower the budget or the profile's batch_width"}


def one_line(exc: ThinkError) -> str:
    """The error as the command line prints it."""
    message, hint = exc.for_cli()
    if isinstance(exc, DoesNotFit):
        hint = FIT_HINTS.get(exc.limit, hint)
    return f"Error: {message} ({hint})" if hint else f"Error: {message}"
