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

    def counted(self) -> tuple[int, int] | None:
        """(prompt, generated) tokens as the servers counted them, if every request said."""
        if not self.usages or not all(self.usages):
            return None
        # Each choice's count repeats the prompt, which the server evaluates once.
        prompt = sum(max(u.prompt_tokens for u in usages) for usages in self.usages)
        return prompt, sum(u.completion_tokens for usages in self.usages for u in usages)

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
