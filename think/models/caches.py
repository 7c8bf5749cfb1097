"""Model files other tools already downloaded: the Hugging Face cache, LM Studio's models
folder and Ollama's store, then think's own models folder. The first place that has a
registry entry's file is used, so a model is never downloaded twice.

Only paths are looked at (and an Ollama manifest read): finding a model costs a few stats.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from think import paths
from think.config import ModelEntry
from think.errors import ModelError
from think.models import hub, hub_names

OLLAMA_MODEL = "application/vnd.ollama.image.model"
GGUF_MAGIC = b"GGUF"
REF_BYTES = 256  # a ref holds one commit id; more is not a ref


@dataclass(frozen=True)
class Found:
    """A model file and the store it was found in: hf-cache, lm-studio, ollama or think."""

    path: Path
    source: str


def hf_snapshot(repo: str, file: str, revision: str | None = None) -> Path | None:
    """The file in the Hugging Face cache: the pinned revision's snapshot first, then the one
    refs/main names, then any snapshot that has it (newest first)."""
    folder = hub.repo_dir(repo)
    snapshots = folder / "snapshots"
    wanted = [revision] if revision and _hub_revision(revision) else []
    wanted += [main] if (main := main_ref(folder)) else []
    try:
        others = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        others = []
    for candidate in [snapshots / rev for rev in wanted] + others:
        path = candidate / file
        if path.is_file():  # a link whose blob is gone does not count
            return path
    return None


def main_ref(folder: Path) -> str | None:
    """The commit refs/main names, when it is a small file holding one commit id: another
    tool's damaged cache (a folder there, binary bytes, a path) is passed over, not trusted."""
    try:
        with (folder / "refs" / "main").open("rb") as handle:
            text = handle.read(REF_BYTES).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if hub_names.COMMIT.fullmatch(text) else None


def _hub_names(repo: str, file: str) -> bool:
    """Whether repo and file are names a hub gives: any other could only point outside the
    caches, and is left for `think models pull` to refuse."""
    try:
        return bool(hub_names.checked_repo(repo) and hub_names.checked_file(file))
    except ModelError:
        return False


def _hub_revision(revision: str) -> bool:
    try:
        return bool(hub_names.checked_revision(revision))
    except ModelError:
        return False


def lm_studio_dirs() -> list[Path]:
    home = Path.home()
    return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def lm_studio_file(repo: str, file: str) -> Path | None:
    """LM Studio keeps hub downloads as models/ORG/REPO/FILE."""
    for folder in lm_studio_dirs():
        path = folder / repo / file
        if path.is_file():
            return path
    return None


def ollama_dirs() -> list[Path]:
    named = os.environ.get("OLLAMA_MODELS")
    if named:
        return [Path(named).expanduser()]
    # The Linux installer's service keeps its store under the ollama user's home.
    return [Path.home() / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]


def ollama_manifest(store: Path, name: str) -> Path:
    """qwen3:1.7b -> manifests/registry.ollama.ai/library/qwen3/1.7b (user/name and
    host/user/name are kept as they are written)."""
    model, _, tag = name.partition(":")
    parts = model.split("/")
    if len(parts) == 1:
        parts = ["registry.ollama.ai", "library", *parts]
    elif len(parts) == 2:
        parts = ["registry.ollama.ai", *parts]
    return store.joinpath("manifests", *parts, tag or "latest")


def ollama_file(name: str) -> Path | None:
    """The GGUF blob an Ollama manifest names as its model layer."""
    for store in ollama_dirs():
        try:
            manifest = json.loads(ollama_manifest(store, name).read_text())
            layer = next(layer for layer in manifest.get("layers", [])
                         if layer.get("mediaType") == OLLAMA_MODEL)
            blob = store / "blobs" / str(layer["digest"]).replace(":", "-")
            with blob.open("rb") as handle:
                if handle.read(4) == GGUF_MAGIC:
                    return blob
        except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
            continue  # no such model there, or a manifest this reader does not know
    return None


def stores() -> list[tuple[str, Path, int | None]]:
    """Every place models are looked for, as (store, folder, GGUF files there), the count
    None where the folder does not exist: what `think doctor` reports."""
    places = [("hf-cache", hub.cache_dir(), "models--*/snapshots/*/*.gguf")]
    places += [("lm-studio", folder, "*/*/*.gguf") for folder in lm_studio_dirs()]
    # Ollama's blobs have no suffix: its manifests, one per pulled model, are counted.
    places += [("ollama", folder, "manifests/*/*/*/*") for folder in ollama_dirs()]
    places.append(("think", paths.models_dir(), "*.gguf"))
    found = []
    for store, folder, pattern in places:
        count = sum(1 for _ in folder.glob(pattern)) if folder.is_dir() else None
        found.append((store, folder, count))
    return found


def think_file(name: str, entry: ModelEntry) -> Path | None:
    path = paths.models_dir() / (entry.file or name)
    return path if path.is_file() else None


def find(name: str, entry: ModelEntry) -> Found | None:
    """Where a registry entry's file already is, in the order other tools are trusted."""
    if entry.repo and entry.file and _hub_names(entry.repo, entry.file):
        path = hf_snapshot(entry.repo, entry.file, entry.revision)
        if path:
            return Found(path, "hf-cache")
        path = lm_studio_file(entry.repo, entry.file)
        if path:
            return Found(path, "lm-studio")
    if entry.ollama:
        path = ollama_file(entry.ollama)
        if path:
            return Found(path, "ollama")
    path = think_file(name, entry)
    return Found(path, "think") if path else None
