"""Models other tools downloaded are found before any download: a Hugging Face cache, LM
Studio's folders and an Ollama store, built for real in tmp dirs, then think's own folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from think import paths
from think.errors import ModelError
from think.models import resolve
from think.models.store import pull

GGUF = b"GGUF" + b"\0" * 60  # resolve only needs the file to be there (Ollama's: GGUF magic)
REPO, FILE = "org/tiny-GGUF", "tiny-q4.gguf"
COMMIT = "b" * 40


@pytest.fixture(autouse=True)
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    # A closed port: any attempt to download fails loudly instead of finding nothing.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for name in ("THINK_HUB_URL", "HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE",
                 "OLLAMA_MODELS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(
        f"models:\n  tiny:\n    repo: {REPO}\n    file: {FILE}\n    ollama: 'tiny:q4'\n"
        "    format: chat\n")
    return home


def hf_cache(root: Path, revision: str = COMMIT, data: bytes = GGUF) -> Path:
    folder = root / "models--org--tiny-GGUF"
    blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    snapshot = folder / "snapshots" / revision / FILE
    snapshot.parent.mkdir(parents=True)
    os.symlink(f"../../blobs/{blob.name}", snapshot)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    return snapshot


def lm_studio(root: Path) -> Path:
    path = root / REPO / FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(GGUF)
    return path


def ollama(store: Path, name: str = "tiny", tag: str = "q4", data: bytes = GGUF) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    blob = store / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    manifest = store / "manifests" / "registry.ollama.ai" / "library" / name / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}",
         "size": len(data)}]}))
    return blob


def source_of(run_cli) -> tuple[str | None, str | None]:
    run = run_cli("models", "list", "--json")
    assert run.code == 0, run.stderr
    row = next(row for row in json.loads(run.stdout) if row["name"] == "tiny")
    return row["source"], row["path"]


def test_the_hf_cache_is_found(run_cli, tmp_path: Path) -> None:
    snapshot = hf_cache(tmp_path / "hf" / "hub")
    assert resolve("tiny").path == snapshot
    assert source_of(run_cli) == ("hf-cache", str(snapshot))
    listing = run_cli("models", "list").stdout
    assert f"hf-cache: {snapshot}" in listing


def test_hf_hub_cache_names_the_cache(run_cli, tmp_path: Path, monkeypatch) -> None:
    snapshot = hf_cache(tmp_path / "own-cache")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "own-cache"))
    assert resolve("tiny").path == snapshot


def test_a_snapshot_whose_blob_is_gone_does_not_count(run_cli, tmp_path: Path) -> None:
    snapshot = hf_cache(tmp_path / "hf" / "hub")
    snapshot.resolve().unlink()
    assert source_of(run_cli) == (None, None)
    with pytest.raises(ModelError) as error:
        resolve("tiny")
    assert error.value.hint == "think models pull tiny"


@pytest.mark.parametrize("folder", [".lmstudio/models", ".cache/lm-studio/models"])
def test_lm_studio_folders_are_found(run_cli, user: Path, folder: str) -> None:
    path = lm_studio(user / folder)
    assert resolve("tiny").path == path
    assert source_of(run_cli) == ("lm-studio", str(path))


def test_the_ollama_store_in_home_is_found(run_cli, user: Path) -> None:
    blob = ollama(user / ".ollama" / "models")
    assert resolve("tiny").path == blob
    assert source_of(run_cli) == ("ollama", str(blob))


def test_ollama_models_names_the_store(run_cli, tmp_path: Path, monkeypatch) -> None:
    blob = ollama(tmp_path / "store")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "store"))
    assert resolve("tiny").path == blob


def test_an_ollama_blob_that_is_not_gguf_is_passed_over(run_cli, user: Path) -> None:
    ollama(user / ".ollama" / "models", data=b"not a model at all")
    assert source_of(run_cli) == (None, None)


def test_the_first_store_wins_in_order(run_cli, user: Path, tmp_path: Path) -> None:
    mine = paths.models_dir() / FILE
    mine.write_bytes(GGUF)
    try:
        ollama(user / ".ollama" / "models")
        assert source_of(run_cli)[0] == "ollama"
        lm_studio(user / ".lmstudio" / "models")
        assert source_of(run_cli)[0] == "lm-studio"
        hf_cache(tmp_path / "hf" / "hub")
        assert source_of(run_cli)[0] == "hf-cache"
    finally:
        mine.unlink()


def test_think_own_folder_comes_last(run_cli) -> None:
    mine = paths.models_dir() / FILE
    mine.write_bytes(GGUF)
    try:
        assert source_of(run_cli) == ("think", str(mine))
    finally:
        mine.unlink()


def test_a_pull_of_a_found_model_downloads_nothing(run_cli, user: Path) -> None:
    path = lm_studio(user / ".lmstudio" / "models")
    run = run_cli("models", "pull", "tiny")  # HF_ENDPOINT is a closed port
    assert run.code == 0, run.stderr
    assert run.stdout.strip() == str(path) and "found in lm-studio" in run.stderr
    assert pull("tiny", lambda done, total: None) == (path, "", "lm-studio")


def test_rm_keeps_another_tools_copy(run_cli, user: Path) -> None:
    path = lm_studio(user / ".lmstudio" / "models")
    run = run_cli("models", "rm", "tiny")
    assert run.code == 0 and path.read_bytes() == GGUF
    assert "kept" in run.stdout and "lm-studio" in run.stdout


def test_the_embedded_model_lists_as_thinks_own(run_cli) -> None:
    listed = json.loads(run_cli("models", "list", "--json").stdout)
    embedded = next(row for row in listed if row["name"] == "gemma3-270m")
    assert embedded["default"] and embedded["source"] == "think"
