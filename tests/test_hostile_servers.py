"""A hostile OpenAI-compatible server, real sockets on loopback: the API key never follows a
redirect to another host and never becomes a second header; usage and logprobs that are no
numbers, or more than was asked, are not believed; a reply nested past reason is one line."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support.bad_server import (
    GOOD_ANSWER,
    STREAM_HEAD,
    Reply,
    event,
    http_reply,
    serving,
    streams_with,
    text_stream,
    well_behaved,
)
from support.errors import one_error_line
from test_bad_servers import server_profile

from think.bounded_http import keeps_credentials

Q = "What is 2 + 2?"
KEY = "sk-very-secret"


def redirect_to(base: str, code: str = "307 Temporary Redirect") -> Any:
    """Replies that send every request on to the same path at base (307 keeps the body; a
    302 turns a POST into a bodiless GET, which the well-behaved server answers too)."""
    def replies(path: str, body: dict[str, Any]) -> Reply:
        return (f"HTTP/1.1 {code}\r\nLocation: {base}{path}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n").encode()
    return replies


@pytest.mark.parametrize("code", ["302 Found", "307 Temporary Redirect"])
def test_the_api_key_does_not_follow_a_redirect_to_another_host(
        run_cli, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setenv("THINK_API_KEY", KEY)
    with serving() as other, serving(redirect_to(other.url.replace("127.0.0.1", "localhost"),
                                                 code)) as first:
        run = run_cli("solve", Q, "--engine", first.url, "-b", "2", "-q")
        asked, forwarded = list(first.requests), list(other.requests)
    assert run.code == 0 and run.stdout.strip() == "4", run.stderr
    assert asked and all(h.get("authorization") == f"Bearer {KEY}" for _, _, h in asked)
    assert forwarded and all("authorization" not in h for _, _, h in forwarded)


def test_the_api_key_follows_a_redirect_on_the_same_server(
        run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINK_API_KEY", KEY)

    def moved(path: str, body: dict[str, Any]) -> Reply:
        if path.startswith("/new"):
            return well_behaved(path, body)
        return redirect_to(server.url + "/new")(path, body)

    with serving(moved) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "-q")
        seen = list(server.requests)
    assert run.code == 0 and run.stdout.strip() == "4", run.stderr
    assert all(h.get("authorization") == f"Bearer {KEY}" for _, _, h in seen)


@pytest.mark.parametrize("old, new, kept", [
    ("http://h:8080/v1", "http://h:8080/v2", True),
    ("http://h/v1", "https://h/v1", True),  # the upgrade to TLS
    ("https://h/v1", "https://h:443/v1", True),
    ("https://h/v1", "http://h/v1", False),  # a downgrade would send it in the clear
    ("http://h:8080/v1", "http://h:8081/v1", False),
    ("http://h/v1", "http://other/v1", False),
    ("http://h/v1", "http://h.other/v1", False),
])
def test_which_redirects_keep_credentials(old: str, new: str, kept: bool) -> None:
    assert keeps_credentials(old, new) is kept


@pytest.mark.parametrize("key", ["sk-a\nX-Injected: 1", "sk-a\r\nX: 1", "sk-a\x7fb"])
def test_an_api_key_with_a_line_break_is_one_line_and_never_sent(
        run_cli, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("THINK_API_KEY", key)
    with serving() as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "-q")
        asked = list(server.requests)
    line = one_error_line(run.stderr)
    assert run.code == 1 and "THINK_API_KEY" in line and "line break" in line
    assert "sk-a" not in line and asked == []


def with_usage(usage: bytes) -> list[bytes | float]:
    """A good answer whose first event reports `usage` as raw JSON (think stops reading a
    stream once its answer is complete, so a last event might not be read)."""
    stream = text_stream(GOOD_ANSWER)
    return [stream[0], b'data: {"choices": [], "usage": ' + usage + b"}\n\n", *stream[1:]]


@pytest.mark.parametrize("usage", [
    b'{"prompt_tokens": NaN, "completion_tokens": 3}',
    b'{"prompt_tokens": 10, "completion_tokens": Infinity}',
    b'{"prompt_tokens": 1e400, "completion_tokens": 3}',
    b'{"prompt_tokens": -50, "completion_tokens": -7}',
    b'{"prompt_tokens": true, "completion_tokens": 3}',
    b'{"prompt_tokens": 10, "completion_tokens": 3, '
    b'"completion_tokens_details": {"reasoning_tokens": NaN}}',
])
def test_usage_that_is_no_count_is_not_believed(run_cli, usage: bytes) -> None:
    with serving(streams_with(with_usage(usage))) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "--json", "-q")
    assert run.code == 0, run.stderr
    compute = json.loads(run.stdout)["compute"]
    assert 0 < compute["prompt_tokens"] < 1000 and 0 < compute["generated_tokens"] < 1000
    assert 0 < compute["used"] < 10


def test_usage_past_what_was_asked_is_capped_at_it(run_cli) -> None:
    huge = b'{"prompt_tokens": 7800000000000000, "completion_tokens": 7800000000000000}'
    with serving(streams_with(with_usage(huge))) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "--json", "-q")
    assert run.code == 0, run.stderr
    compute = json.loads(run.stdout)["compute"]
    # No more than the context for the prompt, nor the samples' caps for what was written.
    assert compute["prompt_tokens"] <= 32768 and compute["used"] < 150


@pytest.mark.parametrize("logprob", [b"NaN", b"-Infinity", b"1e308", b"-1e308"])
def test_logprobs_that_are_no_numbers_are_ignored(run_cli, logprob: bytes) -> None:
    events: list[bytes | float] = [STREAM_HEAD]
    for piece in GOOD_ANSWER:
        events.append(b'data: {"choices": [{"index": 0, "text": ' + json.dumps(piece).encode()
                      + b', "logprobs": {"token_logprobs": [' + logprob + b'], '
                      b'"top_logprobs": [{"a": ' + logprob + b"}]}}]}\n\n")
    events.append(b"data: [DONE]\n\n")
    with serving(streams_with(events)) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "--json", "-q")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["answer"] == "4"


def test_a_stream_event_nested_past_reason_is_one_line(run_cli) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with serving(streams_with([STREAM_HEAD, event(deep)])) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "-q")
    assert run.code == 1 and "not JSON" in one_error_line(run.stderr)


def test_a_token_count_nested_past_reason_is_no_count(run_cli) -> None:
    # llama-server's /tokenize answered with JSON no decoder can take: think estimates.
    listing = http_reply(json.dumps({"data": [{"id": "stub", "owned_by": "llamacpp"}]}).encode())

    def replies(path: str, body: dict[str, Any]) -> Reply:
        if path.endswith("/models"):
            return listing
        if path.endswith("/tokenize"):
            return http_reply(b'{"tokens": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        return well_behaved(path, body)

    with serving(replies) as server:
        run = run_cli("solve", Q, "--engine", server.url, "-b", "2", "-q")
    assert run.code == 0 and run.stdout.strip() == "4", run.stderr


def test_a_stream_that_never_ends_holds_a_vote_for_timeout_s_once(run_cli, tmp_path) -> None:
    # Every reply goes on for ever (empty deltas): the first is cut at timeout_s and the
    # rest of the vote fails with it, instead of one timeout_s per sample.
    endless: list[bytes | float] = [STREAM_HEAD]
    endless += [event({"choices": [{"index": 0, "text": ""}]}), 0.05] * 1200
    profile = server_profile(tmp_path, timeout_s=2, retries=0)
    with serving(streams_with(endless)) as server:
        start = time.monotonic()
        run = run_cli("solve", Q, "--engine", server.url, "--profile", profile, "-b", "20",
                      "-q")
    assert run.code == 1 and "did not finish its reply within 2 s" in one_error_line(run.stderr)
    assert time.monotonic() - start < 6
