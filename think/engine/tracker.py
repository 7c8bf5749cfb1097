"""The per-sample stopping logic every engine shares: stop strings, the answer cue, budget
forcing, token limits, and a reasoning model's thinking block (engine/thinking).

The tracker works on text. Where it appends text the model did not sample (the forced answer
cue, a closing of the block, "Wait"), it keeps that text in `injected` until the engine takes
it, so an engine that decodes locally feeds exactly those tokens next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from think.engine.base import (
    FINISH_CANCELLED,
    FINISH_FORCED,
    FINISH_LENGTH,
    FINISH_LOW,
    FINISH_STOP,
    Completion,
    Confidence,
    FinishReason,
    SampleRequest,
)
from think.engine.thinking import BEFORE, CLOSED, NONE, THINKING, Block, Reasoning


@dataclass
class SampleTracker:
    """Follows one sample's text as tokens arrive and says when and why it ends.

    With `answer_cue=""` the whole output is the answer: one line, at most answer_tokens.
    With `think_open`, the prompt itself opened the reasoning model's block.
    """

    request: SampleRequest
    think_open: bool = False
    text: str = ""
    thinking_tokens: int = 0
    answer_tokens_used: int = 0
    answer_start: int | None = None  # index in text where the answer begins
    forced: bool = False
    finish: FinishReason | None = None
    injected: str = ""  # appended for the model to read next; the engine takes it
    retract_to: int | None = None  # a suppressed close cut the text back to this length
    limit: int | None = None  # thinking tokens at which the cue is forced (max_tokens)
    # Per drawn token, where the engine knows them: DeepConf's confidence, the log-probability.
    confidences: list[float] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    window_sum: float = 0.0  # of the last request.window confidences

    def __post_init__(self) -> None:
        if self.request.answer_cue == "":
            self.answer_start = 0
        reasoning = self.request.reasoning
        self.block = None if reasoning is None or self.request.answer_cue == "" else (
            Block.opened(reasoning) if self.think_open else Block(reasoning))

    def score(self, logprob: float, confidence: float) -> None:
        """One drawn token's log-probability and confidence, before its text is fed. With
        the request's stop_below, a window mean under it ends the sample (DeepConf online)."""
        self.logprobs.append(logprob)
        self.confidences.append(confidence)
        drawn, window = len(self.confidences), self.request.window
        self.window_sum += confidence
        if drawn > window:
            self.window_sum -= self.confidences[drawn - 1 - window]
        if drawn < window:
            return
        threshold = self.request.stop_below
        # Rounded as Confidence.falls are, so a replayed stop cuts where this one does.
        if threshold is not None and round(self.window_sum / window, 4) < threshold \
                and self.finish is None:
            self.finish = FINISH_LOW

    def feed(self, piece: str) -> str:
        """Add one generated piece; returns the text to show for it (what stays of it, and
        anything appended after it)."""
        before = len(self.text)
        self.text += piece
        if self.answer_start is None:
            self.thinking_tokens += 1
        else:
            self.answer_tokens_used += 1
        if self.block is not None and self.block.open:
            shown = self._in_block(before)
            if self.block.phase != NONE:
                return shown
        return self._plain(before)

    def _stop_in(self, before: int) -> int | None:
        """Where a stop string the last piece completed begins, if it did."""
        for stop in self.request.stop:
            cut = self.text.find(stop, max(0, before - len(stop) + 1))
            if cut >= 0:
                return cut
        return None

    def _plain(self, before: int) -> str:
        request = self.request
        cut = self._stop_in(before)
        if cut is not None:
            self._end_at(cut)
            return self.text[before:]
        cue = request.answer_cue
        if cue and self.answer_start is None:
            found = self.text.find(cue, max(0, before - len(cue) + 1))
            if found >= 0:
                self.answer_start = found + len(cue)
        if self.answer_start is not None:
            answer = self.text[self.answer_start:]
            content = len(answer) - len(answer.lstrip())
            newline = answer.find(request.answer_end, request.end_from(answer, content))
            if content < len(answer) and newline >= 0:
                self._end_at(self.answer_start + newline)
            elif self.answer_tokens_used >= request.answer_tokens:
                self._end_at(len(self.text), FINISH_LENGTH)
        elif self.thinking_tokens >= (request.max_tokens if self.limit is None else self.limit):
            if cue:
                return self.text[before:] + self.force_answer()
            self._end_at(len(self.text), FINISH_LENGTH)
        return self.text[before:]

    def _in_block(self, before: int) -> str:
        """A piece while the thinking block is open (or not yet opened)."""
        assert self.block is not None
        block = self.block
        end_at = block.watch(self.text, before)
        if block.phase == NONE:
            return ""
        if end_at is not None:
            if not block.may_close():
                return self._suppress(end_at)
            block.close(end_at, "model")
            return self.text[before:] + self._answer_after_block(forced=False)
        stop = self._stop_in(before)
        if stop is not None:
            # A stop string inside the block (a base model starting its next question) ends
            # the thinking, not the sample: the stop is rolled back, then "Wait" or the close.
            self._retract(stop)
            return self._thinking_ends()
        if self.thinking_tokens >= self.request.max_tokens:
            # At the cap, whether or not the block has opened yet (a model that only writes
            # whitespace has not): the block is closed for it, or the plain cue follows.
            return self.text[before:] + self.force_answer()
        return self.text[before:]

    def _suppress(self, end_at: int) -> str:
        """A close before the minimum: the tag is cut and the model reads "Wait" instead."""
        self._retract(end_at)
        return self._wait()

    def _retract(self, at: int) -> None:
        """Cut the text back to `at`; the engine rolls the tokens past it back out too."""
        self.text, self.retract_to = self.text[:at], at

    def _thinking_ends(self) -> str:
        """The thinking stopped inside its block: before the minimum it reads "Wait", after
        it the block is closed for it."""
        assert self.block is not None
        return self._wait() if not self.block.may_close() else \
            self._answer_after_block(forced=True)

    def _wait(self) -> str:
        assert self.block is not None
        self.block.waits += 1
        self.block.tokens += 1  # the cap counts each "Wait" as a token of thinking
        self.thinking_tokens += 1
        return self._inject(f"\n{self.block.reasoning.wait}")

    def _inject(self, text: str) -> str:
        self.text += text
        self.injected += text
        return text

    def _answer_after_block(self, forced: bool) -> str:
        """Close the block (for the model when forced), then the answer cue."""
        assert self.block is not None
        block, cue = self.block, self.request.answer_cue
        closing = block.reasoning.closing(cue, forced)
        if forced:
            block.close(len(self.text) + closing.index(block.reasoning.end), "forced")
            self.forced = True
        shown = self._inject(closing)
        if cue:
            self.answer_start = len(self.text)
        return shown

    def feed_thinking(self, piece: str) -> str:
        """A piece a server sent as thinking (it splits the block off itself); returns the
        text to show. `thinking_capped` says when the cap is reached."""
        if self.block is None:  # the server knows the model reasons; models.yaml did not say
            self.block = Block(Reasoning())
        block = self.block
        shown = piece
        if block.phase == BEFORE:
            self.text += block.reasoning.start
            block.phase, block.content_at = THINKING, len(self.text)
            shown = block.reasoning.start + piece  # the view tells thinking by its tags
        self.text += piece
        if block.tokens >= self.request.max_tokens:
            block.closing += 1  # the server's own close at the cap, not thinking
        else:
            self.thinking_tokens += 1
            block.tokens += 1
        return shown

    @property
    def thinking_capped(self) -> bool:
        return self.thinking_past(0)

    def thinking_past(self, room: int) -> bool:
        """Still thinking `room` tokens past the cap (a server closing the block at the cap
        writes its stop message there first)."""
        block = self.block
        return block is not None and block.phase == THINKING and \
            block.tokens >= self.request.max_tokens and block.closing >= room

    def server_closed_block(self) -> str:
        """The server's answer began: its block is over (closed at the server's own cap, or by
        the model); returns the closing tag it adds. What follows is read under the plain
        rules, with answer_tokens of room before the cue is forced."""
        block = self.block
        if block is None or block.phase != THINKING:
            return ""
        block.close(len(self.text), "forced" if self.thinking_capped else "model")
        self.text += block.reasoning.end
        self.limit = self.thinking_tokens + self.request.answer_tokens
        return block.reasoning.end

    def untagged(self) -> str:
        """The text without its block's tags: what a new chat turn repeats of it."""
        if self.block is None:
            return self.text
        reasoning = self.block.reasoning
        return self.text.replace(reasoning.start, "").replace(reasoning.end, "").strip()

    def take_injected(self) -> str:
        """The text appended since the engine last took it, for the model to read next."""
        text, self.injected = self.injected, ""
        return text

    def truncate(self, length: int) -> None:
        """Cut the text back to `length` (the engine rolled its tokens back that far); what
        was appended for the model to read next stays after it."""
        self.text = self.text[:length] + self.injected

    def _end_at(self, cut: int, reason: FinishReason = FINISH_STOP) -> None:
        self.text = self.text[:cut]
        self.finish = FINISH_FORCED if self.forced else reason

    def force_answer(self) -> str:
        """Budget forcing: end the thinking here (closing an open block); returns the text the
        model must read next."""
        if self.block is not None and self.block.phase == THINKING:
            return self._answer_after_block(forced=True)
        if self.block is not None and self.block.phase == BEFORE:
            self.block.phase = NONE  # it never opened one: a plain sample from here on
        cue = f"\n{self.request.answer_cue}"
        self.forced = True
        self.answer_start = len(self.text) + len(cue)
        return self._inject(cue)

    def end_of_generation(self) -> bool:
        """The model emitted its end-of-generation token. Inside a thinking block the sample
        goes on instead (False): before the minimum it reads "Wait", after it the block is
        closed for it, so it still answers."""
        if self.block is not None and self.block.phase == THINKING:
            self._thinking_ends()
            return False
        self.finish = FINISH_FORCED if self.forced else FINISH_STOP
        return True

    def cancel(self) -> None:
        self.finish = FINISH_CANCELLED

    @property
    def generated(self) -> int:
        return self.thinking_tokens + self.answer_tokens_used

    def completion(self, index: int, seed: int, finish: FinishReason = FINISH_CANCELLED
                   ) -> Completion:
        """The sample as a finished completion (`finish` when it has no reason of its own)."""
        block = self.block
        reasoned = block is not None and block.phase in (THINKING, CLOSED)
        answer_from = 0
        if block is not None and block.end_at is not None:
            answer_from = block.end_at + len(block.reasoning.end)
        return Completion(index, self.text, self.generated, self.finish or finish, seed,
                          answer_from=answer_from,
                          thinking_tokens=block.tokens if reasoned and block else None,
                          closed=block.closed_by if block else None,
                          confidence=Confidence.of(self.confidences, self.logprobs,
                                                   self.request.window),
                          token_confidences=self.confidences if self.request.confidence
                          else [])
