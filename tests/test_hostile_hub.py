"""A hostile or careless hub and models.yaml: the token stays with the hub, no name from
either writes outside the Hugging Face cache, and a hub that trickles or stalls is cut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hub_server import HubFile, HubServer
from test_hub_pull import DATA, FILE, REPO, SHA, repo_dir, start_hub

from think.models import download, hub
from think.models.store import pull


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """test_hub_pull's loopback hub, for each test to make hostile."""
    server = start_hub(tmp_path, monkeypatch)
    yield server
    server.stop()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def everything_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_the_token_does_not_follow_the_hubs_own_redirect_to_its_storage(
        hostile: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolve points at the hub itself, which redirects again to storage on another
    # host: urllib would copy the Authorization header onto that second hop.
    hostile.hub.hop = True
    hostile.hub.files[(REPO, FILE)] = HubFile(DATA, gated_token="hf_secret")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    path, _, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA
    hops = [seen for seen in hostile.hub.seen if seen.path.startswith("/hop/")]
    assert hops and all(seen.auth == "Bearer hf_secret" for seen in hops)  # the hub's own
    assert hostile.hub.blob_requests() and all(
        seen.auth is None for seen in hostile.hub.blob_requests())


@pytest.mark.parametrize("variable", ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"])
def test_a_token_with_a_line_break_is_one_line_and_never_a_header(
        hostile: HubServer, run_cli, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "hf_a\nX-Injected: 1")
    run = run_cli("models", "pull", "tiny")
    line = one_line(run.stderr)
    assert run.code == 1 and "line break" in line and variable in line
    assert "hf_a" not in line  # the secret itself is not shown
    assert hostile.hub.seen == []


def test_a_stored_token_with_a_carriage_return_is_refused_too(hostile: HubServer, run_cli,
                                                              tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "token").write_text("hf_a\r\nX-Injected: 1\n")
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "line break" in one_line(run.stderr)


@pytest.mark.parametrize("commit", ["../ESCAPE", "../../../../ESCAPE", "a" * 39 + "/",
                                    "g" * 40, "a" * 41])
def test_a_commit_id_from_the_hub_that_is_a_path_is_refused(hostile: HubServer, run_cli,
                                                            tmp_path: Path, commit: str) -> None:
    hostile.hub.commit = commit
    before = everything_under(tmp_path)
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "commit id" in one_line(run.stderr)
    assert not hostile.hub.blob_requests()
    assert not [p for p in everything_under(tmp_path) - before if "ESCAPE" in p]
    assert not (repo_dir(tmp_path) / "snapshots").exists()


@pytest.mark.parametrize("etag", ["../../../ESCAPE", "x" * 64, SHA + "/../x"])
def test_an_etag_from_the_hub_that_is_no_hash_is_refused(hostile: HubServer, run_cli,
                                                         tmp_path: Path, etag: str) -> None:
    hostile.hub.etag = etag
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "ETag" in one_line(run.stderr)
    assert not hostile.hub.blob_requests()
    assert not [p for p in everything_under(tmp_path) if "ESCAPE" in p]


@pytest.mark.parametrize("field, value, said", [
    ("repo", "../../escape/x", "repo name"),
    ("repo", "org/..", "repo name"),
    ("repo", "org/name/more", "repo name"),
    ("file", "../../../../ESCAPE.gguf", "file name"),
    ("file", "/abs/ESCAPE.gguf", "file name"),
    ("file", "a/./ESCAPE.gguf", "file name"),
    ("revision", "../../ESCAPE", "revision"),
    ("revision", "main/../../x", "revision"),
])
def test_names_in_models_yaml_that_leave_the_cache_are_refused(
        hostile: HubServer, run_cli, tmp_path: Path, field: str, value: str, said: str) -> None:
    entry = {"repo": REPO, "file": FILE, "format": "chat", field: value}
    from think import paths
    paths.user_models_file().write_text(
        "models:\n  tiny:\n" + "".join(f"    {k}: '{v}'\n" for k, v in entry.items()))
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and said in one_line(run.stderr)
    assert hostile.hub.seen == []  # refused before the hub is asked
    assert not [p for p in everything_under(tmp_path) if "ESCAPE" in p or "escape" in p]


def test_a_size_that_is_not_a_number_is_taken_as_unknown(hostile: HubServer) -> None:
    hostile.hub.size = "12abc"
    path, digest, _ = pull("tiny", lambda done, total: None)
    assert path.read_bytes() == DATA and digest == SHA


def test_a_body_that_trickles_is_cut_and_the_bytes_kept_for_the_next_pull(
        hostile: HubServer, run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(download, "STALL_S", 1.0)
    hostile.hub.trickle_s = 0.05
    start = time.monotonic()
    run = run_cli("models", "pull", "tiny")
    took = time.monotonic() - start
    line = one_line(run.stderr.splitlines()[-1])
    assert run.code == 1 and "run the same pull again to resume" in line, run.stderr
    assert took < 20, took  # four tries of about a second each, not for ever
    partial = repo_dir(tmp_path) / "blobs" / f"{SHA}.incomplete"
    kept = partial.stat().st_size
    assert kept > 0
    hostile.hub.trickle_s = None
    hostile.hub.seen.clear()
    again = run_cli("models", "pull", "tiny")
    assert again.code == 0, again.stderr
    assert [seen.range for seen in hostile.hub.blob_requests()] == [f"bytes={kept}-"]
    assert (repo_dir(tmp_path) / "blobs" / SHA).read_bytes() == DATA and not partial.exists()


def test_a_hub_that_does_not_answer_is_cut_at_its_deadline(
        hostile: HubServer, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "TIMEOUT_S", 1.0)
    hostile.hub.head_delay_s = 5.0
    start = time.monotonic()
    run = run_cli("models", "pull", "tiny")
    assert run.code == 1 and "no answer within 1.0 s" in one_line(run.stderr)
    assert time.monotonic() - start < 4


def test_a_pull_stopped_by_sigterm_keeps_its_bytes_and_the_next_pull_resumes(
        hostile: HubServer, run_cli, tmp_path: Path) -> None:
    hostile.hub.trickle_s = 0.01  # 600 bytes over six seconds, then the hub hangs up
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    pulling = subprocess.Popen([sys.executable, "-m", "think", "models", "pull", "tiny"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    while hostile.hub.sent < 100 and pulling.poll() is None:
        time.sleep(0.05)
    pulling.send_signal(signal.SIGTERM)
    out, err = pulling.communicate(timeout=10)
    assert pulling.returncode == 143 and out == "", err
    partial = repo_dir(tmp_path) / "blobs" / f"{SHA}.incomplete"
    kept = partial.stat().st_size
    assert kept >= 100 and f"{kept:,} bytes kept" in err and "resumes" in err
    assert "Traceback" not in err
    hostile.hub.trickle_s = None
    hostile.hub.seen.clear()
    again = run_cli("models", "pull", "tiny")
    assert again.code == 0, again.stderr
    assert [seen.range for seen in hostile.hub.blob_requests()] == [f"bytes={kept}-"]
    assert again.stdout.splitlines()[0].endswith(FILE)  # the path alone, first on stdout
