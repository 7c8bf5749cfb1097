"""Model downloads against a real HTTP server on loopback: resume, checksum, 404.

The server answers HEAD as the hub does for a file it serves itself (its SHA-256 in
X-Linked-Etag, the commit in X-Repo-Commit): a pull asks for those before the bytes.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from think.errors import ModelError
from think.models.download import download

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """A loopback file server that can cut its first reply short and honours Range."""

    def __init__(self) -> None:
        self.cut_after: int | None = None
        self.pause = 0.0  # seconds between the two halves of a reply
        self.requests: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
                if not self.path.endswith("/model.gguf"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.send_header("X-Linked-Etag", f'"{DIGEST}"')
                self.send_header("X-Repo-Commit", "c" * 40)
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server.requests.append(self.headers.get("Range"))
                if not self.path.endswith("/model.gguf"):
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    self.send_response(206)
                else:
                    self.send_response(200)
                body = PAYLOAD[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    self.wfile.write(body[:server.cut_after])
                    server.cut_after = None
                    self.wfile.flush()
                    self.connection.close()
                    return
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                time.sleep(server.pause)
                self.wfile.write(body[half:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(autouse=True)
def own_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulls go to the Hugging Face cache, and other tools' stores are looked in: keep all of
    them inside the test."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for name in ("HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE", "OLLAMA_MODELS", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.httpd.shutdown()


def test_a_cut_connection_resumes_where_it_stopped(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    server.cut_after = 300_000
    with pytest.raises(ModelError) as error:
        download(f"{server.url}/repo/model.gguf", target, DIGEST, lambda d, t: None, retries=0)
    assert "run the same pull again to resume" in str(error.value)
    assert not target.exists()  # never a partial file under the final name
    partial = target.with_name("model.gguf.partial")
    assert partial.stat().st_size == 300_000
    digest = download(f"{server.url}/repo/model.gguf", target, DIGEST, lambda d, t: None)
    assert digest == DIGEST and target.read_bytes() == PAYLOAD
    assert server.requests[-1] == "bytes=300000-" and not partial.exists()


def test_retries_resume_within_one_pull(server: Server, tmp_path: Path) -> None:
    server.cut_after = 100_000
    seen: list[int] = []
    target = tmp_path / "model.gguf"
    download(f"{server.url}/r/model.gguf", target, DIGEST, lambda d, t: seen.append(d))
    assert target.read_bytes() == PAYLOAD and seen[-1] == len(PAYLOAD)
    assert server.requests == [None, "bytes=100000-"]


def test_a_wrong_checksum_is_refused_and_the_file_removed(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelError) as error:
        download(f"{server.url}/r/model.gguf", target, "0" * 64, lambda d, t: None)
    assert "SHA-256" in error.value.message
    assert not target.exists() and not target.with_name("model.gguf.partial").exists()


def test_a_404_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as error:
        download(f"{server.url}/r/missing.gguf", tmp_path / "m.gguf", None, lambda d, t: None)
    assert "404" in error.value.message and "models.yaml" in (error.value.hint or "")


def test_pull_by_name_through_the_cli(server: Server, run_cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("THINK_HUB_URL", server.url)
    from think import paths

    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        f"models:\n  tiny:\n    repo: me/tiny\n    file: model.gguf\n    sha256: {DIGEST}\n"
        "    format: chat\n")
    run = run_cli("models", "pull", "tiny")
    assert run.code == 0, run.stderr
    assert DIGEST in run.stderr
    path = Path(run.stdout.strip())
    assert path.read_bytes() == PAYLOAD and path.name == "model.gguf"
    listing = run_cli("models", "list").stdout
    assert "tiny" in listing and "installed" in listing
    removed = run_cli("models", "rm", "tiny")
    assert removed.code == 0 and not path.exists()


def test_a_model_without_a_published_hash_is_pinned_on_first_pull(server: Server, run_cli,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("THINK_HUB_URL", server.url)
    from think import paths
    from think.config import load_registry

    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        "models:\n  tiny:\n    repo: me/tiny\n    file: model.gguf\n    format: chat\n")
    assert run_cli("models", "pull", "tiny").code == 0
    assert load_registry().models["tiny"].sha256 == DIGEST


def test_a_full_disk_is_a_clear_error_and_keeps_what_was_written(server: Server,
                                                                  tmp_path: Path) -> None:
    import resource
    import signal

    target = tmp_path / "model.gguf"
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, old_limit[1]))  # the disk fills here
    try:
        with pytest.raises(ModelError) as error:
            download(f"{server.url}/r/model.gguf", target, DIGEST, lambda d, t: None)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "cannot write" in error.value.message and "disk space" in (error.value.hint or "")
    assert not target.exists()
    assert download(f"{server.url}/r/model.gguf", target, DIGEST, lambda d, t: None) == DIGEST


def test_two_pulls_of_one_model_download_it_once(server: Server, monkeypatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("THINK_HUB_URL", server.url)
    monkeypatch.setenv("THINK_MODELS_DIR", str(tmp_path / "models"))
    from think import paths
    from think.models.store import pull

    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        f"models:\n  tiny:\n    repo: me/tiny\n    file: model.gguf\n    sha256: {DIGEST}\n"
        "    format: chat\n")
    server.pause = 2.0  # long enough on a loaded machine for the second to find it busy
    waited: list[str] = []
    results: list[Path] = []

    def second() -> None:
        results.append(pull("tiny", lambda d, t: None, on_wait=lambda: waited.append("second"))[0])

    # The first pull is mid-download when the second starts.
    first = threading.Thread(target=lambda: results.append(pull("tiny", lambda d, t: None)[0]))
    first.start()
    deadline = time.monotonic() + 30
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    second()
    first.join()
    assert waited == ["second"] and len(server.requests) == 1
    assert results[0] == results[1] and results[0].read_bytes() == PAYLOAD
