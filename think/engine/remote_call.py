"""What one sample() call of the server engine tracks: its completions, failures, the stop
flag and the token counts servers reported. Kept per call, since threads share the engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from think.engine.base import Completion, DoneCallback
from think.engine.http_stream import Usage
from think.engine.server_client import ReplyTimedOut
from think.errors import ThinkError


@dataclass
class Call:
    """What one sample() call tracks; kept per call, since threads share the engine."""

    on_done: DoneCallback | None
    completions: list[Completion] = field(default_factory=list)
    failures: list[ThinkError] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The token counts servers reported, a list per request sent: one for all its choices
    # (vLLM, the OpenAI API) or one per choice (llama-server).
    usages: list[list[Usage]] = field(default_factory=list)
    # Beside each request, think's own estimate of it: its prompt, and the pieces it streamed
    # (a stream cut short, or a server that sends no usage, leaves only this).
    estimates: list[list[int]] = field(default_factory=list)

    def counted(self) -> tuple[int, int, int]:
        """(prompt, generated, requests estimated): each request as its server counted it,
        think's estimate where the server said nothing."""
        prompt = generated = guessed = 0
        pairs = zip(self.usages, self.estimates, strict=True)  # appended together
        for usages, (estimate_prompt, estimate_generated) in pairs:
            if usages:
                # Each choice's count repeats the prompt, which the server evaluates once.
                prompt += max(u.prompt_tokens for u in usages)
                generated += sum(u.completion_tokens for u in usages)
            else:
                prompt, generated = prompt + estimate_prompt, generated + estimate_generated
                guessed += 1
        return prompt, generated, guessed

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

    def raise_if_stalled(self) -> None:
        """A reply that never ended held its request for all of timeout_s: the rest of the
        draw fails with it at once, not one timeout_s after another."""
        with self.lock:
            stalled = next((f for f in self.failures if isinstance(f, ReplyTimedOut)), None)
        if stalled is not None:  # a new error for each thread: a raised one is not shared
            raise ReplyTimedOut(stalled.text, stalled.hint_text)


@dataclass
class ServerBill:
    """What a server engine's requests cost, summed over a run: the servers' own usage (each
    request's prompt and completion, follow-ups included) and think's estimates where a
    server sent none (`estimated_requests` says how many)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    estimated_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, prompt: int, completion: int, reported: int, estimated: int) -> None:
        with self.lock:
            self.prompt_tokens += prompt
            self.completion_tokens += completion
            self.requests += reported + estimated
            self.estimated_requests += estimated

    def to_dict(self) -> dict[str, int | bool]:
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": total, "requests": self.requests,
                "estimated_requests": self.estimated_requests,
                "estimated": self.estimated_requests > 0}

    def copy(self) -> ServerBill:
        with self.lock:
            return ServerBill(self.prompt_tokens, self.completion_tokens, self.requests,
                              self.estimated_requests)

    def since(self, before: ServerBill) -> ServerBill:
        """What was billed after `before` (an engine outlives a run in a batch)."""
        now = self.copy()
        return ServerBill(now.prompt_tokens - before.prompt_tokens,
                          now.completion_tokens - before.completion_tokens,
                          now.requests - before.requests,
                          now.estimated_requests - before.estimated_requests)


def bill_of(engine: object) -> ServerBill | None:
    """A copy of a server engine's bill so far; None for an engine with no server."""
    bill = getattr(engine, "bill", None)
    return bill.copy() if isinstance(bill, ServerBill) else None


def server_usage(engine: object, before: ServerBill | None) -> dict[str, int | bool] | None:
    """The server's totals for what `engine` sent since `before` (`compute.server_usage`)."""
    now = bill_of(engine)
    return None if now is None or before is None else now.since(before).to_dict()
