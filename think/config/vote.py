"""A profile's `vote:` settings: the rule a vote counts by and that rule's knobs.

The rule is a plugin of the `think.vote_rules` entry-point group (think's own are registered
there too), found through the plugins module, so reading a profile needs nothing of the
strategies. Profiles written before the sub-model spelt it as six flat fields (`vote_rule`,
`deepconf_keep`, ...): they are read as aliases, and a profile is written back in them, so a
fitted or tuned profile stays readable by an older think and refits byte-identical.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from think import plugins
from think.config.stage import Strict, registered
from think.errors import ConfigError

# Each flat field of an older profile and the `vote:` field it stands for, in the order a
# profile is written.
FLAT = {"vote_rule": "rule", "deepconf_keep": "keep", "deepconf_by": "by",
        "cisc_temperature": "temperature", "deepconf_warmup": "warmup",
        "deepconf_window": "window"}

# What a vote rule has (strategies/vote_rule's Counting protocol), checked when it is loaded.
ATTRIBUTES = ("weighs", "asks_model", "knobs", "examples", "pick")
METHODS = ("count", "label", "parse", "reserve", "bound", "choose")


@cache
def vote_rule(name: str) -> Any:
    """The vote rule registered as `name`, checked; a ConfigError names an unknown one."""
    found = plugins.load(plugins.VOTE_RULES, name)
    usable = getattr(found, "name", None) == name and all(
        callable(getattr(found, method, None)) for method in METHODS) and all(
        hasattr(found, attribute) for attribute in ATTRIBUTES)
    if not usable:
        raise ConfigError(f"entry point '{name}' ({plugins.value_of(plugins.VOTE_RULES, name)})"
                          f" is not a vote rule named '{name}'", "it must name an object with "
                          f"{', '.join(ATTRIBUTES + METHODS)}: subclass "
                          "think.strategies.vote_rule.Rule for their defaults")
    return found


class VoteSettings(Strict):
    """How a vote counts (strategies/vote_rule): plain counts, CISC's confidence-weighted
    counts, DeepConf's (keep the most confident `keep` of the samples, then weigh), usc (the
    model names the most consistent candidate), or a plugin's rule."""

    rule: str = "majority"
    keep: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9
    # Which confidence DeepConf ranks samples by: their lowest window, or their last window.
    by: Literal["lowest", "tail"] = "lowest"
    temperature: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0  # CISC's softmax's
    # DeepConf online: this many vote samples are drawn whole; later ones stop where their
    # window confidence falls below the warm-up's (1 - keep) percentile. 0: off.
    warmup: Annotated[int, Field(ge=0, le=256)] = 0
    # Tokens in a sliding window of confidence (lowest-window, tail, the online stop); DeepConf
    # used 2048 on long traces, and a window longer than a sample is the whole sample.
    window: Annotated[int, Field(ge=4, le=8192)] = 64

    @field_validator("rule")
    @classmethod
    def _registered(cls, name: str) -> str:
        return registered(vote_rule, name)


def nested(data: Any) -> Any:
    """A profile mapping with its flat vote fields moved into `vote:` (both at once is an
    error, which pydantic reports on the flat field as an unknown key)."""
    if not isinstance(data, dict) or not any(key in data for key in FLAT):
        return data
    if "vote" in data:
        return data  # left as it is: the flat fields are then named as not allowed
    flat = {FLAT[key]: data[key] for key in FLAT if key in data}
    return {**{key: value for key, value in data.items() if key not in FLAT}, "vote": flat}


def flattened(dumped: dict[str, Any]) -> dict[str, Any]:
    """A dumped profile with `vote:` written as the flat fields, in its place."""
    out: dict[str, Any] = {}
    for key, value in dumped.items():
        if key == "vote" and isinstance(value, dict):
            out.update({flat: value[field] for flat, field in FLAT.items() if field in value})
        else:
            out[key] = value
    return out


def as_written(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """An error's location as the profile wrote it: `vote.rule` of a profile that wrote the
    flat `vote_rule` is named `vote_rule` (and found on its line)."""
    if len(loc) < 2 or loc[0] != "vote" or not isinstance(data, dict) or "vote" in data:
        return loc
    flat = next((key for key, field in FLAT.items() if field == loc[1]), None)
    return (flat, *loc[2:]) if flat in data else loc
