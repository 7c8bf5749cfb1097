"""An engine on an OpenAI-compatible server (llama-server, vLLM, SGLang, Ollama, llama-cpp-
python's server): the server decodes and batches; think keeps planning, voting and forcing.

Base models go to /v1/completions, chat models to /v1/chat/completions, always streamed.
N samples are asked for in one request with `n`; a server that answers with fewer choices
is remembered and sent concurrent single requests instead, a bounded number at a time.
Budget forcing: the thinking is capped by max_tokens; a sample cut there gets a second,
short request that carries the forced-answer cue.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from think.config import ServerEngine
from think.engine.base import (
    FINISH_CANCELLED,
    Completion,
    DoneCallback,
    SampleRequest,
    SampleResult,
    SampleTracker,
    TokenCallback,
)
from think.errors import ModelError, ThinkError

CHAT_PREFIX = "\x00chat:"  # marks a rendered chat prompt: the messages travel as JSON
FINISH_ERROR = "error"
RETRY_STATUS = {429, 500, 502, 503, 504}


class RemoteEngine:
    """Samples through an OpenAI-compatible HTTP API."""

    def __init__(self, settings: ServerEngine, prompt_format: str, context: int = 32768,
                 check_model: bool = True) -> None:
        self.settings = settings
        self.base = settings.url.rstrip("/")
        if not self.base.endswith("/v1"):
            self.base += "/v1"
        self.name = settings.model
        self.prompt_format = prompt_format
        self.context = context
        self.supports_n: bool | None = None  # learnt from the first request with n > 1
        self.errors: list[str] = []
        if check_model:
            self._check_model()

    # -- text -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # servers share no standard tokenizer endpoint

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        return CHAT_PREFIX + json.dumps(messages)

    # -- HTTP -----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "think"}
        key = os.environ.get(self.settings.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _open(self, path: str, body: dict[str, Any] | None) -> Any:
        """One HTTP call with retries and backoff on connection errors, 429 and 5xx."""
        data = json.dumps(body).encode() if body is not None else None
        delay = 0.5
        for attempt in range(self.settings.retries + 1):
            request = urllib.request.Request(self.base + path, data=data, headers=self._headers())
            try:
                return urllib.request.urlopen(request, timeout=self.settings.timeout_s)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS or attempt == self.settings.retries:
                    raise self._http_error(exc) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if attempt == self.settings.retries:
                    reason = getattr(exc, "reason", exc)
                    raise ThinkError(f"the server at {self.settings.url} is not answering "
                                     f"({reason})", "check that it is running and the URL "
                                     "is right") from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _http_error(self, exc: urllib.error.HTTPError) -> ThinkError:
        detail = exc.read().decode("utf-8", "replace")[:300]
        if exc.code in (401, 403):
            return ThinkError(f"the server refused the request ({exc.code})",
                              f"set the API key in {self.settings.api_key_env}")
        if exc.code == 404:
            return ModelError(f"the server has no model '{self.name}' ({detail.strip()})",
                              "check the model name the server serves")
        return ThinkError(f"the server answered {exc.code}: {detail.strip()}",
                          "check the server's log")

    def _check_model(self) -> None:
        """Fail early, with the names it serves, when the server lacks the model."""
        with self._open("/models", None) as response:
            served = [item.get("id") for item in json.load(response).get("data", [])]
        if not self.name and served:
            self.name = str(served[0])  # no name given: the model the server serves
        if served and self.name not in served:
            raise ModelError(f"the server at {self.settings.url} has no model '{self.name}'",
                             f"it serves: {', '.join(map(str, served))}")

    def _stream(self, prompt: str, request: SampleRequest, n: int, seed: int, max_tokens: int,
                stop: tuple[str, ...]) -> Iterator[tuple[int, str, str | None]]:
        """(choice index, text delta, finish reason) as the server streams them."""
        body: dict[str, Any] = {"model": self.name, "max_tokens": max_tokens, "stream": True,
                                "temperature": request.temperature, "top_p": request.top_p,
                                "seed": seed, "n": n}
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API takes at most four
        if prompt.startswith(CHAT_PREFIX):
            body["messages"] = json.loads(prompt[len(CHAT_PREFIX):])
            path = "/chat/completions"
        else:
            body["prompt"] = prompt
            path = "/completions"
        with self._open(path, body) as response:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                for choice in json.loads(payload).get("choices", []):
                    delta = choice.get("text")
                    if delta is None:
                        delta = (choice.get("delta") or {}).get("content") or ""
                    yield choice.get("index", 0), delta, choice.get("finish_reason")

    # -- sampling -------------------------------------------------------------------

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        stop_event = threading.Event()
        lock = threading.Lock()
        completions: list[Completion] = []
        self.errors = []

        def finished(done: Completion) -> None:
            with lock:
                completions.append(done)
                if stop_event.is_set():
                    return
                if on_done is not None and not on_done(done):
                    stop_event.set()

        indices = list(range(request.n))
        if request.n > 1 and self.supports_n is not False:
            indices = self._draw_together(request, indices, on_token, finished, stop_event)
        if indices:
            self._draw_each(request, indices, on_token, finished, stop_event)
        done = {completion.index for completion in completions}
        completions += [Completion(i, "", 0, FINISH_CANCELLED, request.seed + i)
                        for i in range(request.n) if i not in done]
        if not any(c.finish not in (FINISH_ERROR, FINISH_CANCELLED) for c in completions) \
                and self.errors:
            raise ThinkError(f"every sample failed: {self.errors[0]}", "check the server")
        completions.sort(key=lambda c: c.index)
        prompt_tokens = self.count_tokens(request.prompt) * (1 if self.supports_n else
                                                             max(1, len(completions)))
        return SampleResult(completions, prompt_tokens, sum(c.tokens for c in completions))

    def _draw_together(self, request: SampleRequest, indices: list[int],
                       on_token: TokenCallback | None, finished: Any,
                       stop: threading.Event) -> list[int]:
        """One request for all samples; returns the indices the server did not produce."""
        trackers = {i: SampleTracker(request) for i in indices}
        try:
            for index, delta, reason in self._stream(request.prompt, request, len(indices),
                                                     request.seed, request.max_tokens,
                                                     request.stop):
                tracker = trackers.get(index)
                if tracker is None or tracker.finish is not None:
                    continue
                self._feed(tracker, index, delta, on_token)
                if tracker.finish is None and reason is not None:
                    self._close(request, tracker, index, reason, on_token)
                if tracker.finish is not None:
                    finished(self._completion(index, tracker, request))
                if stop.is_set():
                    break  # closing the stream tells the server to stop decoding
        except ThinkError as exc:
            self.errors.append(str(exc))
            return indices
        produced = {i for i, t in trackers.items() if t.generated or t.finish}
        self.supports_n = len(produced) == len(indices)
        for index, tracker in trackers.items():
            if index in produced and tracker.finish is None and not stop.is_set():
                self._close(request, tracker, index, "stop", on_token)
                finished(self._completion(index, tracker, request))
        return [] if self.supports_n or stop.is_set() else [i for i in indices
                                                            if i not in produced]

    def _draw_each(self, request: SampleRequest, indices: list[int],
                   on_token: TokenCallback | None, finished: Any,
                   stop: threading.Event) -> None:
        """Concurrent single-sample requests, a bounded number in flight."""

        def one(index: int) -> None:
            if stop.is_set():
                return
            tracker = SampleTracker(request)
            try:
                last = None
                for _, delta, reason in self._stream(request.prompt, request, 1,
                                                     request.seed + index, request.max_tokens,
                                                     request.stop):
                    self._feed(tracker, index, delta, on_token)
                    last = reason or last
                    if tracker.finish is not None or stop.is_set():
                        break
                if tracker.finish is None and not stop.is_set():
                    if last is None:
                        raise ThinkError("the server closed the stream before the sample "
                                         "finished", "check the server's log")
                    self._close(request, tracker, index, last, on_token)
            except ThinkError as exc:
                self.errors.append(str(exc))
                finished(Completion(index, tracker.text, tracker.generated, FINISH_ERROR,
                                    request.seed + index))
                return
            if tracker.finish is not None:
                finished(self._completion(index, tracker, request))

        with ThreadPoolExecutor(max_workers=max(1, self.settings.max_in_flight)) as pool:
            list(pool.map(one, indices))

    def _feed(self, tracker: SampleTracker, index: int, delta: str,
              on_token: TokenCallback | None) -> None:
        if delta:
            shown = tracker.feed(delta)
            if on_token is not None and shown:
                on_token(index, shown)

    def _close(self, request: SampleRequest, tracker: SampleTracker, index: int, reason: str,
               on_token: TokenCallback | None) -> None:
        """The server stopped this sample; force an answer if it stopped at the cap."""
        cue = request.answer_cue
        if cue and reason == "length" and tracker.answer_start is None:
            shown = tracker.force_answer()
            if on_token is not None:
                on_token(index, shown)
        if not (cue and tracker.forced and tracker.answer_tokens_used == 0):
            tracker.end_of_generation()
            return
        prompt = request.prompt
        if prompt.startswith(CHAT_PREFIX):
            # A chat reply cannot be continued: ask for the answer in a new turn.
            messages = json.loads(prompt[len(CHAT_PREFIX):]) + [
                {"role": "assistant", "content": tracker.text},
                {"role": "user", "content": f"Give only the final answer, after '{cue}'."}]
            prompt = CHAT_PREFIX + json.dumps(messages)
        else:
            prompt = prompt + tracker.text
        for _, delta, _ in self._stream(prompt, request, 1, request.seed + index,
                                        request.answer_tokens, request.stop):
            self._feed(tracker, index, delta, on_token)
            if tracker.finish is not None:
                return
        tracker.end_of_generation()

    def _completion(self, index: int, tracker: SampleTracker,
                    request: SampleRequest) -> Completion:
        return Completion(index, tracker.text, tracker.generated,
                          tracker.finish or FINISH_CANCELLED, request.seed + index)
