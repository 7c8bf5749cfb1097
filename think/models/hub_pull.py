"""Pulls into the Hugging Face cache layout, so huggingface_hub and other tools reuse them:

    models--ORG--REPO/blobs/SHA256             the bytes, named by the hub's etag
    models--ORG--REPO/blobs/SHA256.incomplete  while downloading (resumed with Range)
    models--ORG--REPO/snapshots/REV/FILE       -> ../../blobs/SHA256
    models--ORG--REPO/refs/main                REV, when main was asked for

The hash to check comes from the hub (X-Linked-Etag), never from the bytes that arrived.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from think.errors import ModelError
from think.models import hub
from think.models.download import ByteProgress, download, ensure_folder
from think.models.hub_names import (
    checked_file,
    checked_repo,
    checked_revision,
    inside,
)
from think.shared_files import exclusive, write_atomically


def pull_to_cache(repo: str, file: str, revision: str | None, sha256: str | None,
                  progress: ByteProgress, on_wait: Callable[[], None] | None = None
                  ) -> tuple[Path, hub.HubFile]:
    """Download repo/file at revision (main when None) into the cache; the snapshot path and
    what the hub said of the file. A second pull waits for the first and reuses its blob."""
    if hub.offline():
        raise ModelError(f"{repo}/{file} is in no local model cache and HF_HUB_OFFLINE is set",
                         "unset HF_HUB_OFFLINE to download it, or copy the file into the "
                         "Hugging Face cache")
    checked_repo(repo)
    checked_file(file)
    asked = checked_revision(revision or "main")
    info = hub.file_info(repo, asked, file)
    expected = info.sha256 or sha256
    if info.sha256 and sha256 and info.sha256 != sha256.lower():
        raise ModelError(f"the hub's {repo}/{file} has SHA-256 {info.sha256[:16]}…, not the "
                         f"{sha256[:16]}… models.yaml expects",
                         "the entry may be out of date: fix or remove its sha256")
    if not expected:
        raise ModelError(f"the hub gave no SHA-256 for {repo}/{file}",
                         "add the file's sha256 to its models.yaml entry")
    folder = hub.repo_dir(repo)
    blob = folder / "blobs" / info.etag
    snapshot = folder / "snapshots" / info.commit / file
    ensure_folder(blob.parent)
    locks = hub.lock_path(repo, info.etag)
    ensure_folder(locks.parent)
    for path in (blob, snapshot, locks):
        inside(path, hub.cache_dir())
    with exclusive(locks, on_wait):
        if not blob.is_file():
            download(info.location, blob, expected, progress,
                     partial=blob.with_name(blob.name + ".incomplete"),
                     headers=hub.auth_headers(info.location))
        _link(blob, snapshot)
        if asked != info.commit:
            ref = folder / "refs" / asked
            ensure_folder(ref.parent)
            write_atomically(inside(ref, folder / "refs"), info.commit)
    return snapshot, info


def _link(blob: Path, snapshot: Path) -> None:
    """snapshots/REV/FILE as a relative link to the blob (a copy where links are refused)."""
    if snapshot.is_file():
        return
    ensure_folder(snapshot.parent)
    temporary = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.link")
    temporary.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(blob, snapshot.parent), temporary)
        temporary.replace(snapshot)
    except OSError:
        # Windows without developer mode: huggingface_hub keeps the bytes in the snapshot then.
        temporary.unlink(missing_ok=True)
        blob.replace(snapshot)


def forget(repo: str, file: str, revision: str) -> list[Path]:
    """Delete the snapshot link of one revision, and its blob once no snapshot links to it.

    Only a plain file in the repo's own `blobs/` is ever deleted: a link that points
    elsewhere (to a folder, or to a file of the user's outside the cache) loses the link
    alone.
    """
    folder = hub.repo_dir(checked_repo(repo))
    snapshot = folder / "snapshots" / checked_revision(revision) / checked_file(file)
    if not snapshot.is_symlink() and not snapshot.is_file():
        return []
    blob = snapshot.resolve() if snapshot.is_symlink() else None
    snapshot.unlink()
    gone = [snapshot]
    blobs = (folder / "blobs").resolve()
    if blob is None or blob.parent != blobs:
        return gone
    still_used = any(link.is_symlink() and link.resolve() == blob
                     for link in (folder / "snapshots").rglob("*"))
    for stale in (blob, blob.with_name(blob.name + ".incomplete")):
        if not still_used and stale.is_file() and not stale.is_symlink():
            stale.unlink()
            gone.append(stale)
    return gone
    still_used = any(link.is_symlink() and link.resolve() == blob
                     for link in (folder / "snapshots").rglob("*"))
    for stale in (blob, blob.with_name(blob.name + ".incomplete")):
        if not still_used and stale.exists():
            stale.unlink()
            gone.append(stale)
    return gone
