"""Where think keeps its files: config, cache and data directories, and the shipped data.

THINK_HOME, when set, replaces all three user directories (tests point it at a temp dir).
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import platformdirs

from think.errors import UsageError

APP_NAME = "think"


def folder_from_env(variable: str) -> Path | None:
    """The folder an environment variable names, or None when it is unset; refuses a
    path that is there but is not a folder, before anything tries to write inside it."""
    value = os.environ.get(variable)
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{variable}={value} is not a folder",
                         f"point {variable} at a folder, or unset it")
    return path


def _user_dir(kind: str) -> Path:
    home = folder_from_env("THINK_HOME")
    if home:
        return home / kind
    finder = {
        "config": platformdirs.user_config_dir,
        "cache": platformdirs.user_cache_dir,
        "data": platformdirs.user_data_dir,
    }[kind]
    return Path(finder(APP_NAME))


def config_dir() -> Path:
    """User configuration: profiles/ and models.yaml overrides."""
    return _user_dir("config")


def cache_dir() -> Path:
    """Disposable state such as prompt caches."""
    return _user_dir("cache")


def data_dir() -> Path:
    """Downloaded models and other kept data."""
    return _user_dir("data")


def models_dir() -> Path:
    """Registry models and the assembled embedded model (THINK_MODELS_DIR overrides)."""
    return folder_from_env("THINK_MODELS_DIR") or data_dir() / "models"


def user_profiles_dir() -> Path:
    return config_dir() / "profiles"


def settings_file() -> Path:
    return config_dir() / "settings.yaml"


def user_models_file() -> Path:
    return config_dir() / "models.yaml"


def shipped(name: str) -> Path:
    """A file or folder shipped inside the package (think/data): profiles, models.yaml."""
    return Path(str(importlib.resources.files("think") / "data" / name))
