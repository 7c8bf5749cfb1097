"""A deterministic engine for tests and demos: replies come from a script, one word a token."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from think.engine.base import (
    FINISH_CANCELLED,
    FINISH_STOP,
    Completion,
    DoneCallback,
    SampleRequest,
    SampleResult,
    TokenCallback,
)
from think.engine.prompt import Prompt, prompt_text
from think.engine.rules import PLAIN, ModelRules
from think.engine.tracker import SampleTracker

Responder = Callable[[SampleRequest, int], str]
# A token's confidence: (the sample's seed, the token's number from 0) -> confidence.
TokenConfidence = Callable[[int, int], float]


def split_tokens(text: str) -> list[str]:
    """Scripted tokens: each word with the whitespace before it."""
    return re.findall(r"\s*\S+|\s+$", text)


@dataclass
class ScriptedEngine:
    """Replies from a queue of texts (or a function of the request), recording every request."""

    replies: Iterable[str] = ()
    respond: Responder | None = None
    name: str = "scripted"
    context: int = 32768
    prompt_format: str = "base"
    rules: ModelRules = PLAIN
    history: list[SampleRequest] = field(default_factory=list)
    # Where set, requests that ask for confidences get these (log-probability -1 each).
    token_confidence: TokenConfidence | None = None
    # As a batch decodes: every sample starts at once and the shortest finish first.
    batched: bool = False

    def __post_init__(self) -> None:
        self._queue: deque[str] = deque(self.replies)

    def count_tokens(self, prompt: Prompt) -> int:
        return len(split_tokens(prompt_text(prompt)))

    def draw_cost(self, request: SampleRequest) -> int:
        # The prompt is charged once; a sample's tokens are its thinking and answer.
        return self.count_tokens(request.prompt) + request.n * request.most_tokens(0)

    def _reply(self, request: SampleRequest, index: int) -> str:
        if self.respond is not None:
            return self.respond(request, index)
        if not self._queue:
            raise AssertionError("scripted engine ran out of replies")
        return self._queue.popleft()

    @staticmethod
    def _in_finishing_order(completions: list[Completion], on_done: DoneCallback | None
                            ) -> list[Completion]:
        """Report the shortest first, as a batch finishes them; those still decoding when
        on_done says stop are cancelled."""
        reported: set[int] = set()
        for done in sorted(completions, key=lambda c: (c.tokens, c.index)):
            reported.add(done.index)
            if on_done is not None and not on_done(done):
                break
        return [c if c.index in reported else replace(c, finish=FINISH_CANCELLED)
                for c in completions]

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        self.history.append(request)
        completions: list[Completion] = []
        for index in range(request.n):
            late = request.deadline is not None and time.monotonic() >= request.deadline
            if late and index > 0:
                break  # out of time: the first sample answers at once, no more start
            done = self._one(request, index, late, on_token)
            completions.append(done)
            if not self.batched and on_done is not None and not on_done(done):
                break
        if self.batched:
            completions = self._in_finishing_order(completions, on_done)
        generated = sum(c.tokens for c in completions)
        return SampleResult(completions, self.count_tokens(request.prompt), generated)

    def _one(self, request: SampleRequest, index: int, late: bool,
             on_token: TokenCallback | None) -> Completion:
        """One sample of the request, its scripted reply fed through a tracker."""
        reply = self._reply(request, index)
        tracker = SampleTracker(request)
        tokens = deque(split_tokens(reply))
        cue = request.answer_cue
        jumped = False
        if late and cue:
            tracker.force_answer()
        while tracker.finish is None:
            if tracker.forced and not jumped and cue and cue in reply:
                # A forced sample goes on with the answer its script gives.
                jumped = True
                tokens = deque(split_tokens(reply[reply.index(cue) + len(cue):]))
            if not tokens:
                if tracker.end_of_generation():
                    break
                continue  # inside a thinking block: it was closed for the sample
            if request.confidence and self.token_confidence is not None:
                seed = request.seed + index
                tracker.score(-1.0, self.token_confidence(seed, tracker.generated))
                if tracker.finish is not None:
                    break  # stopped at low confidence (DeepConf online)
            shown = tracker.feed(tokens.popleft())
            if on_token and shown:
                on_token(index, shown)
        return tracker.completion(index, request.seed + index, FINISH_STOP)
