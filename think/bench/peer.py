"""llama.cpp's own llama-server as a peer for `think bench speed`: the same model, prompt,
widths and token counts, timed as generated tokens over wall seconds, both as one request for
`n` completions and as N single requests in parallel.

The binary comes from the caller (--llama-server or THINK_LLAMA_SERVER): think does not build
llama.cpp, and its core must not reach into the tests' build helper."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from think.engine.llama import extra_buffers
from think.errors import ThinkError
from think.ui.terminal_text import shown_answer

ENV = "THINK_LLAMA_SERVER"
START_SECONDS = 120


def server_binary(option: str | None) -> Path | None:
    """The llama-server named by the option or the environment, checked; None when neither."""
    name = option or os.environ.get(ENV)
    if not name:
        return None
    path = Path(name)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ThinkError(f"--llama-server {name} is not an executable file",
                         "name llama.cpp's llama-server binary (in a think checkout, "
                         "python -m tests.support.llama_server builds one and prints its path)")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """A llama-server on loopback with `slots` parallel slots, up once /health answers."""

    def __init__(self, binary: Path, model: Path, alias: str, slots: int, ctx: int,
                 threads: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: a pipe nobody reads fills up and stalls the server.
        self.log: IO[bytes] = tempfile.TemporaryFile()
        command = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port",
                   str(self.port), "-np", str(slots), "-c", str(ctx), "-t", str(threads),
                   "-tb", str(threads), "--alias", alias, "--no-webui"]
        # The same llama.cpp as llama-cpp-python's: where its AMX path crashes, the server's
        # does too, so the server loads without extra buffer types (AMX, CPU_REPACK) then.
        if not extra_buffers.decide("auto", model).enabled:
            command.append("--no-repack")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                last = self.log.read().decode(errors="replace").strip().splitlines()[-1:]
                raise ThinkError(f"llama-server exited with {self.process.returncode}: "
                                 f"{last[0] if last else 'no output'}",
                                 "run the binary by hand with the same model to see why")
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1).close()
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)  # loading, or answering 503 until the model is in
        self.close()
        raise ThinkError(f"llama-server did not answer in {START_SECONDS} s",
                         "is the machine busy? try again")

    def complete(self, prompt: str, tokens: int, seed: int, n: int = 1) -> int:
        """One /completion request; the generated tokens of all its choices."""
        body: dict[str, Any] = {"prompt": prompt, "n_predict": tokens, "temperature": 0.7,
                                "seed": seed, "ignore_eos": True, "cache_prompt": True}
        if n > 1:
            body["n_cmpl"] = n
        request = urllib.request.Request(f"{self.url}/completion", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.load(response)
        choices = answer if isinstance(answer, list) else [answer]
        return sum(int(choice["tokens_predicted"]) for choice in choices)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class PeerRow:
    """One width through llama-server: one request for n, and N requests in parallel."""

    n: int
    n_request_tokens: int
    n_request_seconds: float
    parallel_tokens: int
    parallel_seconds: float

    @property
    def n_request_tps(self) -> float:
        return self.n_request_tokens / self.n_request_seconds

    @property
    def parallel_tps(self) -> float:
        return self.parallel_tokens / self.parallel_seconds


class Peer:
    """Timings against one server, started once with the widest N's slots and context."""

    def __init__(self, server: LlamaServer, prompt: str, tokens: int) -> None:
        self.server, self.prompt, self.tokens = server, prompt, tokens
        self.pool = ThreadPoolExecutor(max_workers=server_slots(server))

    def n_request(self, n: int) -> tuple[int, float]:
        start = time.perf_counter()
        made = self.server.complete(self.prompt, self.tokens, seed=0, n=n)
        return made, time.perf_counter() - start

    def parallel(self, n: int) -> tuple[int, float]:
        start = time.perf_counter()
        made = sum(self.pool.map(lambda i: self.server.complete(self.prompt, self.tokens, i),
                                 range(n)))
        return made, time.perf_counter() - start

    def close(self) -> None:
        self.pool.shutdown()
        self.server.close()


def server_slots(server: LlamaServer) -> int:
    args = server.process.args
    assert isinstance(args, list)
    return int(args[args.index("-np") + 1])


@dataclass
class SolveTiming:
    """One solve: where it decoded, its budget, seconds and generated tokens."""

    engine: str
    budget: int
    seconds: float
    generated_tokens: int
    samples: int
    answer: str | None


def time_solves(question: str, model: str, url: str, budget: int,
                seed: int) -> list[SolveTiming]:
    """The same solve on think's local engine and through the llama-server."""
    from think import api

    timings = []
    for engine, server in (("think local", None), ("think --engine llama-server", url)):
        start = time.perf_counter()
        result = api.solve(question, budget=budget, seed=seed, model=model, server=server,
                           log=False)
        seconds = time.perf_counter() - start
        timings.append(SolveTiming(engine, budget, seconds, result.compute.generated_tokens,
                                   len(result.samples), result.answer))
    return timings


def format_peer(peer: list[PeerRow], batched_tps: dict[int, float],
                solves: list[SolveTiming]) -> list[str]:
    """The llama-server lines of `think bench speed`: think's batched tok/s beside the
    server's, and the two solves."""
    if not peer:
        return []
    lines = ["llama-server, same prompt, tokens, temperature and threads (tok/s):",
             f"{'N':>3}  {'think batched':>13}  {'server n=N':>10}  {'server N parallel':>17}  "
             f"{'think/server n':>14}  {'think/parallel':>14}"]
    for row in peer:
        think = batched_tps[row.n]
        lines.append(f"{row.n:>3}  {think:>13.1f}  {row.n_request_tps:>10.1f}  "
                     f"{row.parallel_tps:>17.1f}  {think / row.n_request_tps:>13.2f}x  "
                     f"{think / row.parallel_tps:>13.2f}x")
    for solve in solves:
        lines.append(f"budget-{solve.budget} solve, {solve.engine}: {solve.seconds:.1f} s, "
                     f"{solve.generated_tokens} tokens generated "
                     f"({solve.generated_tokens / solve.seconds:.0f} tok/s), {solve.samples} "
                     f"samples, answer {shown_answer(solve.answer)}")
    return lines
