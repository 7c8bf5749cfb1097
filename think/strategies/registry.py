"""Strategies by name, from the `think.strategies` entry-point group.

think's own strategies are registered there in its pyproject.toml exactly as a third-party
package registers its own, so a new strategy is a module and an entry point, never an edit
here. Entry points are read the first time a profile is validated or a plan made (never at
start-up, so `think --help` stays fast), and each strategy is imported only when first asked
for: a broken plugin breaks only the profiles that use it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from think.config import StageSettings
from think.errors import ConfigError
from think.strategies.base import Strategy

GROUP = "think.strategies"
REINSTALL = "reinstall think (pip install -e .) so its entry points are written"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    """The registered strategy names and where each lives, read once per process."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        other = found.get(point.name)
        # An editable install beside an old one lists the same entry point twice: harmless.
        if other is not None and other.value != point.value:
            raise ConfigError(f"strategy '{point.name}' is registered twice ({other.value} and "
                              f"{point.value})", "uninstall one of the packages")
        found[point.name] = point
    return found


def names() -> list[str]:
    """The names a profile stage may use as its strategy."""
    return sorted(_entry_points())


@cache
def get(name: str) -> Strategy[Any]:
    """The strategy registered as `name`; a ConfigError names an unknown one and the known."""
    point = _entry_points().get(name)
    if point is None:
        known = ", ".join(names())
        raise ConfigError(f"unknown strategy '{name}'",
                          f"known strategies: {known}" if known else REINSTALL)
    try:
        strategy = point.load()
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin's import is reported
        raise ConfigError(f"strategy '{name}' ({point.value}) failed to load: {exc}",
                          "fix or uninstall the package that provides it") from None
    _check(name, point, strategy)
    return strategy  # type: ignore[no-any-return]


def _check(name: str, point: EntryPoint, strategy: object) -> None:
    """Refuse an entry point that names something other than a strategy for `name`."""
    settings = getattr(strategy, "settings", None)
    usable = (getattr(strategy, "name", None) == name and callable(getattr(strategy, "plan", None))
              and callable(getattr(strategy, "run", None))
              and isinstance(getattr(strategy, "words", None), str)
              and isinstance(settings, type) and issubclass(settings, StageSettings))
    if not usable:
        raise ConfigError(f"entry point '{name}' ({point.value}) is not a strategy named "
                          f"'{name}'", "it must name an object with name, settings (a "
                          "StageSettings model), words, plan and run")


def settings_for(name: str) -> type[StageSettings]:
    """The stage settings model of a strategy; StageSettings itself for one that is unknown or
    fails to load (its validation then says why)."""
    try:
        return get(name).settings
    except ConfigError:
        return StageSettings


def words_for(name: str) -> str:
    """How a plan's strategy is described; its own name when no strategy is registered under
    it (a plan from --budget auto, or one read back from a file)."""
    try:
        return get(name).words
    except ConfigError:
        return name


def forget() -> None:
    """Read the entry points afresh next time (a package was installed or removed)."""
    _entry_points.cache_clear()
    get.cache_clear()
