"""On-disk prompt cache: processed few-shot prefixes saved between runs, never trusted blindly.

An entry is a llama.cpp sequence-state file plus a small JSON record holding the SHA-256 of
that file. The key covers the model file's hash, the llama-cpp-python version and the prefix
tokens, so a different model, build or prompt never matches. An entry whose file does not
hash to its record is deleted and rebuilt. The folder is pruned (oldest first) to its size cap.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from think import paths
from think.hashing import file_sha256
from think.shared_files import write_atomically

STALE_PARTIAL_SECONDS = 3600


def model_hash(model: Path) -> str:
    """The model file's SHA-256, computed once per file version and remembered."""
    stat = model.stat()
    memo = paths.cache_dir() / "model-hashes.json"
    identity = f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}  # a memo damaged into other JSON is rebuilt: it only saves hashing time
    if identity not in known:
        known[identity] = file_sha256(model)
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(memo, json.dumps(known))
        except OSError:
            pass  # a read-only cache only costs the hash next time
    return str(known[identity])


@dataclass
class PromptCache:
    """Where prefix states for one model and build live, bounded to max_bytes on disk."""

    model: Path
    version: str
    max_bytes: int

    def __post_init__(self) -> None:
        self._model_hash: str | None = None

    @property
    def folder(self) -> Path:
        return paths.cache_dir() / "prompt-cache"

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def key(self, tokens: list[int]) -> str:
        if self._model_hash is None:
            self._model_hash = model_hash(self.model)
        text = f"{self._model_hash}|{self.version}|{','.join(map(str, tokens))}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def state_path(self, tokens: list[int]) -> Path:
        return self.folder / f"{self.key(tokens)}.state"

    def lookup(self, tokens: list[int]) -> Path | None:
        """A verified state file for exactly these tokens, or None (bad entries are removed)."""
        state = self.state_path(tokens)
        record = state.with_suffix(".json")
        try:
            meta = json.loads(record.read_text())
            if meta.get("sha256") == file_sha256(state) and meta.get("tokens") == len(tokens):
                state.touch()  # recently used entries survive pruning
                return state
        except (OSError, ValueError, AttributeError):
            pass
        self.discard(tokens)
        return None

    def discard(self, tokens: list[int]) -> None:
        state = self.state_path(tokens)
        for path in (state, state.with_suffix(".json")):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # a cache folder that is a file, or read-only: the entry is never used

    def commit(self, tokens: list[int], written: Path) -> None:
        """Adopt a state file just written by llama.cpp, then prune the folder."""
        state = self.state_path(tokens)
        state.parent.mkdir(parents=True, exist_ok=True)
        written.replace(state)
        write_atomically(state.with_suffix(".json"), json.dumps(
            {"sha256": file_sha256(state), "tokens": len(tokens), "version": self.version}))
        self.prune()

    def prune(self) -> None:
        # A state half-written by a run that was killed is never adopted; drop it once it is
        # older than any live save could be.
        for partial in self.folder.glob("*.partial"):
            if time.time() - partial.stat().st_mtime > STALE_PARTIAL_SECONDS:
                partial.unlink(missing_ok=True)
        states = sorted(self.folder.glob("*.state"), key=lambda p: p.stat().st_mtime,
                        reverse=True)
        total = 0
        for state in states:
            total += state.stat().st_size
            if total > self.max_bytes:
                state.unlink(missing_ok=True)
                state.with_suffix(".json").unlink(missing_ok=True)
