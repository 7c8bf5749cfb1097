"""Real signals on a real `think` process: SIGTERM ends solve, batch (one question at a time or
several) and a pull with exit 143 and "Terminated.", as shells and supervisors expect, and
SIGINT with 130; promptly, with no traceback, and with what was written kept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hub_server import HubFile, HubServer
from support.stub_openai import StubHandler, serve
from test_hub_pull import DATA, FILE, REPO, register

REPO_ROOT = Path(__file__).resolve().parent.parent


class Stalling(StubHandler):
    """Answers the first question at once; every later one keeps its stream open, saying
    nothing, for a minute: think is mid-question when the signal comes."""

    def post(self) -> None:
        request = self.read_request()
        try:
            if "1+1" in json.dumps(request):
                for index in range(request.get("n", 1)):
                    self.event({"choices": [{"index": index, "text": " 2\nFinal answer: 2\n",
                                             "finish_reason": "stop"}]})
                self.done()
                return
            for _ in range(600):
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # think hung up


class Slow(StubHandler):
    """Answers `qN` to the question that names the token qN, a piece every `pause` seconds
    (the server's), recording which tokens it was asked for: questions are in flight for a
    while, several at once, and finish in no fixed order."""

    def post(self) -> None:
        request = self.read_request()
        asked = request.get("prompt") or json.dumps(request.get("messages"))
        ident = re.findall(r"the token (q\d+)", asked)[-1]
        self.server.asked.append(ident)  # type: ignore[attr-defined]
        pause = self.server.pause * (1 + int(ident[1:]) % 3)  # type: ignore[attr-defined]
        try:
            for text in [f" {ident}", "\nFinal", " answer:", f" {ident}", "\n"]:
                self.event({"choices": [{"index": 0, "text": text, "finish_reason": None}]})
                self.wfile.flush()
                time.sleep(pause)
            self.event({"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})
            self.done()
        except OSError:
            pass  # think hung up


@pytest.fixture
def stalling() -> Iterator[tuple[object, str]]:
    httpd, url = serve(Stalling)
    yield httpd, url
    httpd.shutdown()


def think(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "think", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})})


def stop(process: subprocess.Popen[str], signum: int, ready) -> tuple[int, str, str, float]:
    """Send the signal once `ready()` holds; exit code, stdout, stderr, seconds to exit."""
    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    time.sleep(0.3)  # into the request, past its start
    process.send_signal(signum)
    sent = time.monotonic()
    try:
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return process.returncode, out, err, time.monotonic() - sent


SIGNALS = [(signal.SIGTERM, 143, "Terminated."), (signal.SIGINT, 130, "Interrupted.")]


@pytest.mark.parametrize("signum, code, word", SIGNALS)
@pytest.mark.parametrize("parallel", ["1", "4"])
def test_a_signal_mid_batch_exits_with_its_own_code(stalling, tmp_path: Path, parallel: str,
                                                    signum: int, code: int, word: str) -> None:
    httpd, url = stalling
    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_text("What is 1+1?\nWhat is 2+2?\nWhat is 3+3?\n")
    process = think("batch", str(source), "--engine", url, "--model", "stub", "-b", "1",
                    "--parallel", parallel, "--out", str(out), "--task", "math",
                    env={"THINK_HOME": str(tmp_path / "home")})
    returned, _, err, seconds = stop(process, signum, lambda: len(httpd.requests) >= 2)
    assert (returned, err.strip().splitlines()[-1]) == (code, word), err
    assert "Traceback" not in err and seconds < 5, (seconds, err)
    assert [json.loads(line)["answer"] for line in out.read_text().splitlines()] == ["2"]


@pytest.mark.parametrize("signum, code, word", SIGNALS)
def test_a_signal_mid_solve_exits_with_its_own_code(stalling, tmp_path: Path, signum: int,
                                                    code: int, word: str) -> None:
    httpd, url = stalling
    process = think("solve", "What is 2+2?", "--engine", url, "--model", "stub", "-b", "1",
                    env={"THINK_HOME": str(tmp_path / "home")})
    returned, out, err, seconds = stop(process, signum, lambda: httpd.requests)
    assert (returned, err.strip().splitlines()[-1]) == (code, word), err
    assert "Traceback" not in err and out == "" and seconds < 5


@pytest.fixture
def trickling_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    server = HubServer()
    server.hub.files[(REPO, FILE)] = HubFile(DATA)
    server.hub.trickle_s = 0.01
    register()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("THINK_HUB_URL", "HF_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.stop()


@pytest.mark.parametrize("signum, code, word", SIGNALS)
def test_a_signal_mid_pull_exits_with_its_own_code(trickling_hub: HubServer, signum: int,
                                                   code: int, word: str) -> None:
    process = think("models", "pull", "tiny")
    returned, out, err, seconds = stop(process, signum, lambda: trickling_hub.hub.sent >= 50)
    assert (returned, err.strip().splitlines()[-1]) == (code, word), err
    assert "Traceback" not in err and out == "" and seconds < 5


def test_ctrl_c_under_parallel_keeps_the_records_in_order_and_resume_answers_the_rest(
        tmp_path: Path) -> None:
    httpd, url = serve(Slow)
    httpd.asked, httpd.pause = [], 0.15  # type: ignore[attr-defined]
    ids = [f"q{n}" for n in range(16)]
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"id": ident, "question": f"Repeat the token {ident}."})
                              + "\n" for ident in ids))
    args = ("batch", str(source), "--engine", url, "--model", "stub", "-b", "1",
            "--parallel", "4", "--task", "text", "--out", str(out))
    env = {"THINK_HOME": str(tmp_path / "home")}
    try:
        returned, _, err, seconds = stop(
            think(*args, env=env), signal.SIGINT,
            lambda: out.exists() and len(out.read_text().splitlines()) >= 2)
        assert (returned, err.strip().splitlines()[-1]) == (130, "Interrupted."), err
        assert "Traceback" not in err and seconds < 5, (seconds, err)
        text = out.read_text()
        assert text.endswith("\n")  # no torn line
        kept = [json.loads(line) for line in text.splitlines()]
        assert 2 <= len(kept) < len(ids)
        assert [row["id"] for row in kept] == ids[:len(kept)]  # input order, no gap
        assert all(row["answer"] == row["id"] for row in kept), kept

        httpd.asked, httpd.pause = [], 0.0  # type: ignore[attr-defined]
        rerun = think(*args, env=env)
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        assert sorted(httpd.asked) == sorted(ids[len(kept):])  # only the rest
    finally:
        httpd.shutdown()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ids
    assert all(row["answer"] == row["id"] for row in rows)
