"""Plugins by group and name, from entry points: the one module that reads them.

think's own strategies, engines and vote rules are registered in its pyproject.toml exactly
as a third-party package registers its own, so a new one is a module and an entry point,
never an edit to a central `if`. Entry points are read the first time a group is asked for
(never at start-up, so `think --help` stays fast), and each plugin is imported only when
first asked for: a broken plugin breaks only what uses it. A leaf: it imports nothing of
think but the errors, so every layer may ask it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from think.errors import ConfigError

STRATEGIES = "think.strategies"
ENGINES = "think.engines"
VOTE_RULES = "think.vote_rules"
# The word for one plugin of a group, as the errors name it.
KINDS = {STRATEGIES: "strategy", ENGINES: "engine", VOTE_RULES: "vote rule"}
PLURALS = {STRATEGIES: "strategies", ENGINES: "engines", VOTE_RULES: "vote rules"}
REINSTALL = "reinstall think (pip install -e .) so its entry points are written"
# think's own entry points of the groups added after 0.1: an install whose metadata was
# written before them still finds its built-ins (pyproject.toml registers the same).
BUILT_INS = {ENGINES: {"llama": "think.engine.builtin:llama",
                       "remote": "think.engine.builtin:remote"},
             VOTE_RULES: {"majority": "think.strategies.confidence:majority",
                          "cisc": "think.strategies.confidence:cisc",
                          "deepconf": "think.strategies.confidence:deepconf",
                          "usc": "think.strategies.usc:rule"}}


@cache
def points(group: str) -> dict[str, EntryPoint]:
    """The registered names of a group and where each lives, read once per process."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        other = found.get(point.name)
        # An editable install beside an old one lists the same entry point twice: harmless.
        if other is not None and other.value != point.value:
            raise ConfigError(f"{KINDS.get(group, group)} '{point.name}' is registered twice "
                              f"({other.value} and {point.value})",
                              "uninstall one of the packages")
        found[point.name] = point
    for name, value in BUILT_INS.get(group, {}).items():
        found.setdefault(name, EntryPoint(name, value, group))
    return found


def names(group: str) -> list[str]:
    """The names registered in a group."""
    return sorted(points(group))


@cache
def load(group: str, name: str) -> object:
    """The object registered as `name`; a ConfigError names an unknown one and the known."""
    kind = KINDS.get(group, group)
    point = points(group).get(name)
    if point is None:
        known = ", ".join(names(group))
        raise ConfigError(f"unknown {kind} '{name}'",
                          f"known {PLURALS.get(group, group)}: {known}" if known else REINSTALL)
    try:
        return point.load()
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin's import is reported
        raise ConfigError(f"{kind} '{name}' ({point.value}) failed to load: {exc}",
                          "fix or uninstall the package that provides it") from None


def value_of(group: str, name: str) -> str:
    """Where an entry point points (module:attribute), for messages."""
    point = points(group).get(name)
    return point.value if point is not None else name


def forget() -> None:
    """Read the entry points afresh next time (a package was installed or removed)."""
    points.cache_clear()
    load.cache_clear()
