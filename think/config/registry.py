"""The model registry: the shipped models.yaml with the user's entries layered on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from think import paths
from think.config.loader import read_yaml, validate
from think.config.schema import Registry
from think.errors import ConfigError


def load_registry() -> Registry:
    """The shipped models.yaml with the user's models.yaml entries layered on top."""
    shipped_file = paths.shipped("models.yaml")
    registry = validate(Registry, shipped_file, read_yaml(shipped_file))
    user_file = paths.user_models_file()
    if user_file.exists():
        data = user_models_data(user_file)
        merged = {
            "default": data.get("default", registry.default),
            "models": layered(registry.model_dump()["models"], data["models"]),
        }
        extra = set(data) - {"default", "models"}
        if extra:
            raise ConfigError(f"{user_file}: unknown field '{sorted(extra)[0]}'",
                              "allowed: default, models")
        registry = validate(Registry, user_file, merged)
    if registry.default not in registry.models:
        raise ConfigError(f"models.yaml: default model '{registry.default}' is not listed",
                          "name one of the models under 'models'")
    return registry


def user_models_data(path: Path) -> dict[str, Any]:
    """The user's models.yaml as read, once it has the shape a change can be made to: a
    mapping whose `models` maps names to entries (an empty file or `models:` is none yet).
    The entries themselves are validated with the registry."""
    data = read_yaml(path)
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level, not a "
                          f"{type(data).__name__}", "see the shipped models.yaml for the format")
    models = data.get("models")
    if models is not None and not isinstance(models, dict):
        raise ConfigError(f"{path}: field 'models' must map names to entries, not be a "
                          f"{type(models).__name__}", "write 'models:' then one "
                          "'name: {path: ...}' entry per line, as in the shipped models.yaml")
    return {**data, "models": models or {}}


SOURCES = {"path", "package", "repo", "file", "base_url"}


def layered(shipped: dict[str, Any], mine: dict[str, Any]) -> dict[str, Any]:
    """The user's entries over the shipped ones. An entry that names a source replaces the
    shipped entry of its name; one that names none (a pinned revision, its own sampling)
    changes only the fields it gives, so later releases' fixes to the rest still arrive."""
    merged = dict(shipped)
    for name, entry in mine.items():
        if isinstance(entry, dict) and name in shipped and not SOURCES & entry.keys():
            entry = {**shipped[name], **entry}
        merged[name] = entry
    return merged
