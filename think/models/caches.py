"""Model files other tools already downloaded: the Hugging Face cache, LM Studio's models
folder and Ollama's store, then think's own models folder. The first place that has a
registry entry's file is used, so a model is never downloaded twice.

Only paths are looked at (and an Ollama manifest read): finding a model costs a few stats.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from think import paths
from think.config import ModelEntry
from think.models import hub, hub_names

OLLAMA_MODEL = "application/vnd.ollama.image.model"
GGUF_MAGIC = b"GGUF"
OLLAMA_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
REF_BYTES = 256  # a ref holds one commit id; more is not a ref


@dataclass(frozen=True)
class Found:
    """A model file and the store it was found in: hf-cache, lm-studio, ollama or think."""

    path: Path
    source: str


def hf_snapshot(repo: str, file: str, revision: str | None = None) -> Path | None:
    """The file in the Hugging Face cache, from the first snapshot that has it (in the
    order `snapshot_folders` trusts them)."""
    for candidate in snapshot_folders(repo, revision):
        path = candidate / file
        if path.is_file():  # a link whose blob is gone does not count
            return path
    return None


def snapshot_folders(repo: str, revision: str | None = None) -> list[Path]:
    """A repo's snapshots in the Hugging Face cache, most trusted first: the pinned
    revision's, the one refs/main names, then any (newest first)."""
    folder = hub.repo_dir(repo)
    snapshots = folder / "snapshots"
    wanted = [revision] if revision and hub_names.valid(hub_names.checked_revision,
                                                        revision) else []
    wanted += [main] if (main := main_ref(folder)) else []
    try:
        others = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        others = []
    return [snapshots / rev for rev in wanted] + others


def main_ref(folder: Path) -> str | None:
    """The commit refs/main names, when it is a small file holding one commit id: another
    tool's damaged cache (a folder there, binary bytes, a path) is passed over, not trusted."""
    try:
        with (folder / "refs" / "main").open("rb") as handle:
            text = handle.read(REF_BYTES).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if hub_names.COMMIT.fullmatch(text) else None


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
        blob = ollama_blob(store, ollama_manifest(store, name))
        if blob is not None:
            return blob
    return None


def ollama_blob(store: Path, manifest: Path) -> Path | None:
    """The GGUF blob `manifest` names as its model layer, or None: no such manifest, a
    manifest this reader does not know, a digest that is no hash (a hostile `../` one
    would point out of the store), a blob that is not GGUF."""
    try:
        layers = json.loads(manifest.read_text()).get("layers", [])
        digest = str(next(layer["digest"] for layer in layers
                          if layer.get("mediaType") == OLLAMA_MODEL))
        if not OLLAMA_DIGEST.fullmatch(digest):
            return None
        blob = store / "blobs" / digest.replace(":", "-")
        with blob.open("rb") as handle:
            return blob if handle.read(4) == GGUF_MAGIC else None
    except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
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
    if entry.repo and entry.file and hub_names.valid(hub_names.checked_repo, entry.repo) \
            and hub_names.valid(hub_names.checked_file, entry.file):
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
