"""The HTTP side of the server engine: one OpenAI-compatible server's address, credentials
and requests, each bounded as a whole and retried only while nothing has been read."""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from think.bounded_http import Watchdog, header_value, open_watched
from think.config import ServerSettings
from think.engine.http_stream import (
    BadReply,
    parse_json,
    read_body,
    served_by,
    served_models,
)
from think.engine.server_errors import MAX_BODY, ServerFailed, status_detail
from think.errors import ModelError, ThinkError
from think.urls import shown_url

RETRY_STATUS = {429, 500, 502, 503, 504}
NATIVE_CAP_OWNERS = {"llamacpp", "vllm"}  # `owned_by` of servers that cap thinking themselves
TOKENIZE_TIMEOUT_S = 1.0  # a count is a convenience: a server slow to give one is not asked


class TimeUp(Exception):
    """The run's deadline passed while a request was streaming (not an error: answer now)."""


class ReplyTimedOut(ThinkError):
    """A reply went on past timeout_s: the server is not asked again for the same draw."""


class ServerClient:
    """Requests to one server; `name` is the model asked for (the first served when unset)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.shown_url = shown_url(settings.url)
        parts = urllib.parse.urlsplit(settings.url)
        # user:password@ in the URL is HTTP basic auth; urllib would take it for the host.
        self.basic_auth = None
        if parts.username is not None or parts.password is not None:
            pair = f"{urllib.parse.unquote(parts.username or '')}:" \
                   f"{urllib.parse.unquote(parts.password or '')}"
            self.basic_auth = base64.b64encode(pair.encode()).decode()
            parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
        self.base = urllib.parse.urlunsplit(parts).rstrip("/")
        if not self.base.endswith("/v1"):
            self.base += "/v1"
        self.name = settings.model
        self.llama_server = False  # learnt from the model list (check_model)
        self.native_cap = False

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "think"}
        key = os.environ.get(self.settings.api_key_env)
        if key and header_value(key) is None:
            raise ThinkError(f"{self.settings.api_key_env} holds a line break or another "
                             "character no API key has",
                             f"set {self.settings.api_key_env} to the key alone, on one line")
        if key and key.strip():
            headers["Authorization"] = f"Bearer {key.strip()}"
        elif self.basic_auth:
            headers["Authorization"] = f"Basic {self.basic_auth}"
        return headers

    def _not_answering(self, reason: object) -> ThinkError:
        return ThinkError(f"the server at {self.shown_url} is not answering ({reason})",
                          "check that it is running and the URL is right")

    def _bad_reply(self, problem: BadReply) -> ThinkError:
        return ThinkError(f"the server at {self.shown_url} sent {problem}",
                          "check that the URL is an OpenAI-compatible server and see its log")

    @contextmanager
    def open(self, path: str, body: dict[str, Any] | None,
              run_deadline: float | None = None) -> Iterator[Any]:
        """One HTTP call, bounded as a whole by timeout_s (and by run_deadline, past which
        TimeUp is raised). Connection errors, silence, 429 and 5xx are retried with backoff
        until a reply arrives; once it is being read, a broken or malformed reply is a
        ThinkError and nothing is retried (its tokens may have been shown already)."""
        data = json.dumps(body).encode() if body is not None else None
        timeout = self.settings.timeout_s
        delay = 0.5
        for attempt in range(self.settings.retries + 1):
            limit = time.monotonic() + timeout
            cut_by_run = run_deadline is not None and run_deadline < limit
            watchdog = Watchdog(min(limit, run_deadline or limit) - time.monotonic())
            request = urllib.request.Request(self.base + path, data=data, headers=self._headers())
            reading = False
            try:
                with open_watched(request, watchdog, timeout) as response:
                    reading = True
                    yield response
                if watchdog.expired:
                    raise TimeoutError  # the reply ended because its time was up
                return
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS or attempt == self.settings.retries:
                    raise self._http_error(exc) from None
            except BadReply as exc:
                raise self._bad_reply(exc) from None
            except ServerFailed as exc:
                raise ThinkError(f"the server at {self.shown_url} stopped with an error: {exc}",
                                 "see the server's log") from None
            except (OSError, http.client.HTTPException) as exc:
                if watchdog.expired and cut_by_run:
                    raise TimeUp from None
                self._check_retry(exc, reading, watchdog.expired or isinstance(exc, TimeoutError),
                                  attempt == self.settings.retries or (
                                      run_deadline is not None
                                      and time.monotonic() + delay >= run_deadline))
            finally:
                watchdog.cancel()
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _check_retry(self, exc: Exception, reading: bool, timed_out: bool, last: bool) -> None:
        """Raise the ThinkError for a failed request, unless it is worth another try."""
        timeout = self.settings.timeout_s
        if reading:
            if timed_out:
                raise ReplyTimedOut(f"the server at {self.shown_url} did not finish its reply "
                                 f"within {timeout:g} s", "raise the profile's "
                                 "engine.timeout_s, or check the server's log") from None
            raise ThinkError(f"the server at {self.shown_url} broke off its reply ({exc})",
                             "check the server's log") from None
        if isinstance(exc, http.client.HTTPException) \
                and not isinstance(exc, http.client.RemoteDisconnected):
            raise self._bad_reply(BadReply(f"a reply that is not HTTP ({exc!r})")) from None
        if last:
            reason = f"no reply within {timeout:g} s" if timed_out \
                else getattr(exc, "reason", exc)
            raise self._not_answering(reason) from None

    def _http_error(self, exc: urllib.error.HTTPError) -> ThinkError:
        detail = status_detail(exc.read(MAX_BODY))
        if exc.code in (401, 403):
            return ThinkError(f"the server refused the request ({exc.code})",
                              f"set the API key in {self.settings.api_key_env}")
        if exc.code == 404:
            return ModelError(f"the server has no model '{self.name}' ({detail})",
                              "check the model name the server serves")
        return ThinkError(f"the server answered {exc.code}: {detail}", "check the server's log")

    def count_tokens(self, text: str) -> int | None:
        """The server's own count of text's tokens (llama-server's /tokenize, at the root),
        or None where it is not llama-server or does not answer within a second."""
        if not self.llama_server:
            return None
        root = self.base.removesuffix("/v1")
        body = json.dumps({"content": text, "add_special": False}).encode()
        request = urllib.request.Request(root + "/tokenize", data=body, headers=self._headers())
        watchdog = Watchdog(TOKENIZE_TIMEOUT_S)
        try:
            with open_watched(request, watchdog, TOKENIZE_TIMEOUT_S) as response:
                reply = parse_json(read_body(response), "a token count")
        except (OSError, BadReply, http.client.HTTPException):
            return None
        finally:
            watchdog.cancel()
        tokens = reply.get("tokens") if isinstance(reply, dict) else None
        return len(tokens) if isinstance(tokens, list) else None

    def check_model(self) -> None:
        """Fail early, with the names it serves, when the server lacks the model."""
        with self.open("/models", None) as response:
            body = read_body(response)
            served = served_models(body)
        # llama-server says so here; only it is asked for token counts (/tokenize), so no
        # other server is sent a request it does not know.
        owners = served_by(body)
        self.llama_server = "llamacpp" in owners
        # Servers known to keep a thinking cap of their own (llama-server, vLLM): sent it on
        # every chain, since a model no models.yaml names may still think.
        self.native_cap = bool(owners & NATIVE_CAP_OWNERS)
        if not self.name and served:
            self.name = served[0]  # no name given: the model the server serves
        if served and self.name not in served:
            raise ModelError(f"the server at {self.shown_url} has no model '{self.name}'",
                             f"it serves: {', '.join(served)}")
