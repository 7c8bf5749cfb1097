"""Model downloads: resumable, checked against SHA-256, never a partial file under the final name.

A download writes a partial file beside the target (FILE.partial, or the Hugging Face cache's
BLOB.incomplete) and resumes it with an HTTP Range request, so an interrupted pull continues
where it stopped. The finished file is hashed before it is renamed into place; a wrong hash
removes it.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from think.bounded_http import Watchdog, byte_count, open_watched
from think.errors import ModelError
from think.hashing import CHUNK, file_sha256
from think.models.hub import TOKEN_HINT

TIMEOUT_S = 30
STALL_S = 60.0  # a download that brings fewer than STALL_BYTES in this long is cut and resumed
STALL_BYTES = 64 << 10

ByteProgress = Callable[[int, int | None], None]  # bytes done, total bytes (None if unknown)


def _request(url: str, start: int, headers: dict[str, str]) -> urllib.request.Request:
    request = urllib.request.Request(url, headers={"User-Agent": "think", **headers})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return request


def ensure_folder(folder: Path) -> None:
    """Create the models folder, or say why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create {folder}: {exc.strerror}",
                         "set THINK_MODELS_DIR to a writable folder") from None


def download(url: str, target: Path, sha256: str | None, progress: ByteProgress,
             retries: int = 3, partial: Path | None = None,
             headers: dict[str, str] | None = None) -> str:
    """Fetch url to target, resuming a previous partial file; returns the file's SHA-256."""
    partial = partial or target.with_name(target.name + ".partial")
    ensure_folder(target.parent)
    for attempt in range(retries + 1):
        try:
            _fetch(url, partial, progress, headers or {})
            break
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                TimeoutError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code == 416:
                break  # the partial file already has every byte: the hash check decides
            if isinstance(exc, urllib.error.HTTPError) or attempt == retries:
                raise _explain(exc, url, partial) from None
    digest = file_sha256(partial)
    if sha256 and digest != sha256.lower():
        partial.unlink(missing_ok=True)
        raise ModelError(f"the download of {target.name} has SHA-256 {digest[:16]}…, "
                         f"not the expected {sha256[:16]}…; the file was removed",
                         "try again; if it repeats, the registry entry may be out of date")
    partial.replace(target)
    return digest


def _fetch(url: str, partial: Path, progress: ByteProgress, headers: dict[str, str]) -> None:
    start = partial.stat().st_size if partial.exists() else 0
    # Each STALL_S must bring STALL_BYTES: a body that trickles is cut (and resumed) as a
    # silent one is, where a socket timeout alone would wait for ever on a byte a minute.
    watchdog = Watchdog(STALL_S)
    try:
        with open_watched(_request(url, start, headers), watchdog, TIMEOUT_S) as response:
            if start and response.status != 206:
                start = 0  # the server ignored the range: start over
            total = _length(response, start)
            _copy(response, partial, start, total, progress, watchdog)
    finally:
        watchdog.cancel()
    if watchdog.expired:
        raise TimeoutError(f"fewer than {STALL_BYTES >> 10} KiB came in {STALL_S:g} s")


def _length(response: http.client.HTTPResponse, start: int) -> int | None:
    """The whole file's size, where the reply says it plainly (else unknown)."""
    length = byte_count(response.headers.get("Content-Length"))
    return start + length if length is not None else None


def _copy(response: http.client.HTTPResponse, partial: Path, start: int, total: int | None,
          progress: ByteProgress, watchdog: Watchdog) -> None:
    done = since = start
    try:
        with partial.open("ab" if start else "wb") as out:
            while block := response.read1(CHUNK):
                out.write(block)
                done += len(block)
                if done - since >= STALL_BYTES:
                    watchdog.extend(STALL_S)
                    since = done
                progress(done, total)
    except OSError as exc:
        if isinstance(exc, (ConnectionError, TimeoutError)) or watchdog.expired:
            raise TimeoutError(str(exc)) from None
        raise ModelError(f"cannot write {partial}: {exc.strerror}",
                         "free some disk space; the download resumes next time") from None
    if total is not None and done < total:
        raise ConnectionError(f"the connection closed after {done} of {total} bytes")


def _explain(exc: Exception, url: str, partial: Path) -> ModelError:
    kept = partial.stat().st_size if partial.exists() else 0
    resume = f"run the same pull again to resume ({kept} bytes kept)" if kept else "try again"
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code in (401, 403):
            return ModelError(f"{url} refused the download ({exc.code}): the model may be gated",
                              TOKEN_HINT)
        if exc.code == 404:
            return ModelError(f"{url} was not found (404)",
                              "check the repo and file of this model in models.yaml")
        return ModelError(f"{url} answered {exc.code} {exc.reason}", resume)
    reason = getattr(exc, "reason", exc)
    return ModelError(f"the download from {url} failed: {reason}", resume)
