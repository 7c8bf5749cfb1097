"""Every GGUF model other tools have downloaded, whether or not models.yaml names it: the
Hugging Face cache, LM Studio's models folder and Ollama's store.

Each is listed under the name `-m` takes for it (ORG/REPO:QUANT or ORG/REPO/FILE for hub
copies, NAME:TAG for Ollama's). Only folders are walked and manifests read; no file is
opened but an Ollama manifest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from think.models import hub, hub_names
from think.models.caches import (
    hf_snapshot,
    lm_studio_dirs,
    lm_studio_file,
    ollama_blob,
    ollama_dirs,
    snapshot_folders,
)
from think.models.names import HubName, choosable, pick_file, quant_of

OLLAMA_HOST = "registry.ollama.ai"


@dataclass(frozen=True)
class LocalModel:
    """A model file on disk and the name that finds it."""

    name: str
    path: Path
    source: str  # hf-cache, lm-studio or ollama
    repo: str | None = None
    file: str | None = None


def hf_repo_files(repo: str) -> list[str]:
    """The GGUF files of `repo` in the Hugging Face cache's current snapshot (refs/main's,
    else the newest), as paths inside the repo."""
    for snapshot in snapshot_folders(repo):
        files = [str(p.relative_to(snapshot)) for p in _ggufs(snapshot)]
        if files:
            return files
    return []


def lm_studio_repo_files(repo: str) -> list[tuple[str, Path]]:
    """The GGUF files LM Studio keeps for `repo` (models/ORG/REPO/...)."""
    for folder in lm_studio_dirs():
        files = [(str(p.relative_to(folder / repo)), p) for p in _ggufs(folder / repo)]
        if files:
            return files
    return []


def hub_copy(name: HubName) -> LocalModel | None:
    """The file a hub name means, where another tool (or think) already downloaded it; a
    repo that is there with several files and no choice among them is a one-line ask."""
    if name.file:
        path = hf_snapshot(name.repo, name.file)
        if path:
            return LocalModel(str(name), path, "hf-cache", name.repo, name.file)
        path = lm_studio_file(name.repo, name.file)
        return LocalModel(str(name), path, "lm-studio", name.repo, name.file) if path else None
    files = hf_repo_files(name.repo)
    if _has(name, files):
        file = pick_file(name, files)
        path = hf_snapshot(name.repo, file)
        return LocalModel(str(name), path, "hf-cache", name.repo, file) if path else None
    studio = dict(lm_studio_repo_files(name.repo))
    if _has(name, list(studio)):
        file = pick_file(name, list(studio))
        return LocalModel(str(name), studio[file], "lm-studio", name.repo, file)
    return None


def _has(name: HubName, files: list[str]) -> bool:
    """Whether a store's copy of the repo holds what `name` asks for: any model file, or
    one of the quantization named (another may be downloaded beside it)."""
    models = choosable(files)
    return any(quant_of(file) == name.quant for file in models) if name.quant else bool(models)


def all_models() -> list[LocalModel]:
    """Every GGUF model in the three stores, hub copies first."""
    return [*_hf_cache(), *_lm_studio(), *_ollama()]


def _hf_cache() -> Iterator[LocalModel]:
    try:
        folders = sorted(hub.cache_dir().glob("models--*--*"))
    except OSError:
        return
    for folder in folders:
        org, _, name = folder.name.removeprefix("models--").partition("--")
        repo = f"{org}/{name}"
        if not hub_names.valid(hub_names.checked_repo, repo):
            continue
        files = choosable(hf_repo_files(repo))
        for file in files:
            path = hf_snapshot(repo, file)
            if path:
                yield LocalModel(_shown_name(repo, file, files), path, "hf-cache", repo, file)


def _lm_studio() -> Iterator[LocalModel]:
    for folder in lm_studio_dirs():
        for org in _folders(folder):
            for repo_dir in _folders(org):
                repo = f"{org.name}/{repo_dir.name}"
                if not hub_names.valid(hub_names.checked_repo, repo):
                    continue
                files = choosable([str(p.relative_to(repo_dir)) for p in _ggufs(repo_dir)])
                for file in files:
                    yield LocalModel(_shown_name(repo, file, files), repo_dir / file,
                                     "lm-studio", repo, file)


def _ollama() -> Iterator[LocalModel]:
    for store in ollama_dirs():
        manifests = store / "manifests"
        for manifest in sorted(manifests.glob("*/*/*/*")) if manifests.is_dir() else []:
            host, user, model, tag = manifest.relative_to(manifests).parts
            blob = ollama_blob(store, manifest)
            if blob is None:
                continue
            name = f"{model}:{tag}" if (host, user) == (OLLAMA_HOST, "library") else (
                f"{user}/{model}:{tag}" if host == OLLAMA_HOST else f"{host}/{user}/{model}:{tag}")
            yield LocalModel(name, blob, "ollama")


def _shown_name(repo: str, file: str, files: list[str]) -> str:
    """ORG/REPO:QUANT where that finds just this file, else ORG/REPO/FILE."""
    quant = quant_of(file)
    unique = quant is not None and sum(quant_of(other) == quant for other in files) == 1
    return f"{repo}:{quant}" if unique else f"{repo}/{file}"


def _ggufs(folder: Path) -> list[Path]:
    """The .gguf files under `folder` (links to blobs that are there count), sorted."""
    try:
        return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".gguf" and p.is_file())
    except OSError:
        return []


def _folders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []
