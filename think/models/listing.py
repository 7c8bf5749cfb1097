"""`think models list`: the registry's models, and every GGUF model other tools downloaded
(the Hugging Face cache, LM Studio, Ollama) under the name `-m` takes for it, each with
where it is, its size, quantization, context and whether it is a chat or a base model.

Listing writes nothing: the embedded model is reported as assembled or not, never
assembled here, and a file's facts are read from its header.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from think import paths
from think.config import ModelEntry, load_registry
from think.config.registry import user_models_data
from think.errors import ModelError
from think.gguf.info import read_info
from think.models.caches import Found
from think.models.local import all_models
from think.models.names import quant_of
from think.models.packaged import packaged_target
from think.models.resolve import downloaded_copy

MB = 1_000_000


@dataclass(frozen=True)
class ModelRow:
    """One line of `think models list`."""

    name: str
    installed: bool
    path: Path | None
    source: str | None  # hf-cache, lm-studio, ollama, think (the embedded one too), or path
    registered: bool  # named in models.yaml (shipped or the user's)
    is_default: bool = False
    user: bool = False
    size_mb: int | None = None
    quant: str | None = None
    context: int | None = None
    format: str | None = None  # chat or base
    chat_template: str | None = None  # chat: its template's family
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.is_default, "installed": self.installed,
                "registered": self.registered, "source": self.source,
                "path": str(self.path) if self.path else None, "size_mb": self.size_mb,
                "quant": self.quant, "context": self.context, "format": self.format,
                "chat_template": self.chat_template, "description": self.description,
                "user": self.user}


def list_models() -> list[ModelRow]:
    """The registry's models first, then every other GGUF model found on this machine."""
    registry = load_registry()
    user_file = paths.user_models_file()
    user = set(user_models_data(user_file)["models"]) if user_file.is_file() else set()
    rows = [_registry_row(name, entry, name == registry.default, name in user)
            for name, entry in registry.models.items() if not entry.base_url]
    listed = {os.path.realpath(row.path) for row in rows if row.path}
    for model in all_models():
        if os.path.realpath(model.path) not in listed:
            listed.add(os.path.realpath(model.path))
            rows.append(_file_row(model.name, model.path, model.source))
    return rows


def known_file(name: str, entry: ModelEntry) -> Found | None:
    """Where a registry model's file is, without assembling or downloading anything."""
    if entry.path:
        path = Path(entry.path).expanduser()
        return Found(path, "path") if path.is_file() else None
    if entry.package:
        try:
            target, assembled = packaged_target(entry.package)
        except ModelError:
            return None
        return Found(target, "think") if assembled else None
    try:
        return downloaded_copy(name, entry)
    except ModelError:  # several files of its repo there and none chosen: not one model
        return None


def _registry_row(name: str, entry: ModelEntry, default: bool, user: bool) -> ModelRow:
    found = known_file(name, entry)
    row = ModelRow(name, found is not None or bool(entry.package), found.path if found else None,
                   found.source if found else ("think" if entry.package else None),
                   True, default, user, entry.size_mb,
                   quant_of(entry.file) if entry.file else None, entry.context, entry.format,
                   None, entry.description)
    return _with_file_facts(row, entry.model_fields_set) if found else row


def _file_row(name: str, path: Path, source: str) -> ModelRow:
    return _with_file_facts(ModelRow(name, True, path, source, False), set())


def _with_file_facts(row: ModelRow, told: set[str]) -> ModelRow:
    """The row with what its file says: what models.yaml states is kept."""
    assert row.path is not None
    info = read_info(row.path)
    if info is None:
        return row
    return replace(row, size_mb=round(info.size / MB), quant=info.quant or row.quant,
                   context=row.context if "context" in told else info.context or row.context,
                   format=row.format if "format" in told else info.format,
                   chat_template=info.template)
