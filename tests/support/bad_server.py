"""A real HTTP server on loopback that speaks the OpenAI API well or badly, as a test asks.

It writes raw bytes on real sockets (no patched HTTP layer), so think meets exactly what a
broken, hostile or overloaded server sends: replies that are not JSON, not UTF-8 or the
wrong shape, stream lines that are not JSON, silence after the headers, keep-alive trickles.
A reply is chosen per request by `replies(path, body)`, which returns the bytes to send:
raw bytes, or a list whose items are bytes to write or numbers of seconds to wait.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Reply = bytes | list[bytes | float]
Replies = Callable[[str, dict[str, Any]], Reply]


def http_reply(body: bytes, status: str = "200 OK",
               content_type: str = "application/json") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
               b"Connection: close\r\n\r\n")


def event(data: Any) -> bytes:
    """One server-sent event; `data` is JSON-encoded unless it is bytes already."""
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    return b"data: " + payload + b"\n\n"


def text_stream(pieces: list[str], n: int = 1) -> list[bytes | float]:
    """A well-formed completions stream: each piece to each of n choices, then [DONE]."""
    events: list[bytes | float] = [STREAM_HEAD]
    for piece in pieces:
        for index in range(n):
            events.append(event({"choices": [{"index": index, "text": piece,
                                              "finish_reason": None}]}))
    events.append(b"data: [DONE]\n\n")
    return events


GOOD_ANSWER = [" 2 + 2 = 4.", "\nFinal answer:", " 4", "\n"]
MODELS = http_reply(json.dumps({"data": [{"id": "stub"}]}).encode())


def well_behaved(path: str, body: dict[str, Any]) -> Reply:
    if path.endswith("/models"):
        return MODELS
    return text_stream(GOOD_ANSWER, body.get("n", 1))


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(10)
        try:
            path, body, headers = _read_request(conn)
        except (OSError, ValueError):
            return
        self.server.requests.append((path, body, headers))
        reply = self.server.replies(path, body)
        try:
            for part in [reply] if isinstance(reply, bytes) else reply:
                if isinstance(part, bytes):
                    conn.sendall(part)
                elif self.server.stopping.wait(part):
                    return
        except OSError:
            return  # think hung up: what a client may do


def _read_request(conn: socket.socket) -> tuple[str, dict[str, Any], dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("closed before the headers ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return path, json.loads(rest) if rest else {}, headers


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    replies: Replies
    requests: list[tuple[str, dict[str, Any], dict[str, str]]]
    stopping: threading.Event


@contextmanager
def serving(replies: Replies = well_behaved) -> Iterator[_Server]:
    """A server on a free loopback port for the duration; `server.url` is its address."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.replies, server.requests, server.stopping = replies, [], threading.Event()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()  # wakes handlers that are stalling on purpose
        server.shutdown()
        server.server_close()


def streams_with(bad: Reply) -> Replies:
    """A server whose model list is fine and whose every completion is `bad`."""
    def replies(path: str, body: dict[str, Any]) -> Reply:
        return MODELS if path.endswith("/models") else bad
    return replies


def trickle(seconds: float, every: float = 1.0) -> list[bytes | float]:
    """Headers, then a keep-alive comment every `every` seconds for `seconds`."""
    parts: list[bytes | float] = [STREAM_HEAD]
    for _ in range(int(seconds / every)):
        parts += [b": keep-alive\n\n", every]
    return parts


def elapsed(start: float) -> float:
    return time.monotonic() - start
