"""The names people already give models, read into what think looks up.

Besides a models.yaml name and a path, `-m` and `think models pull` take what Ollama,
llama.cpp's `-hf` and the hub's own pages use:

    ORG/REPO                  the repo's only GGUF, else its Q4_K_M, else a one-line ask
    ORG/REPO:QUANT            the repo's GGUF of that quantization (Ollama, llama.cpp -hf)
    hf.co/ORG/REPO[:QUANT]    the same, as Ollama writes it (huggingface.co/ and https://
                              are taken too)
    ORG/REPO/FILE.gguf        that file of the repo
    qwen3:1.7b                a model in Ollama's store (NAME[:TAG])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from think.errors import ModelError
from think.gguf.info import QUANT_IN_NAME
from think.models.hub_names import REPO, checked_file, checked_repo

HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "https://hf.co/",
                "huggingface.co/", "hf.co/")
OLLAMA_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*(?::[A-Za-z0-9][A-Za-z0-9._-]*)?")
SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
PREFERRED = "Q4_K_M"  # what Ollama and llama.cpp's -hf pick when no quantization is named


@dataclass(frozen=True)
class HubName:
    """A repo on the hub, and the file or quantization named with it (if any)."""

    repo: str
    file: str | None = None
    quant: str | None = None

    def __str__(self) -> str:
        if self.file:
            return f"{self.repo}/{self.file}"
        return f"{self.repo}:{self.quant}" if self.quant else self.repo


def hub_name(text: str) -> HubName | None:
    """`text` read as one of the hub forms above, or None when it is none of them."""
    for prefix in HUB_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    name, _, quant = text.partition(":")
    parts = name.split("/")
    if len(parts) < 2 or not REPO.fullmatch("/".join(parts[:2])) or ".." in parts[:2]:
        return None
    repo = checked_repo("/".join(parts[:2]))
    if len(parts) == 2:
        return HubName(repo, quant=quant.upper() or None)
    file = "/".join(parts[2:])
    if quant or not file.lower().endswith(".gguf"):
        return None
    return HubName(repo, checked_file(file))


def ollama_name(text: str) -> bool:
    """Whether `text` has the shape of an Ollama model name (`qwen3`, `qwen3:1.7b`)."""
    return bool(OLLAMA_NAME.fullmatch(text))


def quant_of(file: str) -> str | None:
    """The quantization a GGUF file's name states (`...-Q4_K_M.gguf` -> Q4_K_M)."""
    found = QUANT_IN_NAME.search(PurePosixPath(file).name)
    return found[1].upper() if found else None


def choosable(files: list[str]) -> list[str]:
    """The model files among a repo's: GGUF, not a vision projector, not a later shard."""
    models = []
    for file in files:
        base = PurePosixPath(file).name.lower()
        if not base.endswith(".gguf") or base.startswith("mmproj"):
            continue
        shard = SHARD.search(base)
        if shard is None or shard[1] == "00001":
            models.append(file)
    return models


def pick_file(name: HubName, files: list[str]) -> str:
    """The one GGUF file `name` means among `files` (a repo's), or a one-line ask."""
    models = choosable(files)
    if not models:
        raise ModelError(f"{name.repo} has no GGUF model file",
                         "choose a repo of GGUF files (their names often end in -GGUF)")
    if name.quant:
        matching = [file for file in models if quant_of(file) == name.quant]
        if not matching:
            raise ModelError(f"{name.repo} has no {name.quant} file",
                             f"choose one of {_listed(models, name.repo)}")
        models = matching
    if len(models) == 1:
        return _whole(models[0])
    preferred = [file for file in models if quant_of(file) == PREFERRED]
    if len(preferred) == 1 and not name.quant:
        return _whole(preferred[0])
    raise ModelError(f"{name} has {len(models)} GGUF files and none is the one to take",
                     f"name one: {_listed(models, name.repo)}")


def _whole(file: str) -> str:
    """A model split into shards is not pulled or loaded whole yet: say so, not fail later."""
    if SHARD.search(file):
        raise ModelError(f"{file} is the first of several parts of one model",
                         "choose a quantization that is one file")
    return file


def _listed(files: list[str], repo: str) -> str:
    names = [f"{repo}:{quant}" if (quant := quant_of(file)) and
             sum(quant_of(other) == quant for other in files) == 1 else f"{repo}/{file}"
             for file in sorted(files)]
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
