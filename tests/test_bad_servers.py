"""Misbehaving OpenAI-compatible servers, real sockets on loopback: every bad reply is one
error line (or a retry), runs stay within their time limits, and a batch keeps its other
questions."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import yaml
from support.bad_server import (
    GOOD_ANSWER,
    MODELS,
    STREAM_HEAD,
    Reply,
    elapsed,
    event,
    http_reply,
    serving,
    streams_with,
    text_stream,
    trickle,
    well_behaved,
)
from support.errors import one_error_line

from think import paths
from think.config import ServerSettings
from think.engine.base import SampleRequest
from think.engine.remote import RemoteEngine
from think.errors import ThinkError

Q = "What is 2 + 2?"


def server_profile(tmp_path: Path, **engine: object) -> str:
    """The default profile with a server engine's settings (the URL comes from --engine)."""
    data = yaml.safe_load(paths.shipped("profiles/default.yaml").read_text())
    data["engine"] = {"url": "http://127.0.0.1:1", **engine}
    path = tmp_path / "server.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("reply, problem", [
    (http_reply(b"<html>hello</html>"), "a model list that is not JSON"),
    (http_reply(b"\xff\xfe\xfa"), "a model list that is not UTF-8 text"),
    (http_reply(b"[1, 2]"), "a model list that is not"),
    (http_reply(b'{"data": ["a", "b"]}'), "a model list that is not"),
    (http_reply(b'{"data": null}'), "a model list that is not"),
    (b"this is not HTTP at all\r\n\r\n", "a reply that is not HTTP"),
])
def test_a_model_list_that_is_not_one_is_a_clear_error(run_cli, reply: bytes,
                                                       problem: str) -> None:
    with serving(lambda path, body: reply) as server:
        start = time.monotonic()
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2")
    assert run.code == 1 and problem in one_error_line(run.stderr)
    assert elapsed(start) < 10


@pytest.mark.parametrize("bad_event, problem", [
    (b"{this is not json}", "a stream event that is not JSON"),
    (b'{"choices": null}', "'choices' is not a list of objects"),
    (b'{"choices": "four"}', "'choices' is not a list of objects"),
    (b'{"choices": [1, 2]}', "'choices' is not a list of objects"),
    (b'[{"text": "4"}]', "a stream event that is not a JSON object"),
    (b'{"choices": [{"index": "0", "text": 4}]}', "fields of the wrong type"),
    # A reasoning server's thinking field, malformed.
    (b'{"choices": [{"index": 0, "delta": {"reasoning_content": 5}}]}',
     "fields of the wrong type"),
    (b'{"choices": [{"index": 0, "delta": {"reasoning": ["a"]}}]}', "fields of the wrong type"),
    (b'{"choices": [{"index": 0, "delta": "thinking"}]}', "delta is not an object"),
])
def test_a_stream_that_is_not_the_api_is_a_clear_error(run_cli, bad_event: bytes,
                                                       problem: str) -> None:
    stream: Reply = [STREAM_HEAD, event({"choices": [{"index": 0, "text": " so"}]}),
                     event(bad_event), b"data: [DONE]\n\n"]
    with serving(streams_with(stream)) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "--json", "-q")
    line = one_error_line(run.stderr)
    assert run.code == 1 and "every sample failed" in line and problem in line
    assert run.stdout == ""


def test_a_server_that_stalls_after_the_headers_is_cut_at_timeout_s(run_cli, tmp_path) -> None:
    profile = server_profile(tmp_path, timeout_s=2, retries=0)
    with serving(streams_with([STREAM_HEAD, 60.0])) as server:
        start = time.monotonic()
        run = run_cli("solve", Q, "--engine", server.url, "--profile", profile, "-b", "2", "-q")
    assert run.code == 1 and "did not finish its reply within 2 s" in one_error_line(run.stderr)
    assert elapsed(start) < 8


def test_a_keep_alive_trickle_is_cut_at_timeout_s(run_cli, tmp_path) -> None:
    profile = server_profile(tmp_path, timeout_s=3, retries=0)
    with serving(streams_with(trickle(45))) as server:
        start = time.monotonic()
        run = run_cli("solve", Q, "--engine", server.url, "--profile", profile, "-b", "2",
                      "--max-seconds", "5", "-q")
    assert run.code == 1 and "within 3 s" in one_error_line(run.stderr)
    assert elapsed(start) < 10


def test_a_keep_alive_trickle_is_cut_at_max_seconds(run_cli, tmp_path) -> None:
    # The thinking is cut at the deadline and the answer asked for, within a grace period.
    profile = server_profile(tmp_path, timeout_s=60, retries=0)
    with serving(streams_with(trickle(45))) as server:
        start = time.monotonic()
        run = run_cli("solve", Q, "--engine", server.url, "--profile", profile, "-b", "4",
                      "--max-seconds", "3", "-q")
        requests = len(server.requests)
    assert run.code == 1 and "no answer that could be read" in one_error_line(run.stderr)
    assert elapsed(start) < 3 + 5 + 4
    assert requests == 3  # the model list, the thinking, the forced answer


def test_a_lone_surrogate_in_the_stream_still_gives_json_and_batch_lines(
        run_cli, tmp_path) -> None:
    pieces = [" so \ud800 then", *GOOD_ANSWER]
    with serving(streams_with(text_stream(pieces))) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "--json", "-q")
        assert run.code == 0, run.stderr
        data = json.loads(run.stdout)
        assert data["answer"] == "4" and "\ufffd" in data["samples"][0]["text"]
        source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
        source.write_text("What is 2 + 2?\nWhat is 1 + 3?\n")
        run = run_cli("batch", str(source), "--engine", server.url, "-b", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    assert [json.loads(line)["answer"] for line in out.read_text().splitlines()] == ["4", "4"]


def test_one_bad_reply_in_a_batch_costs_that_question_only(run_cli, tmp_path) -> None:
    def replies(path: str, body: dict) -> Reply:
        if path.endswith("/models"):
            return MODELS
        if "poison" in json.dumps(body):
            return [STREAM_HEAD, event(b"{not json at all")]
        return well_behaved(path, body)

    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_text("What is 2 + 2?\nWhat is poison?\nWhat is 3 + 1?\n")
    with serving(replies) as server:
        run = run_cli("batch", str(source), "--engine", server.url, "-b", "2", "--out", str(out),
                      "--parallel", "2")
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert rows[0]["answer"] == "4" and rows[2]["answer"] == "4"
    assert "stream event that is not JSON" in rows[1]["error"]


def test_threads_sharing_one_server_engine_keep_their_own_failures() -> None:
    """One thread's call must not clear another's errors (think batch --parallel)."""
    def replies(path: str, body: dict) -> Reply:
        if path.endswith("/models"):
            return MODELS
        if "fail" in json.dumps(body):
            return [0.3, http_reply(b"bad request", "400 Bad Request")]
        return [0.1, *well_behaved(path, body)]

    with serving(replies) as server:
        engine = RemoteEngine(ServerSettings(url=server.url, max_in_flight=4), "base")
        engine.supports_n = False  # one request per sample, so the calls interleave
        outcomes: dict[str, object] = {}

        def call(name: str, prompt: str) -> None:
            try:
                outcomes[name] = engine.sample(SampleRequest(prompt=prompt, n=4, max_tokens=16,
                                                             answer_cue="Final answer:"))
            except ThinkError as exc:
                outcomes[name] = exc

        threads = [threading.Thread(target=call, args=(f"{kind}{i}", f"{kind} {i}?"))
                   for i in range(3) for kind in ("fail", "good")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    for name, outcome in outcomes.items():
        if name.startswith("fail"):
            assert isinstance(outcome, ThinkError) and "answered 400" in str(outcome), name
        else:
            assert not isinstance(outcome, ThinkError) and not outcome.errors, name
    assert len(outcomes) == 6


def test_a_password_in_the_engine_url_is_sent_as_basic_auth_and_never_shown(run_cli) -> None:
    with serving(lambda path, body: http_reply(b"nope")) as server:
        url = server.url.replace("http://", "http://ann:s3cret@")
        run = run_cli("solve", Q, "--engine", url, "-b", "2")
        headers = server.requests[0][2]
    line = one_error_line(run.stderr)
    assert run.code == 1 and "s3cret" not in line and "ann:***@127.0.0.1" in line
    assert headers["authorization"] == "Basic YW5uOnMzY3JldA=="  # ann:s3cret
    run = run_cli("solve", Q, "--engine", "ftp://ann:s3cret@example", "-b", "2")
    assert run.code == 2 and "s3cret" not in one_error_line(run.stderr)
