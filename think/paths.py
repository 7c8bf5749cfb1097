"""Where think keeps its files: config, cache and data directories, and the shipped data.

THINK_HOME, when set, replaces all three user directories (tests point it at a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "think"
PACKAGE_DIR = Path(__file__).resolve().parent


def _user_dir(kind: str) -> Path:
    home = os.environ.get("THINK_HOME")
    if home:
        return Path(home) / kind
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


def user_profiles_dir() -> Path:
    return config_dir() / "profiles"


def settings_file() -> Path:
    return config_dir() / "settings.yaml"


def user_models_file() -> Path:
    return config_dir() / "models.yaml"


def shipped(name: str) -> Path:
    """A file shipped with think: inside the installed package, or at the checkout's top."""
    inside = PACKAGE_DIR / name
    return inside if inside.exists() else PACKAGE_DIR.parent / name
