"""`think models`: what is registered and installed, pulling, adding and removing models."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from think import paths
from think.config import ModelEntry, load_registry, load_settings, save_setting
from think.config.loader import write_yaml
from think.errors import ConfigError, ModelError, UsageError
from think.models.download import ByteProgress, download, ensure_folder, hub_url
from think.models.resolve import entry_path
from think.shared_files import exclusive

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"


@dataclass(frozen=True)
class ModelRow:
    """One line of `think models list`."""

    name: str
    entry: ModelEntry
    installed: bool
    path: Path | None
    is_default: bool
    user: bool


def _user_data() -> dict[str, Any]:
    path = paths.user_models_file()
    if not path.is_file():
        return {"models": {}}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", "fix or move the file") from None
    data.setdefault("models", {})
    return data


def _save_user_data(data: dict[str, Any]) -> Path:
    return write_yaml(paths.user_models_file(), data, sort_keys=False)


def known_file(name: str, entry: ModelEntry) -> Path | None:
    """The model's file if it is on disk (packaged models count once assembled or installed)."""
    try:
        return entry_path(name, entry)
    except ModelError:
        return None


def list_models() -> list[ModelRow]:
    registry = load_registry()
    user = set(_user_data()["models"])
    rows = []
    for name, entry in registry.models.items():
        path = known_file(name, entry)
        rows.append(ModelRow(name, entry, path is not None, path, name == registry.default,
                             name in user))
    return rows


def lookup(name: str) -> ModelEntry:
    registry = load_registry()
    if name not in registry.models:
        raise UsageError(f"unknown model '{name}'",
                         f"known models: {', '.join(sorted(registry.models))}")
    return registry.models[name]


def pull(name: str, progress: ByteProgress,
         on_wait: Callable[[], None] | None = None) -> tuple[Path, str]:
    """Download a registry model into the models directory; returns its path and SHA-256.

    A second pull of the same model waits for the first (on_wait says so) and then finds the
    file there, instead of appending to the same partial file.
    """
    entry = lookup(name)
    if entry.package or entry.path:
        path = entry_path(name, entry)
        return path, ""
    assert entry.repo and entry.file
    target = paths.models_dir() / entry.file
    if target.is_file():
        return target, ""
    ensure_folder(target.parent)  # the lock file lives beside the model
    with exclusive(target, on_wait):
        if target.is_file():
            return target, ""
        digest = download(hub_url(entry.repo, entry.file), target, entry.sha256, progress)
    if not entry.sha256:
        # No published hash: pin the one seen now, so a later download must match it.
        data = _user_data()
        data["models"][name] = {**entry.model_dump(exclude_none=True), "sha256": digest}
        _save_user_data(data)
    return target, digest


def add(name: str, file: Path, format: str | None, metadata: dict[str, str]) -> Path:
    """Register a local GGUF file under a name in the user's models.yaml."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise UsageError(f"model name '{name}' has unusual characters",
                         "use letters, digits, '.', '_' and '-'")
    arch = metadata.get("general.architecture", "")
    context = int(metadata.get(f"{arch}.context_length", "4096") or 4096)
    has_template = bool(metadata.get("tokenizer.chat_template"))
    entry = {"description": metadata.get("general.name", file.stem), "path": str(file.resolve()),
             "format": format or ("chat" if has_template else "base"), "context": context}
    ModelEntry.model_validate(entry)
    data = _user_data()
    data["models"][name] = entry
    return _save_user_data(data)


def remove(name: str) -> list[str]:
    """Forget a user entry and delete a downloaded file; never a file the user registered."""
    entry = lookup(name)
    done = []
    data = _user_data()
    if name in data["models"]:
        del data["models"][name]
        if data.get("default") == name:
            del data["default"]
        _save_user_data(data)
        done.append(f"removed '{name}' from {paths.user_models_file()}")
    if entry.repo and entry.file and not entry.path:
        path = paths.models_dir() / entry.file
        for stale in (path, *(path.with_name(path.name + end) for end in (".partial", ".lock"))):
            if stale.exists():
                stale.unlink()
                done.append(f"deleted {stale}")
    if load_settings().get("model") == name:
        save_setting("model", None)
        done.append(f"'{name}' is no longer the default model")
    if not done:
        raise UsageError(f"model '{name}' has nothing to remove",
                         "shipped packaged models are removed with pip")
    return done
