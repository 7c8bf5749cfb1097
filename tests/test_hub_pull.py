"""Pulls against a loopback hub that speaks the resolve protocol: the Hugging Face cache
layout, resume, the hub's hash, the pinned revision, tokens and offline mode."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.hub_server import COMMIT, HubFile, HubServer

from think import paths
from think.errors import ModelError
from think.models import resolve
from think.models.store import pull

DATA = b"GGUF" + bytes(range(256)) * 2048  # 512 KiB and a bit
SHA = hashlib.sha256(DATA).hexdigest()
REPO, FILE = "org/tiny-GGUF", "tiny-q4.gguf"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    server = start_hub(tmp_path, monkeypatch)
    yield server
    server.stop()


def start_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """The loopback hub serving REPO/FILE, with the hub's variables pointing at it, a cache
    of the test's own, and models.yaml naming the file `tiny`."""
    server = HubServer()
    server.hub.files[(REPO, FILE)] = HubFile(DATA)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for name in ("THINK_HUB_URL", "HF_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                 "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "OLLAMA_MODELS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    register()
    return server


def register(extra: str = "") -> None:
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(
        f"models:\n  tiny:\n    repo: {REPO}\n    file: {FILE}\n    format: chat\n{extra}")


def repo_dir(tmp_path: Path) -> Path:
    return tmp_path / "hf" / "hub" / "models--org--tiny-GGUF"


def one_line(stderr: str) -> str:
    """The error a pull ended with: one line, after its plain progress lines (if any)."""
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("pull ")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_pull_lands_in_the_hf_layout_and_resolve_finds_it(hub: HubServer, run_cli,
                                                           tmp_path: Path) -> None:
    run = run_cli("models", "pull", "tiny")
    assert run.code == 0, run.stderr
    assert SHA in run.stderr
    folder = repo_dir(tmp_path)
    blob, snapshot = folder / "blobs" / SHA, folder / "snapshots" / COMMIT / FILE
    assert blob.read_bytes() == DATA and not blob.is_symlink()
    assert snapshot.is_symlink() and os.readlink(snapshot) == f"../../blobs/{SHA}"
    assert (folder / "refs" / "main").read_text() == COMMIT
    assert Path(run.stdout.strip()) == snapshot
    assert not list((folder / "blobs").glob("*.incomplete"))
    assert resolve("tiny").path == snapshot
    listed = json.loads(run_cli("models", "list", "--json").stdout)
    row = next(row for row in listed if row["name"] == "tiny")
    assert row["installed"] and row["source"] == "hf-cache" and row["path"] == str(snapshot)
    # A second pull finds it and asks the hub nothing.
    asked = len(hub.hub.seen)
    again = run_cli("models", "pull", "tiny")
    assert again.code == 0 and "found in hf-cache" in again.stderr
    assert len(hub.hub.seen) == asked


def test_the_revision_is_pinned_and_later_pulls_ask_for_it(hub: HubServer, run_cli,
                                                          tmp_path: Path) -> None:
    assert run_cli("models", "pull", "tiny").code == 0
    entry = yaml.safe_load(paths.user_models_file().read_text())["models"]["tiny"]
    assert entry["revision"] == COMMIT and entry["sha256"] == SHA
    assert entry["repo"] == REPO and entry["format"] == "chat"  # what the user wrote is kept
    assert hub.hub.seen[0].path == f"/{REPO}/resolve/main/{FILE}"
    removed = run_cli("models", "rm", "tiny")
    assert removed.code == 0 and not (repo_dir(tmp_path) / "blobs" / SHA).exists()
    register(f"    revision: {COMMIT}\n")
    hub.hub.seen.clear()
    assert run_cli("models", "pull", "tiny").code == 0
    assert hub.hub.seen[0].path == f"/{REPO}/resolve/{COMMIT}/{FILE}"


def test_a_partial_download_resumes_without_resending_bytes(hub: HubServer,
                                                            tmp_path: Path) -> None:
    blobs = repo_dir(tmp_path) / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{SHA}.incomplete").write_bytes(DATA[:300_000])
    path, digest, source = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA and digest == SHA and source == "hf-cache"
    assert [seen.range for seen in hub.hub.blob_requests()] == ["bytes=300000-"]
    assert hub.hub.sent == len(DATA) - 300_000


def test_a_cut_connection_resumes_within_the_pull(hub: HubServer) -> None:
    hub.hub.cut_after = 100_000
    path, _, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA
    assert [seen.range for seen in hub.hub.blob_requests()] == [None, "bytes=100000-"]


def test_bytes_that_do_not_match_the_hubs_hash_are_refused(hub: HubServer, run_cli,
                                                           tmp_path: Path) -> None:
    hub.hub.files[(REPO, FILE)] = HubFile(DATA, sha256="0" * 64)
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "SHA-256" in one_line(run.stderr)
    folder = repo_dir(tmp_path)
    assert not (folder / "blobs" / ("0" * 64)).exists()
    assert not list((folder / "blobs").iterdir())  # nor a partial file
    assert not (folder / "snapshots").exists()
    assert "revision" not in paths.user_models_file().read_text()


def test_a_hash_that_disagrees_with_models_yaml_is_refused_before_any_bytes(
        hub: HubServer) -> None:
    register(f"    sha256: '{'1' * 64}'\n")
    with pytest.raises(ModelError) as error:
        pull("tiny", lambda done, total: None)
    assert "models.yaml expects" in error.value.message and not hub.hub.blob_requests()


def test_a_gated_file_needs_a_token(hub: HubServer, run_cli) -> None:
    hub.hub.files[(REPO, FILE)] = HubFile(DATA, gated_token="hf_secret")
    run = run_cli("models", "pull", "tiny")
    line = one_line(run.stderr)
    assert run.code == 1 and "gated" in line and "HF_TOKEN" in line and "hf auth login" in line


def test_hf_token_is_sent_to_the_hub_but_not_to_its_storage(hub: HubServer, monkeypatch) -> None:
    hub.hub.files[(REPO, FILE)] = HubFile(DATA, gated_token="hf_secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    path, _, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA
    assert hub.hub.seen[0].auth == "Bearer hf_secret"
    assert [seen.auth for seen in hub.hub.blob_requests()] == [None]


def test_the_token_hf_auth_login_stored_is_used(hub: HubServer, tmp_path: Path) -> None:
    hub.hub.files[(REPO, FILE)] = HubFile(DATA, gated_token="hf_stored")
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_stored\n")
    assert pull("tiny", lambda done, total: None)[0].read_bytes() == DATA


def test_a_wrong_token_says_it_was_refused(hub: HubServer, run_cli, monkeypatch) -> None:
    hub.hub.files[(REPO, FILE)] = HubFile(DATA, gated_token="hf_secret")
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "token sent was refused" in one_line(run.stderr)


def test_offline_mode_never_touches_the_network(hub: HubServer, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "HF_HUB_OFFLINE" in one_line(run.stderr)
    assert hub.hub.seen == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert run_cli("models", "pull", "tiny").code == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.hub.seen.clear()
    assert resolve("tiny").path.read_bytes() == DATA and hub.hub.seen == []


def test_hf_hub_cache_moves_where_pulls_go(hub: HubServer, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    path, _, _ = pull("tiny", lambda done, total: None)
    assert path == tmp_path / "elsewhere" / "models--org--tiny-GGUF" / "snapshots" / COMMIT / FILE


def test_a_missing_file_is_a_404_naming_models_yaml(hub: HubServer, run_cli) -> None:
    hub.hub.files.clear()
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "404" in one_line(run.stderr) and "models.yaml" in run.stderr


def test_a_partial_file_that_is_already_whole_is_checked_and_kept(hub: HubServer,
                                                                 tmp_path: Path) -> None:
    blobs = repo_dir(tmp_path) / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{SHA}.incomplete").write_bytes(DATA)  # cut just before its rename
    path, digest, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA and digest == SHA
    assert [seen.range for seen in hub.hub.blob_requests()] == [f"bytes={len(DATA)}-"]
    assert hub.hub.sent == 0  # the server had nothing left to send (416)


def test_a_mirror_that_sends_the_hash_as_its_etag_alone_is_checked_too(hub: HubServer,
                                                                      tmp_path: Path) -> None:
    hub.hub.linked_etag = False
    path, digest, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA and digest == SHA
    assert path.resolve() == repo_dir(tmp_path) / "blobs" / SHA
    hub.hub.files[(REPO, FILE)] = HubFile(DATA + b"!", sha256=SHA)  # bytes that differ
    (repo_dir(tmp_path) / "snapshots").rename(tmp_path / "moved")  # so it pulls again
    (repo_dir(tmp_path) / "blobs" / SHA).unlink()
    with pytest.raises(ModelError) as error:
        pull("tiny", lambda done, total: None)
    assert "SHA-256" in error.value.message
