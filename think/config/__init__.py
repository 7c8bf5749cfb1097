"""Configuration: profiles and the model registry, as strict YAML validated with errors
naming file, line and field, and the user's saved defaults.

The package is the interface: callers import from `think.config`; `schema` holds the
shapes, `loader` the reading and its messages, `profiles`, `registry` and `settings` the
three kinds of file.
"""

from think.config.profiles import load_profile, load_profile_file, profile_dirs, profile_files
from think.config.registry import load_registry
from think.config.schema import (
    DEFAULT_AUTO_STEPS,
    DEFAULT_PROFILE,
    KV_SLACK,
    MAX_BATCH_WIDTH,
    AutoSettings,
    AutoStep,
    EarlyStop,
    LoadSettings,
    ModelEntry,
    Profile,
    Registry,
    ServerSettings,
    Speeds,
    Stage,
    StageSettings,
    Strict,
    VoteSettings,
    server_url,
)
from think.config.settings import active_profile_name, load_settings, save_setting

__all__ = [
    "DEFAULT_AUTO_STEPS", "DEFAULT_PROFILE", "KV_SLACK", "MAX_BATCH_WIDTH", "AutoSettings",
    "AutoStep", "EarlyStop", "LoadSettings", "ModelEntry", "Profile", "Registry",
    "ServerSettings", "Speeds", "Stage", "StageSettings", "Strict", "VoteSettings",
    "active_profile_name",
    "load_profile", "load_profile_file", "load_registry", "load_settings", "profile_dirs",
    "profile_files", "save_setting", "server_url",
]
