"""Strategies by name, from the `think.strategies` entry-point group (read by think.plugins).

think's own strategies are registered there in its pyproject.toml exactly as a third-party
package registers its own, so a new strategy is a module and an entry point, never an edit
here. The checked lookup lives with the stage settings (think.config.stage), so reading a
profile needs nothing of this package.
"""

from __future__ import annotations

from typing import Any

from think import plugins
from think.config import stage
from think.config.stage import settings_for
from think.errors import ConfigError
from think.strategies.base import Strategy

GROUP = plugins.STRATEGIES
REINSTALL = plugins.REINSTALL
__all__ = ["GROUP", "REINSTALL", "forget", "get", "names", "settings_for", "words_for"]


def names() -> list[str]:
    """The names a profile stage may use as its strategy."""
    return plugins.names(GROUP)


def get(name: str) -> Strategy[Any]:
    """The strategy registered as `name`; a ConfigError names an unknown one and the known."""
    return stage.strategy(name)  # type: ignore[no-any-return]


def words_for(name: str) -> str:
    """How a plan's strategy is described; its own name when no strategy is registered under
    it (a plan from --budget auto, or one read back from a file)."""
    try:
        return get(name).words
    except ConfigError:
        return name


def forget() -> None:
    """Read the entry points afresh next time (a package was installed or removed)."""
    plugins.forget()
    stage.strategy.cache_clear()
