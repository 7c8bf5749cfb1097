"""Server URLs: which ones the server engine can open, and how messages show them (never with
a password in them)."""

from __future__ import annotations

import urllib.parse


def server_url(url: str) -> str:
    """The URL if it is one the server engine can open (http or https, with a host)."""
    try:
        parts = urllib.parse.urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        usable = False
    if not usable:
        raise ValueError(f"{shown_url(url)!r} is not an http:// or https:// server URL")
    return url


def shown_url(url: str) -> str:
    """The URL with any password in it replaced, for messages."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "(a URL that cannot be read)"
