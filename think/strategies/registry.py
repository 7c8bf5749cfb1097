"""Strategies by name, from the `think.strategies` entry-point group (read by think.plugins).

think's own strategies are registered there in its pyproject.toml exactly as a third-party
package registers its own, so a new strategy is a module and an entry point, never an edit
here. The checked lookup lives with the stage settings (think.config.stage), so reading a
profile needs nothing of this package.
"""

from __future__ import annotations

from typing import Any

from think import plugins
from think.config import StageSettings, stage
from think.config.stage import settings_for
from think.errors import ConfigError
from think.planning.budget import Plan
from think.result import VoteSummary
from think.strategies.base import Described, Strategy, plan_parts

GROUP = plugins.STRATEGIES
REINSTALL = plugins.REINSTALL
__all__ = ["GROUP", "REINSTALL", "before_load", "describe", "forget", "get", "names", "picked",
           "settings_for", "words_for"]
DEFAULTS = Described()


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


def describe(plan: Plan) -> str:
    """What a plan buys, in the words of its strategy (its `describe`, else the defaults')."""
    try:
        found = get(plan.strategy)
    except ConfigError:
        return DEFAULTS.describe(plan)
    own = getattr(found, "describe", None)  # optional: a strategy may leave it out
    return own(plan) if callable(own) else ", ".join(plan_parts(plan, found.words))


def picked(plan: Plan, vote: VoteSummary) -> str:
    """How a finished run names the sample its vote picked, in its strategy's words."""
    try:
        own = getattr(get(plan.strategy), "picked", None)  # optional, as describe
    except ConfigError:
        own = None
    return own(vote) if callable(own) else DEFAULTS.picked(vote)


def before_load(stage: StageSettings, **facts: str) -> None:
    """The stage's strategy's checks of a solve before any model loads (its optional
    `before_load`: a program stage refuses where no sandbox runs programs)."""
    check = getattr(get(stage.strategy), "before_load", None)
    if callable(check):
        check(stage, **facts)


def forget() -> None:
    """Read the entry points afresh next time (a package was installed or removed)."""
    plugins.forget()
    stage.strategy.cache_clear()
