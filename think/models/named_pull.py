"""`think models pull` of a model by a name other tools use, with no models.yaml entry:
ORG/REPO[:QUANT], hf.co/ORG/REPO[:QUANT], ORG/REPO/FILE.gguf, or an Ollama name.

A copy another tool has is used as it is. Otherwise the hub lists the repo's files, one is
chosen as `-m` would choose it, and it is downloaded into the Hugging Face cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from think.config import load_registry
from think.errors import ModelError, unknown_name
from think.models import hub
from think.models.caches import ollama_file
from think.models.download import ByteProgress
from think.models.hub_listing import repo_files
from think.models.hub_pull import pull_to_cache
from think.models.local import hub_copy
from think.models.names import HubName, hub_name, ollama_name, pick_file


def hub_file(name: HubName, revision: str | None = None) -> str:
    """The file of the repo that `name` means, as the hub lists the repo's files."""
    if name.file:
        return name.file
    if hub.offline():
        raise ModelError(f"{name} is in no local model cache and HF_HUB_OFFLINE is set",
                         "unset HF_HUB_OFFLINE to download it")
    return pick_file(name, repo_files(name.repo, revision or "main"))


def pull_named(name: str, progress: ByteProgress,
               on_wait: Callable[[], None] | None = None) -> tuple[Path, str, str]:
    """The file for a name models.yaml does not have: its path, SHA-256 (when downloaded)
    and where it is."""
    hub_form = hub_name(name)
    if hub_form is not None:
        copy = hub_copy(hub_form)
        if copy is not None:
            return copy.path, "", copy.source
        path, info = pull_to_cache(hub_form.repo, hub_file(hub_form), None, None, progress,
                                   on_wait)
        return path, info.sha256 or "", "hf-cache"
    if ollama_name(name):
        blob = ollama_file(name)
        if blob is not None:
            return blob, "", "ollama"
    raise unknown_name("model", name, load_registry().models,
                       "give a hub name (ORG/REPO[:QUANT]), or fetch an Ollama model with "
                       f"`ollama pull {name}` first")
