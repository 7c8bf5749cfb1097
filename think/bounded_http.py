"""HTTP requests that no server can hold past their time, and whose credentials stay with
the host they were given for.

A watchdog shuts a request's sockets down when its deadline passes, so a server that stalls,
trickles a byte at a time or sends headers forever cannot hold think past it (a socket
timeout alone restarts with every byte). A download moves its deadline on as bytes arrive,
so only a transfer that keeps making progress lives on.

Redirects keep `Authorization` (an API key, a hub token) only where requests and
huggingface_hub keep it: the same host, on the same scheme and port, or the upgrade from
http to https. Anywhere else the credential is dropped before the next request is sent.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
import urllib.request
import weakref
from typing import Any

CREDENTIAL_HEADERS = ("Authorization", "Proxy-authorization", "Cookie")
DEFAULT_PORTS = {"http": 80, "https": 443}


class Watchdog:
    """Shuts down the sockets of one request when its deadline passes, or at once when the
    run is stopped (`expire_all`: Ctrl-C, SIGTERM)."""

    _live: weakref.WeakSet[Watchdog] = weakref.WeakSet()  # the requests still open
    _live_lock = threading.Lock()

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._deadline = time.monotonic() + max(0.0, seconds)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        with Watchdog._live_lock:
            Watchdog._live.add(self)
        threading.Thread(target=self._wait, daemon=True).start()

    @classmethod
    def expire_all(cls) -> None:
        """End every open request now: a stopped run must not wait at exit for threads
        still reading a server or a hub that may go on for minutes."""
        with cls._live_lock:
            live = list(cls._live)
        for watchdog in live:
            watchdog.expire()

    def expire(self) -> None:
        """Shut this request's sockets now, as its deadline would."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)
        self._cancelled.set()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def extend(self, seconds: float) -> None:
        """Move the deadline to `seconds` from now, if that is later (a download's progress)."""
        with self._lock:
            self._deadline = max(self._deadline, time.monotonic() + seconds)

    def _wait(self) -> None:
        while not self._cancelled.wait(max(0.0, self._deadline - time.monotonic())):
            with self._lock:
                if time.monotonic() < self._deadline:
                    continue  # extended while this thread slept
                self.expired = True
                for sock in self._sockets:
                    _shut(sock)
                return

    def cancel(self) -> None:
        self._cancelled.set()
        with Watchdog._live_lock:
            Watchdog._live.discard(self)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on this socket
    except OSError:
        pass


def keeps_credentials(old_url: str, new_url: str) -> bool:
    """Whether a redirect from old_url to new_url may carry the same credentials."""
    old, new = urllib.parse.urlsplit(old_url), urllib.parse.urlsplit(new_url)
    if old.hostname != new.hostname:
        return False
    if (old.scheme, new.scheme) == ("http", "https") and old.port in (80, None) \
            and new.port in (443, None):
        return True  # the upgrade to TLS on the same host
    defaults = (DEFAULT_PORTS.get(old.scheme), None)
    same_port = old.port == new.port or (old.port in defaults and new.port in defaults)
    return old.scheme == new.scheme and same_port


class CredentialRedirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects as urllib does, minus the credentials where the host changes."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        if code in (307, 308) and req.data is not None:
            # These keep the method and body (urllib refuses them for a POST): a server
            # moved behind a proxy still gets its request.
            new = urllib.request.Request(newurl.replace(" ", "%20"), data=req.data,
                                         headers=dict(req.headers),
                                         method=req.get_method(), unverifiable=True)
        else:
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not keeps_credentials(req.full_url, new.full_url):
            for name in CREDENTIAL_HEADERS:
                new.remove_header(name)
        return new


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hands a redirect back as the answer (its own headers are what the caller needs)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


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


def open_watched(request: urllib.request.Request, watchdog: Watchdog, socket_timeout: float,
                 follow: bool = True) -> Any:
    """urlopen, with every socket the request opens under the watchdog; redirects are
    followed without cross-host credentials (follow=False: the redirect is the answer)."""
    redirects = CredentialRedirect() if follow else NoRedirect()
    opener = urllib.request.build_opener(_HTTPHandler(watchdog), _HTTPSHandler(watchdog),
                                         redirects)
    return opener.open(request, timeout=socket_timeout)


def byte_count(header: str | None) -> int | None:
    """A size a server sent (Content-Length, X-Linked-Size) when it is plainly one: ASCII
    digits, under 19 of them; anything else is an unknown size, not an error."""
    text = (header or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def header_value(value: str) -> str | None:
    """The value if it can be sent as one HTTP header value, else None: a credential with a
    line break in it would be refused by urllib at best, and add headers at worst."""
    text = value.strip()
    return text if all(" " <= ch <= "~" for ch in text) else None
