"""A server that fails says why, and think passes it on: the error object it streams before
closing (`data: {"error": {...}}`) or the body of an error status is in the one error line,
on real sockets on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.bad_server import MODELS, STREAM_HEAD, event, http_reply, serving, streams_with
from support.errors import one_error_line

from think import paths

Q = "What is 2 + 2?"
OOM = {"error": {"code": 500, "message": "CUDA out of memory. Tried to allocate 2.00 GiB",
                 "type": "server_error"}}


def no_retries(tmp_path: Path) -> str:
    data = yaml.safe_load(paths.shipped("profiles/default.yaml").read_text())
    data["engine"] = {"url": "http://127.0.0.1:1", "retries": 0}
    path = tmp_path / "server.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def piece(text: str) -> bytes:
    return event({"choices": [{"index": 0, "text": text, "finish_reason": None}]})


@pytest.mark.parametrize("budget", ["1", "8"])
@pytest.mark.parametrize("error", [
    OOM,
    {"error": "CUDA out of memory"},  # a bare string, as some servers send it
    {"error": {"message": "CUDA out of memory"}, "choices": []},
    {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError"},
])
def test_an_error_event_in_the_stream_is_shown(run_cli, error: dict, budget: str) -> None:
    bad = [STREAM_HEAD, piece(" Let me"), event(error)]  # then the server hangs up
    with serving(streams_with(bad)) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", budget, "-q")
    line = one_error_line(run.stderr)
    assert run.code == 1 and "CUDA out of memory" in line, line
    assert "stopped with an error" in line


def test_an_error_event_costs_one_question_of_a_batch(run_cli, tmp_path: Path) -> None:
    def replies(path: str, body: dict) -> bytes | list:
        if path.endswith("/models"):
            return MODELS
        if "poison" in json.dumps(body):
            return [STREAM_HEAD, event(OOM)]
        return [STREAM_HEAD, piece(" 4"), piece("\n"), b"data: [DONE]\n\n"]

    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_text("What is 2 + 2?\nWhat is poison?\n")
    with serving(replies) as server:
        run = run_cli("batch", str(source), "--engine", server.url, "-b", "1", "--out", str(out))
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["answer"] == "4" and "CUDA out of memory" in rows[1]["error"]


@pytest.mark.parametrize("status", ["500 Internal Server Error", "400 Bad Request",
                                    "503 Service Unavailable"])
def test_the_message_of_an_error_status_is_shown(run_cli, tmp_path: Path, status: str) -> None:
    # Padding first, as servers put their error's fields: the message is past 300 bytes.
    body = json.dumps({"object": "error", "param": None, "detail": "x" * 400, **OOM}).encode()
    with serving(streams_with(http_reply(body, status))) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "1", "-q",
                      "--profile", no_retries(tmp_path))
    line = one_error_line(run.stderr)
    assert run.code == 1 and "CUDA out of memory" in line and status[:3] in line, line
    assert "xxxxxxxxxx" not in line  # the message, not the raw body
