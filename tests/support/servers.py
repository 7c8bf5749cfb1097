"""Real servers on loopback for tests and scripts: a free port, and llama-cpp-python's own
OpenAI-compatible server on the embedded model."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from think.models import resolve


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    model = resolve().path
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
         "gemma3-270m", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
         "--interrupt_requests", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the llama-cpp-python server did not start") from None
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the llama-cpp-python server did not answer in time")
