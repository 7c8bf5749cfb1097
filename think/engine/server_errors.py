"""A failing server's own words: the error object an OpenAI-compatible server streams before
it closes (`data: {"error": {"message": "CUDA out of memory", ...}}`) or sends as the body of
an error status, as one short line for think's error message."""

from __future__ import annotations

import json
from typing import Any

MOST_CHARS = 300  # of the server's message in think's one line
MAX_BODY = 64 << 10  # of an error status's body read for its message


class ServerFailed(Exception):
    """The server streamed an error object instead of more of its reply."""


def one_line(text: str) -> str:
    """Text as one bounded line: whitespace runs (line breaks too) become a space."""
    text = " ".join(text.encode("utf-8", "replace").decode("utf-8").split())
    return text if len(text) <= MOST_CHARS else text[:MOST_CHARS] + "..."


def error_message(error: Any) -> str:
    """The message of an error object: `{"message": ...}` (llama-server, vLLM, SGLang, the
    OpenAI API), a bare string, else the object itself."""
    if isinstance(error, dict):
        for key in ("message", "msg", "detail", "error"):
            if isinstance(error.get(key), (str, dict)):
                return error_message(error[key])
    if isinstance(error, str):
        return one_line(error)
    return one_line(json.dumps(error, default=str))


def raise_if_error(event: dict[str, Any]) -> None:
    """Raise ServerFailed where a stream event is the server's error, not choices:
    `{"error": ...}`, or vLLM's `{"object": "error", "message": ...}`."""
    if event.get("error") is not None:
        raise ServerFailed(error_message(event["error"]))
    if event.get("object") == "error":
        raise ServerFailed(error_message(event))


def status_detail(body: bytes) -> str:
    """What an error status's body says: its error's message where it is JSON with one
    (`{"error": {...}}`, `{"object": "error", "message": ...}`, `{"detail": ...}`), else the
    start of its text."""
    text = body[:MAX_BODY].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return one_line(text)
    if isinstance(data, dict) and any(data.get(key) is not None
                                      for key in ("error", "message", "detail")):
        return error_message(data.get("error") or data)
    return one_line(text)
