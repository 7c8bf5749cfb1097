"""The Hugging Face hub as other tools see it: its endpoint, the token, offline mode, the cache
folder and its layout, and what the hub says about a file before its bytes are fetched.

These are the variables huggingface_hub and llama.cpp read (HF_ENDPOINT, HF_TOKEN, HF_HOME,
HF_HUB_CACHE, HF_HUB_OFFLINE), so a file pulled by one of them is found by the others. The
pieces are small and written here: huggingface_hub would be a large dependency for them, and
its download does not do what think's does. Measured (`python -m scripts.hf_resume`, the
tests' loopback hub, a 4 MiB file) with huggingface_hub 2.4.0: a partial blob left by an
earlier run is fetched again from byte 0 (4,194,308 bytes sent, think's pull sends the
missing 3,145,731); a connection cut at a quarter is retried from byte 0 (5,242,885 bytes
sent in all, think's 4,194,308); and bytes whose SHA-256 is not the hub's are accepted
(think's pull refuses them before they get the final name).
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from think.bounded_http import Watchdog, byte_count, header_value, open_watched
from think.errors import ModelError
from think.models.hub_names import checked_blob, checked_commit

DEFAULT_HUB = "https://huggingface.co"
TIMEOUT_S = 30
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
TOKEN_HINT = "accept its licence on the hub, then set HF_TOKEN or run `hf auth login`"
SHA256 = re.compile(r"[0-9a-f]{64}")


def endpoint() -> str:
    """The hub's base URL: THINK_HUB_URL (think's own, kept), HF_ENDPOINT, else huggingface.co."""
    hub = os.environ.get("THINK_HUB_URL") or os.environ.get("HF_ENDPOINT") or DEFAULT_HUB
    return hub.rstrip("/")


def offline() -> bool:
    """HF_HUB_OFFLINE set to a true value: nothing may touch the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hf_home() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(os.environ.get("HF_HOME") or Path(cache) / "huggingface").expanduser()


def cache_dir() -> Path:
    """Where huggingface_hub keeps repos (HF_HUB_CACHE, else HF_HOME/hub)."""
    named = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    return Path(named).expanduser() if named else hf_home() / "hub"


def repo_dir(repo: str) -> Path:
    """A model repo's folder in the cache: models--ORG--REPO."""
    return cache_dir() / ("models--" + repo.replace("/", "--"))


def lock_path(repo: str, blob: str) -> Path:
    """The path huggingface_hub locks while it writes a blob (with the `filelock` package, as
    think's lock helper does: flock on POSIX, LockFileEx on Windows), so the two exclude each
    other; the helper adds the .lock."""
    return cache_dir() / ".locks" / ("models--" + repo.replace("/", "--")) / blob


def token() -> str | None:
    """HF_TOKEN, else the token `hf auth login` stored (HF_TOKEN_PATH, else HF_HOME/token)."""
    for name in TOKEN_VARIABLES:
        if os.environ.get(name, "").strip():
            return _one_line(os.environ[name], name)
    stored = Path(os.environ.get("HF_TOKEN_PATH") or hf_home() / "token").expanduser()
    try:
        text = stored.read_text(errors="replace")
    except (OSError, ValueError):
        return None
    return _one_line(text, str(stored)) if text.strip() else None


def _one_line(value: str, source: str) -> str:
    """The token, if it can be one header value: a line break in it would add a header."""
    checked = header_value(value)
    if checked is None:
        raise ModelError(f"the hub token in {source} holds a line break or another character "
                         "no token has", "set it to the token alone, on one line")
    return checked


def resolve_url(repo: str, revision: str, file: str) -> str:
    quoted = urllib.parse.quote(revision, safe="")
    return f"{endpoint()}/{repo}/resolve/{quoted}/{urllib.parse.quote(file)}"


@dataclass(frozen=True)
class HubFile:
    """What the hub says of a file: its blob name (the etag), SHA-256, commit and bytes' URL."""

    etag: str
    sha256: str | None
    commit: str
    location: str
    size: int | None


def auth_headers(url: str) -> dict[str, str]:
    """The bearer token, sent only to the hub itself, never to the storage it redirects to."""
    found = token()
    same = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(endpoint()).netloc
    return {"Authorization": f"Bearer {found}"} if found and same else {}


def _plain(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"').lower()


def file_info(repo: str, revision: str, file: str) -> HubFile:
    """HEAD the file's resolve URL; relative redirects (a renamed repo) are followed, and the
    answer that carries the etag is read (a redirect to storage, or the file itself)."""
    url = resolve_url(repo, revision, file)
    watchdog = Watchdog(TIMEOUT_S)  # all the redirects together, however the hub answers
    try:
        return _follow(url, watchdog, repo, file)
    finally:
        watchdog.cancel()


def _follow(url: str, watchdog: Watchdog, repo: str, file: str) -> HubFile:
    for _ in range(5):
        request = urllib.request.Request(url, method="HEAD", headers={
            "User-Agent": "think", "Accept-Encoding": "identity", **auth_headers(url)})
        try:
            # The redirect's own headers carry the file's hash and commit: it is the answer.
            response = open_watched(request, watchdog, TIMEOUT_S, follow=False)
        except urllib.error.HTTPError as exc:
            if exc.code not in (301, 302, 303, 307, 308):
                raise _refused(exc, repo, file) from None
            response = exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise unreachable(exc, watchdog) from None
        with response:
            headers = response.headers
            etag = headers.get("X-Linked-Etag") or headers.get("ETag")
            location = headers.get("Location")
            if location and not etag:
                url = urllib.parse.urljoin(url, location)
                continue
        return _info(headers, etag, urllib.parse.urljoin(url, location or url), repo, file)
    raise ModelError(f"the hub redirected {repo}/{file} too many times", "try again later")


def unreachable(exc: Exception, watchdog: Watchdog) -> ModelError:
    """The hub did not answer (or not in time): one line, with what to do."""
    reason = f"no answer within {TIMEOUT_S} s" if watchdog.expired \
        else getattr(exc, "reason", exc)
    return ModelError(f"cannot reach the hub at {endpoint()}: {reason}",
                      "check the connection (HF_ENDPOINT sets another hub), or set "
                      "HF_HUB_OFFLINE=1 to use only local files")


def _info(headers: http.client.HTTPMessage, etag: str | None, location: str, repo: str,
          file: str) -> HubFile:
    commit = headers.get("X-Repo-Commit")
    if not etag or not commit:
        raise ModelError(f"{endpoint()} did not say which version of {repo}/{file} it serves "
                         "(no ETag or X-Repo-Commit)",
                         "point HF_ENDPOINT at a Hugging Face hub, or unset it")
    plain = checked_blob(_plain(etag), endpoint())
    return HubFile(etag=plain, sha256=plain if SHA256.fullmatch(plain) else None,
                   commit=checked_commit(commit, endpoint()), location=location,
                   size=byte_count(headers.get("X-Linked-Size") or headers.get("Content-Length")))


def _refused(exc: urllib.error.HTTPError, repo: str, file: str) -> ModelError:
    if exc.code in (401, 403):
        sent = "the token sent was refused" if token() else "no token was sent"
        return ModelError(f"the hub refused {repo}/{file} ({exc.code}): it is gated or private "
                          f"and {sent}", TOKEN_HINT)
    if exc.code == 404:
        return ModelError(f"{repo}/{file} was not found on {endpoint()} (404)",
                          "check the repo, file and revision of this model in models.yaml")
    return ModelError(f"the hub answered {exc.code} {exc.reason} for {repo}/{file}",
                      "try again later")
