"""Names that become parts of paths in the Hugging Face cache, checked before any is used.

A repo, file and revision come from models.yaml or the command line; a commit and a blob
name come from the hub's headers. Each is joined into a path under the cache
(models--ORG--REPO/snapshots/COMMIT/FILE, blobs/ETAG, refs/REVISION), so a name such as
`../ESCAPE` from a hostile hub or a careless entry would write outside it. Only the shapes
the hub itself uses are accepted, and every path written is checked to stay in its folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from think.errors import ModelError

REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?"
REPO = re.compile(f"{REPO_PART}/{REPO_PART}")
FILE_PART = re.compile(r"[^\x00-\x1f\x7f/\\:*?\"<>|]{1,255}")
REVISION_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
COMMIT = re.compile(r"[0-9a-f]{40}")
BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a git blob id, or an LFS file's SHA-256


def checked_repo(repo: str) -> str:
    """ORG/NAME as the hub spells repo ids: letters, digits, `.`, `_`, `-`, no `..`."""
    if not REPO.fullmatch(repo) or ".." in repo:
        raise ModelError(f"{repo!r} is not a hub repo name (ORG/NAME of letters, digits, "
                         "'.', '_' and '-')", "check the repo in the model's models.yaml "
                         "entry or on the command line")
    return repo


def checked_file(file: str) -> str:
    """A relative path inside a repo: no `..`, `.` or empty parts, no drive, no backslash."""
    parts = file.split("/")
    if len(file) > 1000 or not all(FILE_PART.fullmatch(p) and p not in (".", "..")
                                   for p in parts):
        raise ModelError(f"{file!r} is not a file name inside a hub repo",
                         "give a relative path such as 'model-Q4_K_M.gguf', without '..'")
    return file


def checked_revision(revision: str) -> str:
    """A branch, tag or commit: parts of letters, digits, `.`, `_` and `-`, none `..`."""
    parts = revision.split("/")
    if len(parts) > 4 or not all(REVISION_PART.fullmatch(p) and ".." not in p for p in parts):
        raise ModelError(f"{revision!r} is not a hub revision (a branch, tag or commit)",
                         "fix the revision in the model's models.yaml entry, or remove it")
    return revision


def checked_commit(commit: str, hub: str) -> str:
    """The commit id a hub sent (X-Repo-Commit): 40 hexadecimal digits, nothing else."""
    plain = commit.strip().lower()
    if not COMMIT.fullmatch(plain):
        raise ModelError(f"{hub} sent {_shown(commit)} as a commit id, which is not one "
                         "(40 hexadecimal digits)", "point HF_ENDPOINT at a Hugging Face "
                         "hub, or unset it")
    return plain


def checked_blob(etag: str, hub: str) -> str:
    """The blob name a hub sent (its ETag): a SHA-1 or SHA-256 in hexadecimal."""
    if not BLOB.fullmatch(etag):
        raise ModelError(f"{hub} sent {_shown(etag)} as the file's ETag, which is no file "
                         "hash", "point HF_ENDPOINT at a Hugging Face hub, or unset it")
    return etag


def valid(check: Callable[[str], str], value: str) -> bool:
    """Whether `value` passes one of the checks above (for names that are passed over, not
    refused, where another tool's cache holds them)."""
    try:
        return bool(check(value))
    except ModelError:
        return False


def inside(path: Path, folder: Path) -> Path:
    """path, once it is sure to lie under folder (after `..` and links in its parents)."""
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(path.parent)
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise ModelError(f"{path} would be written outside {folder}",
                         "check the model's repo, file and revision names")
    return path


def _shown(value: str) -> str:
    return repr(value[:60] + ("..." if len(value) > 60 else ""))
