"""The base of config models and of profile stages, and the strategies a stage may name.

A stage is validated by the settings model its strategy registers. The strategy is found
through the plugins module (entry points), never by importing think.strategies, so reading
configuration does not depend on the strategies; the strategies depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, field_validator

from think import plugins
from think.errors import ConfigError


class Strict(BaseModel):
    """Base for config models: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def variant_for(cls, data: Any) -> type[Strict]:
        """The model that validates `data` here: itself, unless it picks one by the data."""
        return cls


class Registered(Protocol):
    """What config reads of a strategy: its name and its stage settings model."""

    name: str
    settings: type[StageSettings]
    words: str


@cache
def strategy(name: str) -> Any:
    """The strategy registered as `name`, checked; a ConfigError names an unknown one."""
    found = plugins.load(plugins.STRATEGIES, name)
    settings = getattr(found, "settings", None)
    usable = (getattr(found, "name", None) == name and callable(getattr(found, "plan", None))
              and callable(getattr(found, "run", None))
              and isinstance(getattr(found, "words", None), str)
              and isinstance(settings, type) and issubclass(settings, StageSettings))
    if not usable:
        raise ConfigError(f"entry point '{name}' ({plugins.value_of(plugins.STRATEGIES, name)})"
                          f" is not a strategy named '{name}'", "it must name an object with "
                          "name, settings (a StageSettings model), words, plan and run")
    return found


def settings_for(name: str) -> type[StageSettings]:
    """The stage settings model of a strategy; StageSettings itself for one that is unknown or
    fails to load (its validation then says why)."""
    try:
        return strategy(name).settings  # type: ignore[no-any-return]
    except ConfigError:
        return StageSettings


def registered(lookup: Callable[[str], object], name: str) -> str:
    """`name`, if `lookup` finds it installed; else pydantic's error, in the registry's words
    (the installed names and the fix), for the profile's one-line error."""
    try:
        lookup(name)
    except ConfigError as error:
        raise ValueError(f"{error.message}; {error.hint}") from None
    return name


class StageSettings(Strict):
    """How a range of budgets is spent; applies from `from_budget` up to the next stage.

    Each strategy subclasses this with its own fields; a profile's stage is validated by the
    model its strategy registers."""

    from_budget: Annotated[int, Field(ge=1, le=100)]
    strategy: str

    @field_validator("strategy")
    @classmethod
    def _registered(cls, name: str) -> str:
        return registered(strategy, name)

    # What the planner reads of a stage; a strategy's settings model overrides those it sets.
    def sampled_at(self) -> float | None:
        """The samples' temperature the stage sets (None: greedy for one, else the profile's)."""
        return None

    def stop_threshold(self) -> float | None:
        """The early stop's threshold the stage sets (None: the profile's)."""
        return None

    def least_thinking(self) -> float:
        """The share of its cap a reasoning model thinks at least (0: as it likes)."""
        return 0.0

    @classmethod
    def variant_for(cls, data: Any) -> type[Strict]:
        """The settings model of the stage's strategy (itself for an unknown one)."""
        name = data.get("strategy") if isinstance(data, dict) else None
        return settings_for(name) if isinstance(name, str) else cls


def _by_strategy(value: Any) -> Any:
    """A stage mapping validated by its strategy's settings model; anything else is left to
    StageSettings, which names what is wrong (no mapping, no or an unknown strategy)."""
    model = StageSettings.variant_for(value)
    return model.model_validate(value) if model is not StageSettings else value


# SerializeAsAny: a dumped profile (think tune writes one) keeps each stage's own fields.
Stage = Annotated[SerializeAsAny[StageSettings], BeforeValidator(_by_strategy)]
