"""The common part of the tests' stub OpenAI-compatible servers: a model list, a request body
read and recorded, and an event stream opened; each stub says what it streams."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any


class StubHandler(http.server.BaseHTTPRequestHandler):
    """Serves `model_id` at /v1/models; `read_request` records each POST body on the server
    (its `requests` list, when it has one) and starts the event stream."""

    model_id = "stub"
    owned_by = ""  # what /v1/models says owns the model ("llamacpp", "vllm"): none when empty

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        item = {"id": self.model_id, **({"owned_by": self.owned_by} if self.owned_by else {})}
        body = json.dumps({"data": [item]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        if not self.path.endswith("completions"):  # /tokenize and the like: not served
            self.send_error(404)
            return
        self.post()

    def post(self) -> None:
        """What the stub streams for a completion request (each stub says)."""
        raise NotImplementedError

    def read_request(self) -> dict[str, Any]:
        """The POST body, recorded, with the reply's event stream begun."""
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        requests = getattr(self.server, "requests", None)
        if requests is not None:
            requests.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        return request

    def event(self, data: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())

    def done(self) -> None:
        self.wfile.write(b"data: [DONE]\n\n")


def serve(handler: type[http.server.BaseHTTPRequestHandler]
          ) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A stub server on loopback that records the bodies it is sent; its URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
