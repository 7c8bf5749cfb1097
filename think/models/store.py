"""`think models`: what is registered and installed (and in which store), pulling into the
Hugging Face cache, adding and removing models."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from think import paths
from think.config import ModelEntry, load_registry, load_settings, save_setting
from think.config.loader import write_yaml
from think.config.registry import user_models_data
from think.config.schema import MIN_CONTEXT
from think.errors import UsageError, unknown_name
from think.models.caches import find
from think.models.download import ByteProgress
from think.models.hub import HubFile
from think.models.hub_names import checked_repo
from think.models.hub_pull import forget, pull_to_cache
from think.models.named_pull import hub_file, pull_named
from think.models.names import HubName
from think.models.resolve import downloaded_copy, entry_path
from think.numbers import shown, whole_number

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"


def _user_data() -> dict[str, Any]:
    path = paths.user_models_file()
    if not path.is_file():
        return {"models": {}}
    # Shape-checked as the registry reads it: a change is never made to a list or a string.
    return user_models_data(path)


def _save_user_data(data: dict[str, Any]) -> Path:
    return write_yaml(paths.user_models_file(), data, sort_keys=False)


def lookup(name: str) -> ModelEntry:
    registry = load_registry()
    if name not in registry.models:
        raise unknown_name("model", name, registry.models, "see `think models list`")
    return registry.models[name]


def pull(name: str, progress: ByteProgress,
         on_wait: Callable[[], None] | None = None) -> tuple[Path, str, str]:
    """Make a registry model's file available; returns its path, SHA-256 (when downloaded)
    and where it is (hf-cache, lm-studio, ollama, think).

    A file another tool already has is used as it is. Otherwise it is downloaded into the
    Hugging Face cache; a second pull of the same model waits for the first and then finds
    the file there, instead of appending to the same partial file.
    """
    registry = load_registry()
    if name not in registry.models:
        return pull_named(name, progress, on_wait)
    entry = registry.models[name]
    if entry.package or entry.path or not entry.repo:
        path = entry_path(name, entry)  # assembled, the user's own file, or Ollama's
        return path, "", "path" if entry.path else "ollama" if entry.ollama else "think"
    found = downloaded_copy(name, entry)
    if found:
        return found.path, "", found.source
    file = entry.file or hub_file(HubName(checked_repo(entry.repo)), entry.revision)
    path, info = pull_to_cache(entry.repo, file, entry.revision, entry.sha256, progress,
                               on_wait)
    _pin(name, entry, info)
    return path, info.sha256 or entry.sha256 or "", "hf-cache"


def _pin(name: str, entry: ModelEntry, info: HubFile) -> None:
    """Keep the revision (and hash) resolved now in the user's models.yaml, so a later pull
    fetches the same file; fields the user wrote are kept as they are."""
    if entry.revision and (entry.sha256 or not info.sha256):
        return
    data = _user_data()
    mine = data["models"].get(name)
    if not isinstance(mine, dict):
        mine = {}  # only the pin: the rest still comes from the shipped entry (layered)
    mine.setdefault("revision", info.commit)
    if info.sha256:
        mine.setdefault("sha256", info.sha256)
    data["models"][name] = mine
    _save_user_data(data)


def add(name: str, file: Path, format: str | None, metadata: dict[str, str]) -> Path:
    """Register a local GGUF file under a name in the user's models.yaml."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise UsageError(f"model name '{name}' has unusual characters",
                         "use letters, digits, '.', '_' and '-'")
    context = _context_of(file, metadata)
    has_template = bool(metadata.get("tokenizer.chat_template"))
    entry = {"description": metadata.get("general.name", file.stem), "path": str(file.resolve()),
             "format": format or ("chat" if has_template else "base"), "context": context}
    ModelEntry.model_validate(entry)
    data = _user_data()
    data["models"][name] = entry
    return _save_user_data(data)


def _context_of(file: Path, metadata: dict[str, str]) -> int:
    """The context length a GGUF file states, if think can run a model that short."""
    arch = metadata.get("general.architecture", "")
    stated = metadata.get(f"{arch}.context_length") or "4096"
    context = whole_number(stated)
    if context is None or context < MIN_CONTEXT:
        raise UsageError(f"{file} states a context of {shown(stated)} tokens; think needs a "
                         f"model of at least {MIN_CONTEXT}", "choose another GGUF file")
    return context


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
        # In the Hugging Face cache, only the revision a pull pinned: other revisions, and
        # LM Studio's and Ollama's files, were put there by the user's other tools.
        if entry.revision:
            done += [f"deleted {gone}" for gone in forget(entry.repo, entry.file, entry.revision)]
        left = find(name, entry)
        if left:
            done.append(f"kept {left.path} ({left.source}: another tool's copy)")
    if load_settings().get("model") == name:
        save_setting("model", None)
        done.append(f"'{name}' is no longer the default model")
    if not done:
        raise UsageError(f"model '{name}' has nothing to remove",
                         "shipped packaged models are removed with pip")
    return done
