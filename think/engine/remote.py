"""An engine on an OpenAI-compatible server (llama-server, vLLM, SGLang, Ollama, llama-cpp-
python's server): the server decodes and batches; think keeps planning, voting and forcing.

Base models go to /v1/completions, chat models to /v1/chat/completions, always streamed.
N samples are asked for in one request with `n`; a server that answers with fewer choices
is remembered and sent concurrent single requests instead, a bounded number at a time.
Budget forcing: the thinking is capped by max_tokens; a sample cut there gets a second,
short request that carries the forced-answer cue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from think.config import ServerSettings
from think.engine.base import (
    FINISH_CANCELLED,
    FINISH_ERROR,
    Completion,
    DoneCallback,
    SampleRequest,
    SampleResult,
    TokenCallback,
)
from think.engine.http_stream import Delta, Usage, event_payloads, stream_event
from think.engine.prompt import Chat, Prompt, prompt_text
from think.engine.remote_call import Call, ServerBill
from think.engine.request_body import request_body
from think.engine.rules import PLAIN, ModelRules
from think.engine.server_client import ServerClient, TimeUp
from think.engine.server_counts import ASK, ServerCounts, capped, held_note
from think.engine.thinking import THINKING
from think.engine.tracker import SampleTracker
from think.errors import ThinkError

# Past the run's deadline (--max-seconds), a sample cut there still gets this long to answer.
ANSWER_GRACE_S = 5.0


class RemoteEngine:
    """Samples through an OpenAI-compatible HTTP API."""

    def __init__(self, settings: ServerSettings, prompt_format: str, context: int = 32768,
                 check_model: bool = True, rules: ModelRules = PLAIN) -> None:
        self.client = ServerClient(settings)
        self.settings = settings
        self.prompt_format = prompt_format
        self.context = context
        self.rules = rules
        self.supports_n: bool | None = None  # learnt from the first request with n > 1
        self.counts = ServerCounts(self.client)
        self.told_min = self.told_held = False
        self.bill = ServerBill()  # every request's cost, as the server reported it
        if check_model:
            self.client.check_model()  # learns the served name when none was given
        self.name = self.client.name

    # -- text -----------------------------------------------------------------------

    def count_tokens(self, prompt: Prompt) -> int:
        return self.counts.tokens(prompt_text(prompt))

    def close_room(self, request: SampleRequest) -> int:
        return self.counts.close_room(self._capped(request).reasoning)

    def _capped(self, request: SampleRequest) -> SampleRequest:
        return capped(request, self.client.native_cap)

    def _prompt_charges(self, n: int) -> int:
        """How many times a draw of n samples is charged the prompt: once with `n`, else
        (or while it is not known whether the server takes `n`) once per sample."""
        return 1 if self.supports_n else max(1, n)

    def draw_cost(self, request: SampleRequest) -> int:
        request = self._capped(request)
        # The forced answer cue is sent in a second request and is not counted as generated;
        # a server closing the block at the cap writes its stop message first.
        return self.count_tokens(request.prompt) * self._prompt_charges(request.n) \
            + request.n * (request.most_tokens(0) + self.close_room(request))

    def _stream(self, prompt: Prompt, request: SampleRequest, n: int, seed: int, max_tokens: int,
                call: Call, answer: bool = False) -> Iterator[Delta]:
        """The choices' deltas as the server streams them; its usage goes to the call.

        A thinking request ends with TimeUp at the run's deadline; the answer requests of the
        samples cut there have ANSWER_GRACE_S beyond it, and are asked not to think.
        """
        path, body = request_body(self.name, prompt, request, n, seed, max_tokens, self.rules)
        deadline = request.deadline
        if deadline is not None and answer:
            # One grace period for all of a run's late answers, and a moment for each.
            deadline = max(deadline + ANSWER_GRACE_S, time.monotonic() + 1.0)
        reported: list[Usage] = []
        estimate = [self.count_tokens(prompt), 0]
        with call.lock:
            call.usages.append(reported)
            call.estimates.append(estimate)
        with self.client.open(path, body, deadline) as response:
            for payload in event_payloads(response):
                deltas, usage = stream_event(payload)
                if usage is not None:
                    reported.append(usage.capped(self.context, n * max_tokens))
                # Servers stream a token a piece: the count where no usage comes.
                estimate[1] += sum(1 for d in deltas if d.text or d.thinking)
                yield from deltas

    def _first_max_tokens(self, request: SampleRequest) -> int:
        """max_tokens of a sample's first request: its cap, and for a reasoning model (whose
        server closes the block at the cap) room for the answer after it."""
        if request.reasoning is not None and request.answer_cue:
            return request.max_tokens + self.close_room(request) + request.answer_tokens
        return request.max_tokens

    # -- sampling -------------------------------------------------------------------

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        call = Call(on_done)
        request = self._capped(request)
        held = self.counts.as_sent(request, self.client.native_cap,
                                   self.count_tokens(request.prompt))
        notes = []
        if held.max_tokens < request.max_tokens and not self.told_held:
            self.told_held = True  # the plan shows its cap: say why the server got less
            notes.append(held_note(self.name, held.max_tokens, request.max_tokens,
                                   self.client.native_cap))
        request = held
        if request.reasoning is not None and request.reasoning.min_tokens and not self.told_min:
            self.told_min = True  # a server cannot be stopped from closing its block early
            notes.append(f"{self.name} thinks as long as it likes: a minimum thinking length "
                         "(min_thinking) is kept on the llama.cpp engine only")
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
        prompt_tokens, generated, guessed = call.counted()
        self.bill.add(prompt_tokens, generated, len(call.usages) - guessed, guessed)
        return SampleResult(completions, prompt_tokens, generated,
                            errors=[str(failure) for failure in call.failures], notes=notes)

    def _draw_together(self, request: SampleRequest, indices: list[int],
                       on_token: TokenCallback | None, call: Call) -> list[int]:
        """One request for all samples; returns the indices the server did not produce."""
        trackers = {i: SampleTracker(request) for i in indices}
        cut = "stop"  # why samples still open when the stream ends are closed
        try:
            for delta in self._stream(request.prompt, request, len(indices), request.seed,
                                      self._first_max_tokens(request), call):
                index = delta.index
                tracker = trackers.get(index)
                if tracker is None or tracker.finish is not None:
                    continue
                self._feed(tracker, index, delta, on_token)
                if tracker.finish is None and delta.reason is not None:
                    self._close(request, tracker, index, delta.reason, on_token, call)
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
                call.raise_if_stalled()
                last, cut = None, False
                try:
                    for delta in self._stream(request.prompt, request, 1, request.seed + index,
                                              self._first_max_tokens(request), call):
                        if call.stop.is_set() or tracker.finish is not None:
                            break  # done, or stopped at low confidence: the server stops too
                        if cut:  # read on to the server's usage: max_tokens is near
                            continue
                        self._feed(tracker, index, delta, on_token)
                        last = "length" if self._past_cap(tracker, delta) else \
                            delta.reason or last
                        cut = last == "length"
                except TimeUp:
                    last = "length"
                if tracker.finish is None and not call.stop.is_set():
                    if last is None:
                        raise ThinkError("the server closed the stream before the sample "
                                         "finished", "check the server's log")
                    self._close(request, tracker, index, last, on_token, call)
            except ThinkError as exc:
                call.failed(exc)
                tracker.finish = FINISH_ERROR
                call.finished(tracker.completion(index, request.seed + index))
                return
            if tracker.finish is not None:
                call.finished(self._completion(index, tracker, request))

        pool = ThreadPoolExecutor(max_workers=max(1, self.settings.max_in_flight))
        try:
            list(pool.map(one, indices))
        except BaseException:
            call.stop.set()  # Ctrl-C, SIGTERM: no sample starts, none is waited for
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _past_cap(self, tracker: SampleTracker, delta: Delta) -> bool:
        """Past the cap and the server's own close: cut here. A server that keeps the cap but
        cannot say how long its close is (vLLM) runs to max_tokens, the answer's room."""
        room = self.close_room(tracker.request)
        return tracker.finish is None and (room > 0 or not self.client.native_cap) \
            and tracker.thinking_past(room) and not delta.text

    def _feed(self, tracker: SampleTracker, index: int, delta: Delta,
              on_token: TokenCallback | None) -> None:
        shown = ""
        for logprob, confidence in delta.scores:  # where the server sent log-probabilities
            tracker.score(logprob, confidence)
        if tracker.finish is not None:
            return  # stopped at low confidence (the caller closes its stream)
        if delta.thinking and not tracker.thinking_past(self.close_room(tracker.request)):
            shown = tracker.feed_thinking(delta.thinking)
        if delta.text:
            shown += tracker.server_closed_block()  # the answer began: its block is over
            shown += tracker.feed(delta.text)
        if on_token is not None and shown:
            on_token(index, shown)

    def _close(self, request: SampleRequest, tracker: SampleTracker, index: int, reason: str,
               on_token: TokenCallback | None, call: Call) -> None:
        """The server stopped this sample; force an answer if it stopped at the cap."""
        cue = request.answer_cue
        in_block = tracker.block is not None and tracker.block.phase == THINKING
        if cue and tracker.answer_start is None and (reason == "length" or in_block):
            # Cut at the cap, or ended inside its thinking: it must still answer.
            shown = tracker.force_answer()
            if on_token is not None:
                on_token(index, shown)
        tracker.take_injected()  # the server is asked anew, below; nothing is fed to it
        if not (cue and tracker.forced and tracker.answer_tokens_used == 0):
            tracker.end_of_generation()
            return
        prompt = request.prompt
        if isinstance(prompt, Chat):
            # A chat reply cannot be continued: ask for the answer in a new turn.
            # Thinking off: the answer is asked for, not more thought.
            prompt = replace(prompt.then(("assistant", tracker.untagged()),
                                         ("user", ASK.format(cue=cue))),
                             thinking=False)
        else:
            prompt = prompt + tracker.text
        try:
            for delta in self._stream(prompt, request, 1, request.seed + index,
                                      request.answer_tokens, call, answer=True):
                if tracker.finish is None:  # then read on to the usage: answer_tokens is near
                    self._feed(tracker, index, delta, on_token)
            if tracker.finish is not None:
                return
        except TimeUp:
            pass  # what it wrote in its grace time is its answer
        tracker.end_of_generation()

    def _completion(self, index: int, tracker: SampleTracker,
                    request: SampleRequest) -> Completion:
        return tracker.completion(index, request.seed + index)
