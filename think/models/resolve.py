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
from think.config.schema import MIN_CONTEXT
from think.engine.rules import PLAIN, ModelRules
from think.engine.thinking import Reasoning
from think.errors import ModelError, UsageError, option, unknown_name
from think.gguf.info import read_info
from think.models.caches import Found, find, ollama_file
from think.models.hub_names import checked_repo
from think.models.local import hub_copy
from think.models.names import HubName, hub_name, ollama_name
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
    template: str | None = None  # its chat template's family (chatml, gemma...), if known
    engine: str | None = None  # the engine its models.yaml entry names (None: as its source)


def looks_like_path(value: str) -> bool:
    """Whether a model name is written as a path (`./m.gguf`, `~/m.gguf`, `/m/x.gguf`), not
    as a hub name (ORG/REPO/FILE.gguf)."""
    if value.startswith(("/", "./", "../", "~", ".\\")) or "\\" in value:
        return True
    return value.endswith(".gguf") and hub_name_of(value) is None


def resolve(name_or_path: str | None = None, locate: bool = True) -> ModelSpec:
    """Find a model by registry name, by a name other tools use (ORG/REPO[:QUANT],
    hf.co/..., ORG/REPO/FILE.gguf, an Ollama name), or take a .gguf path as it is.

    With locate=False a registry model's file is not looked for (planning needs only format
    and context); any other name is a file, so it is read for them.
    """
    choice = (name_or_path or os.environ.get("THINK_MODEL") or load_settings().get("model")
              or None)
    registry = load_registry()
    name = choice or registry.default
    if name not in registry.models:
        return _unregistered(name, registry.models)
    entry = registry.models[name]
    if entry.engine and not (entry.base_url or entry.path or entry.package or entry.repo
                             or entry.ollama):
        # A plugin engine that needs no file: what the entry says is all there is.
        return ModelSpec(name=name, path=Path(name), format=entry.format, context=entry.context,
                         chat_template=entry.chat_template, rules=rules_of(entry),
                         engine=entry.engine)
    spec = _registered(name, entry, locate)
    return replace(spec, engine=entry.engine) if entry.engine else spec


def _registered(name: str, entry: ModelEntry, locate: bool) -> ModelSpec:
    """A models.yaml entry with a source: a server, or a file looked for when `locate`."""
    if entry.base_url:
        server = ServerSettings(url=entry.base_url, model=entry.served_name or name,
                              format=entry.format)
        return ModelSpec(name=name, path=Path(name), format=entry.format,
                         context=entry.context, server=server, rules=rules_of(entry))
    if not locate:
        return ModelSpec(name=name, path=Path(entry.file or entry.path or name),
                         format=entry.format, context=entry.context,
                         chat_template=entry.chat_template, rules=rules_of(entry))
    path = entry_path(name, entry)
    told = entry.model_fields_set  # what the entry does not say, the file does
    info = read_info(path)
    spec = ModelSpec(name=name, path=path, format=entry.format, context=entry.context,
                     chat_template=entry.chat_template, rules=rules_of(entry),
                     template=info.template if info else None)
    if info and "format" not in told and not entry.chat_template:
        spec = replace(spec, format=info.format)
    if info and info.context and "context" not in told:
        spec = replace(spec, context=max(MIN_CONTEXT, info.context))
    return spec


def _unregistered(name: str, known: dict[str, ModelEntry]) -> ModelSpec:
    """A model models.yaml does not name: a file, a hub name, or an Ollama name."""
    if Path(name).expanduser().is_file() or looks_like_path(name):
        path = Path(name).expanduser()
        if not path.is_file():
            raise UsageError(f"model file not found: {path}", "give an existing .gguf file")
        return file_spec(path.name, path)
    hub = hub_name_of(name)
    if hub is not None:
        copy = hub_copy(hub)
        if copy is None:
            raise ModelError(f"model '{hub}' is not downloaded (looked in the Hugging Face "
                             "cache and LM Studio)", f"think models pull {hub}")
        return file_spec(str(hub), copy.path)
    if ollama_name(name) and (blob := ollama_file(name)) is not None:
        return file_spec(name, blob)
    raise unknown_name("model", name, known, "see `think models list`, give a hub name "
                       "(ORG/REPO[:QUANT]) or a .gguf path")


def file_spec(name: str, path: Path) -> ModelSpec:
    """A model known by its file alone: chat or base, and its context, as the file says."""
    info = read_info(path)
    if info is None:
        return ModelSpec(name=name, path=path, format="base", context=4096)  # loading refuses it
    return ModelSpec(name=name, path=path, format=info.format,
                     context=max(MIN_CONTEXT, info.context or 4096), template=info.template)


def hub_name_of(value: str) -> HubName | None:
    try:
        return hub_name(value)
    except ModelError:
        return None


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
    found = downloaded_copy(name, entry)
    if found is None:
        raise ModelError(f"model '{name}' is not downloaded (looked in the Hugging Face cache, "
                         f"LM Studio, Ollama and {paths.models_dir()})",
                         f"think models pull {name}")
    return found.path


def downloaded_copy(name: str, entry: ModelEntry) -> Found | None:
    """Where a hub or Ollama entry's file already is, in any store; for an entry naming
    only its repo, the repo's GGUF is chosen as for `ORG/REPO` (several there and none
    chosen is a one-line ask)."""
    found = find(name, entry)
    if found is None and entry.repo and not entry.file:
        copy = hub_copy(HubName(checked_repo(entry.repo)))
        found = Found(copy.path, copy.source) if copy else None
    return found


def on_server(url: str, name: str | None, base: ServerSettings | None = None) -> ModelSpec:
    """A model decoded by the server at url: registry format and context when it is known."""
    try:
        server_url(url)
    except ValueError as exc:
        raise UsageError(f"{option('server', '--engine')} {exc}", "give the server's address, "
                         "e.g. http://127.0.0.1:8080") from None
    registry = load_registry()
    entry = registry.models.get(name or "")
    chat = entry.format if entry else "chat"  # a server applies the model's own template
    settings = (base or ServerSettings(url=url)).model_copy(
        update={"url": url, "model": (entry.served_name if entry else None) or name or "",
                "format": chat})
    return ModelSpec(name=name or "server", path=Path(name or "server"), format=chat,
                     context=entry.context if entry else 32768, server=settings,
                     rules=rules_of(entry) if entry else PLAIN)
