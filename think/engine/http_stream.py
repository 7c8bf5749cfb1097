"""Replies of the server engine, read bounded whatever the server sends.

Each request has a hard time limit (think.bounded_http's watchdog). Replies are read a
bounded line at a time, and every server-sent-events payload is checked to be the shape the
OpenAI API promises before anything in it is used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from think.engine.server_errors import raise_if_error

MAX_LINE_BYTES = 1 << 20  # one stream line; a longer one is not a server speaking the API
MAX_BODY_BYTES = 4 << 20  # a whole non-streamed reply (/v1/models)
MAX_COUNT = 1 << 31  # past any context: a larger token count is no count


class BadReply(Exception):
    """The server's reply is not what the OpenAI API promises; the message says how."""


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

    def capped(self, prompt_most: int, completion_most: int) -> Usage:
        """The counts no higher than what could have been used: a server that reports more
        tokens than the context holds or than were asked for is not believed past that."""
        completion = min(self.completion_tokens, completion_most)
        reasoning = None if self.reasoning_tokens is None \
            else min(self.reasoning_tokens, completion)
        return Usage(min(self.prompt_tokens, prompt_most), completion, reasoning)


def stream_event(payload: bytes) -> tuple[list[Delta], Usage | None]:
    """The choices' deltas in one stream event, and the usage it reports, if any."""
    event = parse_json(payload, "a stream event")
    if not isinstance(event, dict):
        raise BadReply(f"a stream event that is not a JSON object: {_excerpt(payload)}")
    raise_if_error(event)  # the server's own words for why it stops (out of memory, say)
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
        numbers = [v for v in top if _logprob(v)]
        if not _logprob(chosen) or not numbers:
            return ()  # NaN, infinities, positive or absurd values: no server's logprobs
        scores.append((float(chosen), -sum(numbers) / len(numbers)))
    return tuple(scores)


def _logprob(value: Any) -> bool:
    """A log-probability a server could send: a finite number in [-1e4, 0] (a little above
    0 is rounding)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and -1e4 <= value <= 1e-3


def _usage(data: Any) -> Usage | None:
    """A usage object's counts; None where it is missing or not numbers (then think counts)."""
    if not isinstance(data, dict):
        return None
    prompt, completion = data.get("prompt_tokens"), data.get("completion_tokens")
    if not (_count(prompt) and _count(completion)):
        return None
    details = data.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return Usage(prompt, completion, reasoning if _count(reasoning) else None)


def _count(value: Any) -> bool:
    """A token count: a whole number from 0 to MAX_COUNT (NaN, 1e300 and -5 are not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


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
