"""HTTP for the server engine, bounded whatever the server does.

Each request has a hard time limit: a watchdog shuts its socket down when the time is up,
so a server that stalls, trickles `: keep-alive` lines or sends headers a byte at a time
cannot hold think past it (a socket timeout alone restarts with every byte). Replies are
read a bounded line at a time, and every server-sent-events payload is checked to be the
shape the OpenAI API promises before anything in it is used.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_LINE_BYTES = 1 << 20  # one stream line; a longer one is not a server speaking the API
MAX_BODY_BYTES = 4 << 20  # a whole non-streamed reply (/v1/models)


class BadReply(Exception):
    """The server's reply is not what the OpenAI API promises; the message says how."""


class Watchdog:
    """Shuts down the sockets of one request when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on this socket
    except OSError:
        pass


def _watched(base: type[http.client.HTTPConnection], watchdog: Watchdog) -> Any:
    """A connection class that hands its socket to the watchdog as soon as it has one."""

    class Watched(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    return Watched


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.watchdog), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: Watchdog) -> None:
        super().__init__()
        self.watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPSConnection, self.watchdog), req,
                            context=self._context)  # type: ignore[attr-defined]


def open_watched(request: urllib.request.Request, watchdog: Watchdog,
                 socket_timeout: float) -> Any:
    """urlopen, with every socket the request opens under the watchdog."""
    opener = urllib.request.build_opener(_HTTPHandler(watchdog), _HTTPSHandler(watchdog))
    return opener.open(request, timeout=socket_timeout)


def read_body(response: Any) -> bytes:
    body = response.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise BadReply(f"a reply of over {MAX_BODY_BYTES >> 20} MiB")
    return bytes(body)


def parse_json(data: bytes, what: str) -> Any:
    """JSON from a reply; not UTF-8, not JSON or nested past reason is a BadReply."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadReply(f"{what} that is not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise BadReply(f"{what} that is not JSON: {_excerpt(data)}") from None


def served_models(data: bytes) -> list[str]:
    """The model ids in a /v1/models reply (`{"data": [{"id": ...}, ...]}`)."""
    listing = parse_json(data, "a model list")
    items = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in items):
        raise BadReply(f"a model list that is not {{\"data\": [{{\"id\": ...}}]}}: "
                       f"{_excerpt(data)}")
    return [clean_text(item["id"]) for item in items]


def served_by(data: bytes) -> set[str]:
    """Who the models in a /v1/models reply are `owned_by` ("llamacpp" for llama-server);
    call it on a reply served_models has accepted."""
    items = parse_json(data, "a model list")["data"]
    return {item["owned_by"] for item in items if isinstance(item.get("owned_by"), str)}


def event_payloads(response: Any) -> Iterator[bytes]:
    """The `data:` payloads of a server-sent-events stream, up to `[DONE]` or its end."""
    while True:
        raw = response.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise BadReply(f"a stream line of over {MAX_LINE_BYTES >> 20} MiB")
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue  # comments (`: keep-alive`), event names, blank separators
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        yield payload


@dataclass(frozen=True)
class Delta:
    """What one stream event says of one choice: its answer text, its thinking (servers that
    split it off: `reasoning_content` in llama-server and SGLang, `reasoning` in vLLM) and
    its finish reason."""

    index: int
    text: str
    reason: str | None = None
    thinking: str = ""
    scores: tuple[tuple[float, float], ...] = ()  # per token: its logprob, its confidence


@dataclass(frozen=True)
class Usage:
    """A reply's token counts, from the server's own tokenizer (its `usage` object)."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int | None = None


def stream_event(payload: bytes) -> tuple[list[Delta], Usage | None]:
    """The choices' deltas in one stream event, and the usage it reports, if any."""
    event = parse_json(payload, "a stream event")
    if not isinstance(event, dict):
        raise BadReply(f"a stream event that is not a JSON object: {_excerpt(payload)}")
    choices = event.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise BadReply(f"a stream event whose 'choices' is not a list of objects: "
                       f"{_excerpt(payload)}")
    return [_delta(choice, payload) for choice in choices], _usage(event.get("usage"))


def _delta(choice: dict[str, Any], payload: bytes) -> Delta:
    text, thinking = choice.get("text"), None
    if text is None:
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise BadReply(f"a stream choice whose delta is not an object: {_excerpt(payload)}")
        text = delta.get("content")
        thinking = delta.get("reasoning_content") or delta.get("reasoning")
    index, reason = choice.get("index", 0), choice.get("finish_reason")
    if not (isinstance(text, (str, type(None))) and isinstance(thinking, (str, type(None)))
            and isinstance(index, int) and isinstance(reason, (str, type(None)))):
        raise BadReply(f"a stream choice with fields of the wrong type: {_excerpt(payload)}")
    return Delta(index, clean_text(text or ""), reason, clean_text(thinking or ""),
                 token_scores(choice.get("logprobs")))


def token_scores(data: Any) -> tuple[tuple[float, float], ...]:
    """Each token's (log-probability, confidence) from a choice's `logprobs`, where the
    server sent them: chat's `{"content": [{"logprob", "top_logprobs": [{"logprob"}]}]}` or
    completions' `{"token_logprobs": [...], "top_logprobs": [{token: logprob}]}`. The
    confidence is DeepConf's: minus the mean of the token's top log-probabilities. Anything
    else (none sent, another shape) gives none: the vote then counts plainly."""
    if not isinstance(data, dict):
        return ()
    pairs: list[tuple[Any, Any]] = []
    if isinstance(data.get("content"), list):
        pairs = [(t.get("logprob"), [c.get("logprob") for c in t.get("top_logprobs") or []
                                     if isinstance(c, dict)])
                 for t in data["content"] if isinstance(t, dict)]
    elif isinstance(data.get("token_logprobs"), list) and isinstance(
            data.get("top_logprobs"), list):
        pairs = [(lp, list(top.values()) if isinstance(top, dict) else [])
                 for lp, top in zip(data["token_logprobs"], data["top_logprobs"], strict=False)]
    scores = []
    for chosen, top in pairs:
        numbers = [v for v in top if isinstance(v, (int, float))]
        if not isinstance(chosen, (int, float)) or not numbers:
            return ()
        scores.append((float(chosen), -sum(numbers) / len(numbers)))
    return tuple(scores)


def _usage(data: Any) -> Usage | None:
    """A usage object's counts; None where it is missing or not numbers (then think counts)."""
    if not isinstance(data, dict):
        return None
    prompt, completion = data.get("prompt_tokens"), data.get("completion_tokens")
    if not (isinstance(prompt, int) and isinstance(completion, int)):
        return None
    details = data.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return Usage(prompt, completion, reasoning if isinstance(reasoning, int) else None)


def clean_text(text: str) -> str:
    """Text that can be printed and written as UTF-8: JSON can carry lone surrogates
    (`"\\ud800"`), which no terminal or file encoding accepts."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _excerpt(data: bytes) -> str:
    shown = data[:60].decode("utf-8", "replace")
    return repr(shown + ("..." if len(data) > 60 else ""))
