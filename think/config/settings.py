"""The user's defaults (`think profiles use`, `think models use`) in settings.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from think import paths
from think.config.loader import read_yaml, write_yaml
from think.config.schema import DEFAULT_PROFILE
from think.errors import ConfigError


def load_settings() -> dict[str, str]:
    """The user's defaults (`think profiles use`, `think models use`): profile and model;
    and `logs: off` (`think logs off`)."""
    path = paths.settings_file()
    if not path.exists():
        return {}
    data = read_yaml(path) or {}
    if not isinstance(data, dict) or set(data) - {"profile", "model", "logs"}:
        raise ConfigError(f"{path}: expected only 'profile', 'model' and 'logs'",
                          "fix or delete the file")
    return {key: str(value) for key, value in data.items() if value}


def save_setting(key: str, value: str | None) -> Path:
    """Set (or, with None, clear) one default in the user's settings file."""
    path = paths.settings_file()
    settings = {**load_settings(), key: value}
    settings = {name: chosen for name, chosen in settings.items() if chosen}
    return write_yaml(path, settings)


def active_profile_name(explicit: str | None = None) -> str:
    """--profile, else THINK_PROFILE, else the user's `profiles use` choice, else default."""
    return (explicit or os.environ.get("THINK_PROFILE") or load_settings().get("profile")
            or DEFAULT_PROFILE)
