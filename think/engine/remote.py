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
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from think.config import ServerSettings
from think.engine.base import (
    FINISH_CANCELLED,
    Completion,
    DoneCallback,
    SampleRequest,
    SampleResult,
    SampleTracker,
    TokenCallback,
)
from think.engine.http_stream import choice_deltas, event_payloads
from think.engine.server_client import ServerClient, TimeUp
from think.errors import ThinkError

CHAT_PREFIX = "\x00chat:"  # marks a rendered chat prompt: the messages travel as JSON
FINISH_ERROR = "error"
# Past the run's deadline (--max-seconds), a sample cut there still gets this long to answer.
ANSWER_GRACE_S = 5.0


@dataclass
class Call:
    """What one sample() call tracks; kept per call, since threads share the engine."""

    on_done: DoneCallback | None
    completions: list[Completion] = field(default_factory=list)
    failures: list[ThinkError] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def finished(self, done: Completion) -> None:
        with self.lock:
            self.completions.append(done)
            if self.stop.is_set():
                return
            if self.on_done is not None and not self.on_done(done):
                self.stop.set()

    def failed(self, error: ThinkError) -> None:
        with self.lock:
            self.failures.append(error)


class RemoteEngine:
    """Samples through an OpenAI-compatible HTTP API."""

    def __init__(self, settings: ServerSettings, prompt_format: str, context: int = 32768,
                 check_model: bool = True) -> None:
        self.client = ServerClient(settings)
        self.settings = settings
        self.prompt_format = prompt_format
        self.context = context
        self.supports_n: bool | None = None  # learnt from the first request with n > 1
        if check_model:
            self.client.check_model()  # learns the served name when none was given
        self.name = self.client.name

    # -- text -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # servers share no standard tokenizer endpoint

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        return CHAT_PREFIX + json.dumps(messages)

    def _stream(self, prompt: str, request: SampleRequest, n: int, seed: int, max_tokens: int,
                answer: bool = False) -> Iterator[tuple[int, str, str | None]]:
        """(choice index, text delta, finish reason) as the server streams them.

        A thinking request ends with TimeUp at the run's deadline; the answer requests of the
        samples cut there have ANSWER_GRACE_S beyond it.
        """
        body: dict[str, Any] = {"model": self.name, "max_tokens": max_tokens, "stream": True,
                                "temperature": request.temperature, "top_p": request.top_p,
                                "seed": seed, "n": n}
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # the OpenAI API takes at most four
        if prompt.startswith(CHAT_PREFIX):
            body["messages"] = json.loads(prompt[len(CHAT_PREFIX):])
            path = "/chat/completions"
        else:
            body["prompt"] = prompt
            path = "/completions"
        deadline = request.deadline
        if deadline is not None and answer:
            # One grace period for all of a run's late answers, and a moment for each.
            deadline = max(deadline + ANSWER_GRACE_S, time.monotonic() + 1.0)
        with self.client.open(path, body, deadline) as response:
            for payload in event_payloads(response):
                yield from choice_deltas(payload)

    # -- sampling -------------------------------------------------------------------

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        call = Call(on_done)
        indices = list(range(request.n))
        if request.n > 1 and self.supports_n is not False:
            indices = self._draw_together(request, indices, on_token, call)
        if indices:
            self._draw_each(request, indices, on_token, call)
        completions = call.completions
        done = {completion.index for completion in completions}
        completions += [Completion(i, "", 0, FINISH_CANCELLED, request.seed + i)
                        for i in range(request.n) if i not in done]
        if not any(c.finish not in (FINISH_ERROR, FINISH_CANCELLED) for c in completions) \
                and call.failures:
            first = call.failures[0]
            raise ThinkError(f"every sample failed: {first.message}", first.hint)
        completions.sort(key=lambda c: c.index)
        prompt_tokens = self.count_tokens(request.prompt) * (1 if self.supports_n else
                                                             max(1, len(completions)))
        return SampleResult(completions, prompt_tokens, sum(c.tokens for c in completions),
                            errors=[str(failure) for failure in call.failures])

    def _draw_together(self, request: SampleRequest, indices: list[int],
                       on_token: TokenCallback | None, call: Call) -> list[int]:
        """One request for all samples; returns the indices the server did not produce."""
        trackers = {i: SampleTracker(request) for i in indices}
        cut = "stop"  # why samples still open when the stream ends are closed
        try:
            for index, delta, reason in self._stream(request.prompt, request, len(indices),
                                                     request.seed, request.max_tokens):
                tracker = trackers.get(index)
                if tracker is None or tracker.finish is not None:
                    continue
                self._feed(tracker, index, delta, on_token)
                if tracker.finish is None and reason is not None:
                    self._close(request, tracker, index, reason, on_token, call)
                if tracker.finish is not None:
                    call.finished(self._completion(index, tracker, request))
                if call.stop.is_set():
                    break  # closing the stream tells the server to stop decoding
        except TimeUp:
            cut = "length"  # out of time: each open sample answers now
        except ThinkError as exc:
            call.failed(exc)
            return [i for i in indices if trackers[i].finish is None]  # drawn again, alone
        produced = {i for i, t in trackers.items() if t.generated or t.finish}
        if cut == "stop":
            self.supports_n = len(produced) == len(indices)
        for index, tracker in trackers.items():
            if (index in produced or cut == "length") and tracker.finish is None \
                    and not call.stop.is_set():
                self._close(request, tracker, index, cut, on_token, call)
                call.finished(self._completion(index, tracker, request))
        return [] if self.supports_n or cut == "length" or call.stop.is_set() \
            else [i for i in indices if i not in produced]

    def _draw_each(self, request: SampleRequest, indices: list[int],
                   on_token: TokenCallback | None, call: Call) -> None:
        """Concurrent single-sample requests, a bounded number in flight."""

        def one(index: int) -> None:
            late = request.deadline is not None and time.monotonic() >= request.deadline
            if call.stop.is_set() or (late and index > 0):
                return  # out of time, a request still gets its first sample
            tracker = SampleTracker(request)
            try:
                last = None
                try:
                    for _, delta, reason in self._stream(request.prompt, request, 1,
                                                         request.seed + index,
                                                         request.max_tokens):
                        self._feed(tracker, index, delta, on_token)
                        last = reason or last
                        if tracker.finish is not None or call.stop.is_set():
                            break
                except TimeUp:
                    last = "length"
                if tracker.finish is None and not call.stop.is_set():
                    if last is None:
                        raise ThinkError("the server closed the stream before the sample "
                                         "finished", "check the server's log")
                    self._close(request, tracker, index, last, on_token, call)
            except ThinkError as exc:
                call.failed(exc)
                call.finished(Completion(index, tracker.text, tracker.generated, FINISH_ERROR,
                                         request.seed + index))
                return
            if tracker.finish is not None:
                call.finished(self._completion(index, tracker, request))

        with ThreadPoolExecutor(max_workers=max(1, self.settings.max_in_flight)) as pool:
            list(pool.map(one, indices))

    def _feed(self, tracker: SampleTracker, index: int, delta: str,
              on_token: TokenCallback | None) -> None:
        if delta:
            shown = tracker.feed(delta)
            if on_token is not None and shown:
                on_token(index, shown)

    def _close(self, request: SampleRequest, tracker: SampleTracker, index: int, reason: str,
               on_token: TokenCallback | None, call: Call) -> None:
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
        try:
            for _, delta, _ in self._stream(prompt, request, 1, request.seed + index,
                                            request.answer_tokens, answer=True):
                self._feed(tracker, index, delta, on_token)
                if tracker.finish is not None:
                    return
        except TimeUp:
            pass  # what it wrote in its grace time is its answer
        tracker.end_of_generation()

    def _completion(self, index: int, tracker: SampleTracker,
                    request: SampleRequest) -> Completion:
        return Completion(index, tracker.text, tracker.generated,
                          tracker.finish or FINISH_CANCELLED, request.seed + index)
