"""Real servers on loopback for tests and scripts: a free port, and llama-cpp-python's own
OpenAI-compatible server on the embedded model."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from think.bench.peer import LlamaServer

from think.models import resolve


@contextmanager
def bodies_sent() -> Iterator[list[dict[str, Any]]]:
    """Every request body think's server client sends while the block runs, in order (what a
    chain asked for: its cap, its max_tokens)."""
    from think.engine.server_client import ServerClient

    sent: list[dict[str, Any]] = []
    opened = ServerClient.open

    def recording(self: ServerClient, path: str, body: dict | None, *args: Any,
                  **kwargs: Any) -> Any:
        sent.append(body or {})
        return opened(self, path, body, *args, **kwargs)

    ServerClient.open = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        ServerClient.open = opened  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    model = resolve().path
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
         "gemma3-270m", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
         "--interrupt_requests", "False"],
        stdout=subprocess.DEVNULL, stderr=log)
    return wait_until_up(process, log, f"http://127.0.0.1:{port}/v1/models",
                         "the llama-cpp-python server")


def wait_until_up(process: subprocess.Popen[bytes], log: IO[bytes], url: str,
                  what: str) -> subprocess.Popen[bytes]:
    """The server process once `url` answers; its last words (`log`, a file: a pipe nobody
    reads would fill and stall it) if it dies first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                log.seek(0)
                error = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{what} did not start:\n{error}") from None
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{what} did not answer in time")


def start_llama_server(model: Path, alias: str) -> LlamaServer:
    """llama.cpp's own llama-server (built by support.llama_server) on loopback, serving
    `model` as `alias` with 4 parallel slots, through the bench's own starter; up once it
    answers /health (its `url`; `close()` stops it)."""
    from think.bench.peer import LlamaServer

    from .llama_server import llama_server_binary

    return LlamaServer(llama_server_binary(), model, alias, slots=4, ctx=8192, threads=2)
