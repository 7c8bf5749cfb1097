"""A Hugging Face hub on loopback that speaks the resolve protocol: HEAD or GET on
/{repo}/resolve/{revision}/{file} answers 302 with X-Linked-Etag (the LFS SHA-256, quoted),
ETag, X-Linked-Size and X-Repo-Commit, pointing at /blobs/{sha}, which honours Range with 206.
A gated repo answers 401 unless the right bearer token is sent. A test may make it hostile:
a redirect through the hub itself, a forged etag, commit or size, a trickled body, a slow
answer. GET /api/models/{repo}/revision/{revision} lists a repo's files.

Every request is recorded (method, path, Range, Authorization) so tests can see what was
asked for and what bytes were sent.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field

COMMIT = "a" * 40


@dataclass
class HubFile:
    """A file of one repo on the fake hub."""

    data: bytes
    sha256: str = ""  # what the hub says the file's SHA-256 is (default: the truth)
    gated_token: str | None = None  # the bearer token it needs, if gated

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class Seen:
    method: str
    path: str
    range: str | None
    auth: str | None


@dataclass
class Hub:
    """The fake hub's files by (repo, file), and what it has been asked."""

    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    cut_after: int | None = None  # cut the next blob reply after this many bytes
    commit: str = COMMIT
    linked_etag: bool = True  # False: a mirror that sends the file's hash as its ETag alone
    sent: int = 0  # blob bytes sent in all
    url: str = ""
    blob_url: str = ""  # another host name for the same server, as the hub's CDN is
    hop: bool = False  # the resolve points at the hub itself, which redirects to the CDN
    etag: str | None = None  # a linked etag to send instead of the file's hash (hostile)
    size: str | None = None  # an X-Linked-Size to send instead of the file's (hostile)
    trickle_s: float | None = None  # send the blob a byte every this many seconds
    head_delay_s: float = 0.0  # wait this long before answering a resolve

    def blob_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/blobs/") and s.method == "GET"]


class Handler(http.server.BaseHTTPRequestHandler):
    hub: Hub  # set on a subclass per server

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.hub.seen.append(Seen(self.command, self.path, self.headers.get("Range"),
                                  self.headers.get("Authorization")))
        if self.path.startswith("/blobs/"):
            self._blob(self.path.removeprefix("/blobs/"), body)
        elif self.path.startswith("/api/models/"):
            self._listing()
        elif self.path.startswith("/hop/"):
            self.send_response(302)
            self.send_header("Location", self.hub.blob_url + self.path.removeprefix("/hop"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            time.sleep(self.hub.head_delay_s)
            self._resolve()

    def _listing(self) -> None:
        """GET /api/models/ORG/REPO/revision/REV: the repo's files, as the hub lists them."""
        repo, _, revision = self.path.removeprefix("/api/models/").partition("/revision/")
        files = [name for (known, name) in self.hub.files if known == repo]
        if not files or revision not in ("main", self.hub.commit):
            self.send_error(404)
            return
        body = json.dumps({"id": repo, "sha": self.hub.commit,
                           "siblings": [{"rfilename": name} for name in files]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _resolve(self) -> None:
        head, _, rest = self.path.lstrip("/").partition("/resolve/")
        revision, _, name = rest.partition("/")
        known = self.hub.files.get((head, name))
        if known is None or revision not in ("main", self.hub.commit):
            self.send_error(404)
            return
        if known.gated_token and self.headers.get("Authorization") != (
                f"Bearer {known.gated_token}"):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(302)
        digest = hashlib.sha256(known.data).hexdigest()
        where = f"{self.hub.url}/hop" if self.hub.hop else self.hub.blob_url
        self.send_header("Location", f"{where}/blobs/{digest}")
        if self.hub.linked_etag:
            self.send_header("X-Linked-Etag", f'"{self.hub.etag or known.sha256}"')
            self.send_header("ETag", '"0123456789abcdef0123456789abcdef01234567"')
        else:
            self.send_header("ETag", f'"{known.sha256}"')
        self.send_header("X-Linked-Size", self.hub.size or str(len(known.data)))
        self.send_header("X-Repo-Commit", self.hub.commit)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _blob(self, digest: str, body: bool) -> None:
        data = next((f.data for f in self.hub.files.values()
                     if hashlib.sha256(f.data).hexdigest() == digest), None)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(data):  # nothing left to send: as real servers answer
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        part = data[start:]
        self.send_header("Content-Length", str(len(part)))
        self.send_header("ETag", f'"{digest}"')
        self.end_headers()
        if not body:
            return
        if self.hub.trickle_s is not None:
            self._trickle(part)
            return
        if self.hub.cut_after is not None:
            part, self.hub.cut_after = part[:self.hub.cut_after], None
            self.hub.sent += len(part)
            self.wfile.write(part)
            self.wfile.flush()
            self.connection.close()
            return
        # Counted before the write: the client may have read every byte and moved on
        # before this thread runs again, and the test reads the count at once.
        self.hub.sent += len(part)
        self.wfile.write(part)


    def _trickle(self, part: bytes) -> None:
        """A byte at a time, for as long as the client listens (bounded: 600 bytes)."""
        for byte in part[:600]:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            self.hub.sent += 1
            time.sleep(self.hub.trickle_s or 0)
        self.connection.close()


class HubServer:
    """The fake hub running on a loopback port until stop()."""

    def __init__(self) -> None:
        self.hub = Hub()
        bound = type("Bound", (Handler,), {"hub": self.hub})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound)
        port = self.httpd.server_address[1]
        self.hub.url = self.url = f"http://127.0.0.1:{port}"
        self.hub.blob_url = f"http://localhost:{port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
