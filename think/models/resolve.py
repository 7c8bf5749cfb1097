"""Model resolution: a models.yaml name or a .gguf path -> a file on disk and how to prompt it.

Registry models live in the models directory (THINK_MODELS_DIR, else the data directory's
models/); the embedded default is assembled there from its package on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from think import paths
from think.config import ModelEntry, ServerSettings, load_registry, load_settings, server_url
from think.errors import ModelError, UsageError
from think.models.packaged import assemble_packaged


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model: its name, file, prompt format and usable context."""

    name: str
    path: Path
    format: str
    context: int
    chat_template: str | None = None
    server: ServerSettings | None = None  # decoded by an OpenAI-compatible server


def looks_like_path(value: str) -> bool:
    return value.endswith(".gguf") or os.sep in value or value.startswith(".")


def resolve(name_or_path: str | None = None, locate: bool = True) -> ModelSpec:
    """Find a model by registry name, or take a .gguf path as it is.

    With locate=False the file is not looked for (planning needs only format and context).
    """
    choice = (name_or_path or os.environ.get("THINK_MODEL") or load_settings().get("model")
              or None)
    if choice and looks_like_path(choice):
        path = Path(choice).expanduser()
        if not path.is_file():
            raise UsageError(f"model file not found: {path}", "give an existing .gguf file")
        return ModelSpec(name=path.name, path=path, format=guess_format(path), context=32768)
    registry = load_registry()
    name = choice or registry.default
    if name not in registry.models:
        known = ", ".join(sorted(registry.models))
        raise UsageError(f"unknown model '{name}'", f"known models: {known}; or give a .gguf path")
    entry = registry.models[name]
    if entry.base_url:
        server = ServerSettings(url=entry.base_url, model=entry.served_name or name,
                              format=entry.format)
        return ModelSpec(name=name, path=Path(name), format=entry.format,
                         context=entry.context, server=server)
    path = entry_path(name, entry) if locate else Path(entry.file or entry.path or name)
    return ModelSpec(name=name, path=path, format=entry.format, context=entry.context,
                     chat_template=entry.chat_template)


def entry_path(name: str, entry: ModelEntry) -> Path:
    """The file of a registry entry, assembling a packaged model on first use."""
    if entry.path:
        path = Path(entry.path).expanduser()
        if not path.is_file():
            raise ModelError(f"model '{name}' points at a missing file: {path}",
                             "fix its path in models.yaml")
        return path
    if entry.package:
        return assemble_packaged(entry.package)
    path = paths.models_dir() / (entry.file or name)
    if not path.is_file():
        raise ModelError(f"model '{name}' is not downloaded",
                         f"download {entry.repo}/{entry.file} into {paths.models_dir()}")
    return path


def on_server(url: str, name: str | None, base: ServerSettings | None = None) -> ModelSpec:
    """A model decoded by the server at url: registry format and context when it is known."""
    try:
        server_url(url)
    except ValueError as exc:
        raise UsageError(f"--engine {exc}", "give the server's address, "
                         "e.g. http://127.0.0.1:8080") from None
    registry = load_registry()
    entry = registry.models.get(name or "")
    chat = entry.format if entry else (guess_format(Path(name)) if name else "chat")
    settings = (base or ServerSettings(url=url)).model_copy(
        update={"url": url, "model": (entry.served_name if entry else None) or name or "",
                "format": chat})
    return ModelSpec(name=name or "server", path=Path(name or "server"), format=chat,
                     context=entry.context if entry else 32768, server=settings)


def guess_format(path: Path) -> str:
    """Chat for files whose name says instruct/chat/it, else base."""
    stem = path.stem.lower()
    chat_marks = ("instruct", "chat", "-it", "_it", "r1-distill")
    return "chat" if any(mark in stem for mark in chat_marks) else "base"
