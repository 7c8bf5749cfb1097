"""Model resolution: a models.yaml name or a .gguf path -> a file on disk and how to prompt it.

A registry model's file is looked for where other tools keep theirs (the Hugging Face cache,
LM Studio, Ollama; see caches), then in think's models directory (THINK_MODELS_DIR, else the
data directory's models/); the embedded default is assembled there on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from think import paths
from think.config import ModelEntry, ServerSettings, load_registry, load_settings, server_url
from think.engine.rules import PLAIN, ModelRules
from think.engine.thinking import Reasoning
from think.errors import ModelError, UsageError, option, unknown_name
from think.models.caches import find
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
    rules: ModelRules = PLAIN  # its own prompting and sampling rules (models.yaml)


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
        raise unknown_name("model", name, registry.models,
                           "see `think models list`, or give a .gguf path")
    entry = registry.models[name]
    if entry.base_url:
        server = ServerSettings(url=entry.base_url, model=entry.served_name or name,
                              format=entry.format)
        return ModelSpec(name=name, path=Path(name), format=entry.format,
                         context=entry.context, server=server, rules=rules_of(entry))
    path = entry_path(name, entry) if locate else Path(entry.file or entry.path or name)
    return ModelSpec(name=name, path=path, format=entry.format, context=entry.context,
                     chat_template=entry.chat_template, rules=rules_of(entry))


def rules_of(entry: ModelEntry) -> ModelRules:
    """What the engine and the prompts need of a models.yaml entry."""
    thinks = entry.reasoning
    reasoning = None
    if thinks is not None:
        reasoning = Reasoning(thinks.start, thinks.end)
        if thinks.stop_message is not None:
            reasoning = replace(reasoning, stop_message=thinks.stop_message)
        if thinks.wait is not None:
            reasoning = replace(reasoning, wait=thinks.wait)
    sampling = entry.sampling
    return ModelRules(reasoning=reasoning, temperature=sampling.temperature,
                      top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p,
                      system_prompt=entry.system_prompt, answer_format=entry.answer_format,
                      template_kwargs=tuple(sorted(entry.template_kwargs.items())))


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
    found = find(name, entry)
    if found is None:
        raise ModelError(f"model '{name}' is not downloaded (looked in the Hugging Face cache, "
                         f"LM Studio, Ollama and {paths.models_dir()})",
                         f"think models pull {name}")
    return found.path


def on_server(url: str, name: str | None, base: ServerSettings | None = None) -> ModelSpec:
    """A model decoded by the server at url: registry format and context when it is known."""
    try:
        server_url(url)
    except ValueError as exc:
        raise UsageError(f"{option('server', '--engine')} {exc}", "give the server's address, "
                         "e.g. http://127.0.0.1:8080") from None
    registry = load_registry()
    entry = registry.models.get(name or "")
    chat = entry.format if entry else (guess_format(Path(name)) if name else "chat")
    settings = (base or ServerSettings(url=url)).model_copy(
        update={"url": url, "model": (entry.served_name if entry else None) or name or "",
                "format": chat})
    return ModelSpec(name=name or "server", path=Path(name or "server"), format=chat,
                     context=entry.context if entry else 32768, server=settings,
                     rules=rules_of(entry) if entry else PLAIN)


def guess_format(path: Path) -> str:
    """Chat for files whose name says instruct/chat/it, else base."""
    stem = path.stem.lower()
    chat_marks = ("instruct", "chat", "-it", "_it", "r1-distill")
    return "chat" if any(mark in stem for mark in chat_marks) else "base"
