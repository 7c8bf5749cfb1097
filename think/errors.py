"""The one error path: every failure a user can cause or meet is a ThinkError with a fix."""

from __future__ import annotations


class ThinkError(Exception):
    """A runtime failure the user can act on; the CLI prints it on one line and exits 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ThinkError):
    """Bad input on the command line (exit 2)."""

    exit_code = 2


class ConfigError(ThinkError):
    """A profile or models.yaml entry that is missing, malformed or out of range."""


class ModelError(ThinkError):
    """A model that cannot be found, read or loaded."""


class Interrupted(ThinkError):
    """Ctrl-C during a run; carries the best answer so far, if any (exit 130)."""

    exit_code = 130

    def __init__(self, best_answer: str | None) -> None:
        super().__init__("interrupted")
        self.best_answer = best_answer
