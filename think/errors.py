"""The one error path: every failure a user can cause or meet is a ThinkError with a fix.

An error that names one of the caller's options marks it with `option()`, so that the Python
API names its parameter (`max_seconds`) and the command line its flag (`--max-seconds`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

OPTION = re.compile("\x01([^\x01\x02|]+)\\|?([^\x01\x02]*)\x02")


def option(param: str, flag: str | None = None) -> str:
    """An option named in an error's text: `param` to Python callers, `flag` (by default
    --param with dashes) on the command line."""
    return f"\x01{param}|{flag or '--' + param.replace('_', '-')}\x02"


def worded(text: str, for_cli: bool = False) -> str:
    """An error's text with its options named for the Python API or for the command line."""
    return OPTION.sub(lambda m: m[2] if for_cli else m[1], text)


class ThinkError(Exception):
    """A runtime failure the user can act on; the CLI prints it on one line and exits 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(worded(message))
        self.text, self.hint_text = message, hint

    @property
    def message(self) -> str:
        return worded(self.text)

    @property
    def hint(self) -> str | None:
        return worded(self.hint_text) if self.hint_text is not None else None

    def for_cli(self) -> tuple[str, str | None]:
        """The message and the hint as the command line words them."""
        hint = worded(self.hint_text, for_cli=True) if self.hint_text is not None else None
        return worded(self.text, for_cli=True), hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ThinkError):
    """Bad input on the command line (exit 2)."""

    exit_code = 2


def unknown_name(kind: str, name: str, known: Iterable[str], fix: str) -> UsageError:
    """A name that is none of `known` (a model, a profile): the known names closest to it
    where some are (a typo is the likely cause), else `fix`, where to look; never a list
    of every known name, which buries the one that was meant."""
    import difflib

    by_folded: dict[str, str] = {}
    for each in sorted(known):
        by_folded.setdefault(each.casefold(), each)
    folded = name.casefold()
    # A name cut short ("qwen2.5-1.5b") means the names it starts; then the look-alikes.
    close = [each for each in by_folded if each.startswith(folded)] if folded else []
    close += difflib.get_close_matches(folded, list(by_folded), n=3)
    picked = [by_folded[each] for each in dict.fromkeys(close)][:3]
    if not picked:
        return UsageError(f"unknown {kind} '{name}'", fix)
    listed = picked[0] if len(picked) == 1 else f"{', '.join(picked[:-1])} or {picked[-1]}"
    return UsageError(f"unknown {kind} '{name}'; did you mean {listed}?")


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


class DoesNotFit(ThinkError):
    """A request larger than the engine can hold. `limit` names what it outgrew: "context"
    (the model's context), "cells" (the KV cells the engine was allowed) or "memory" (what
    llama.cpp could allocate). The command line words the fix in profile fields."""

    HINTS = {"context": "shorten the question or lower the budget",
             "cells": "allow the engine more KV cells (its n_ctx) or lower the budget",
             "memory": "lower the budget or the batch width"}

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message, self.HINTS[limit])
        self.limit = limit

