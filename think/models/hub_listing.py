"""The files of a repo, as the hub lists them (GET /api/models/ORG/REPO/revision/REV), so a
pull of `ORG/REPO` or `ORG/REPO:QUANT` can choose its GGUF file.

The answer is bounded in size and time, and every file name in it is checked as any name
from the hub is before it could become a path.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

from think.bounded_http import Watchdog, open_watched
from think.errors import ModelError
from think.models import hub
from think.models.hub_names import checked_file

MAX_LISTING = 8 << 20  # a repo of ten thousand files lists in well under a megabyte


def repo_files(repo: str, revision: str = "main") -> list[str]:
    """Every file of `repo` at `revision` that the hub lists."""
    quoted = urllib.parse.quote(revision, safe="")
    url = f"{hub.endpoint()}/api/models/{repo}/revision/{quoted}"
    request = urllib.request.Request(url, headers={"User-Agent": "think",
                                                   "Accept": "application/json",
                                                   **hub.auth_headers(url)})
    watchdog = Watchdog(hub.TIMEOUT_S)
    try:
        with open_watched(request, watchdog, hub.TIMEOUT_S) as response:
            body = response.read(MAX_LISTING + 1)
    except urllib.error.HTTPError as exc:
        raise _refused(exc.code, repo) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise hub.unreachable(exc, watchdog) from None
    finally:
        watchdog.cancel()
    return _files_in(body, repo)


def _files_in(body: bytes, repo: str) -> list[str]:
    unreadable = ModelError(f"the hub's list of the files of {repo} cannot be read",
                            "point HF_ENDPOINT at a Hugging Face hub, or unset it")
    if len(body) > MAX_LISTING:
        raise unreadable
    try:
        siblings = json.loads(body)["siblings"]
        names = [entry["rfilename"] for entry in siblings]
    except (ValueError, RecursionError, KeyError, TypeError):
        raise unreadable from None
    if not all(isinstance(name, str) for name in names):
        raise unreadable
    return [checked_file(name) for name in names]


def _refused(code: int, repo: str) -> ModelError:
    if code in (401, 403):
        return ModelError(f"the hub refused to list {repo} ({code}): it is gated or private",
                          hub.TOKEN_HINT)
    if code == 404:
        return ModelError(f"{repo} was not found on {hub.endpoint()} (404)",
                          "check the repo's name (ORG/REPO) on the hub")
    return ModelError(f"the hub answered {code} when asked for the files of {repo}",
                      "try again later")
