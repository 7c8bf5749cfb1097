"""What the live view knows: a state updated by solver events, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatchmethod

from think.engine.base import FINISH_CANCELLED, FinishReason
from think.engine.thinking import Reasoning
from think.events import (
    ComputeSpent,
    CritiqueDone,
    Event,
    Finished,
    SampleDone,
    Started,
    StepStarted,
    Token,
    VoteUpdated,
)
from think.planning.budget import Plan
from think.result import CritiqueRecord, OnlineStop, Result, Tally
from think.ui.describe import prompt_words

TAIL_CHARS = 200
THINK_TAGS = (Reasoning.start, Reasoning.end)  # the usual tags, until a run names its own


@dataclass
class SampleLine:
    """One sequence of the current step as the view shows it."""

    index: int
    cap: int
    tokens: int = 0
    tail: str = ""
    answer: str | None = None
    finish: FinishReason | None = None
    thinking_tokens: int | None = None  # a reasoning model's, once it is done
    closed: str | None = None  # who closed its block: "model" or "forced"
    in_block: bool = False  # still inside a thinking block
    tags: tuple[str, str] = THINK_TAGS  # the model's own thinking tags

    @property
    def live(self) -> bool:
        return self.finish is None

    def split_tail(self) -> tuple[str, str]:
        """The tail as (thinking, answer): a reasoning model's block apart from what follows
        it, tags left out; text outside any block is all answer."""
        start, end = self.tags
        tail = self.tail
        opened, closed = tail.rfind(start), tail.rfind(end)
        if closed > opened:  # the block closed within the tail
            return tail[opened + len(start) if opened >= 0 else 0:closed], \
                tail[closed + len(end):]
        if opened >= 0:
            return tail[opened + len(start):], ""
        return (tail, "") if self.in_block else ("", tail)


@dataclass
class ViewState:
    """Everything on screen, rebuilt from events alone."""

    question: str = ""
    model: str = ""
    prompted: str = ""  # base or chat model, and its template
    profile: str = ""
    task: str = ""
    plan: Plan | None = None
    think_tags: tuple[str, str] = THINK_TAGS
    step: str = "sample"
    step_cap: int = 0
    round: int = 0
    lines: dict[int, SampleLine] = field(default_factory=dict)
    finished_samples: int = 0
    forced_samples: int = 0
    tally: Tally | None = None
    drawn: int = 0
    asked: int = 0  # vote samples asked for: the plan's, then any top-up rounds
    settled: bool = False
    online: OnlineStop | None = None  # DeepConf online's stops
    critiques: list[CritiqueRecord] = field(default_factory=list)
    spent_tokens: int = 0  # prompt + generated, as of the last finished step
    live_tokens: int = 0  # tokens streamed since then
    started: float = 0.0  # set by the view from its clock
    result: Result | None = None
    full_texts: list[str] = field(default_factory=list)  # finished texts not yet printed

    @singledispatchmethod
    def apply(self, event: Event) -> None:
        """Update the state from one event; each kind of event has its own method below."""

    @apply.register(Started)
    def _started(self, event: Started) -> None:
        self.question, self.model, self.profile = event.question, event.model, event.profile
        self.task, self.plan, self.think_tags = event.task, event.plan, event.think_tags
        self.prompted = prompt_words(event.prompt_format, event.chat_template)

    @apply.register(StepStarted)
    def _step_started(self, event: StepStarted) -> None:
        self.step, self.round, self.lines = event.kind, event.round, {}
        self.step_cap = event.max_tokens
        if event.kind == "sample":
            self.asked = event.first + event.n

    @apply.register(Token)
    def _token(self, event: Token) -> None:
        line = self.lines.setdefault(event.index, SampleLine(event.index, self._cap(),
                                                             tags=self.think_tags))
        line.tokens += 1
        line.tail = (line.tail + event.text)[-TAIL_CHARS:]
        opened, closed = (line.tail.rfind(tag) for tag in self.think_tags)
        if opened >= 0 or closed >= 0:
            line.in_block = opened > closed
        self.live_tokens += 1

    @apply.register(SampleDone)
    def _sample_done(self, event: SampleDone) -> None:
        sample = event.sample
        line = self.lines.setdefault(sample.index, SampleLine(sample.index, self._cap(),
                                                              tags=self.think_tags))
        line.tokens, line.answer, line.finish = sample.tokens, sample.answer, sample.finish
        line.thinking_tokens, line.closed = sample.thinking_tokens, sample.closed
        if event.kind == "sample":
            self.finished_samples += 1
            self.forced_samples += sample.finish == "budget-forced"
        self.full_texts.append(f"[{event.kind} {sample.index + 1}] {sample.text.strip()}")

    @apply.register(VoteUpdated)
    def _vote_updated(self, event: VoteUpdated) -> None:
        self.tally, self.drawn, self.settled = event.tally, event.drawn, event.settled
        self.online = event.online
        if event.settled:
            for line in self.lines.values():
                if line.live:
                    line.finish = FINISH_CANCELLED

    @apply.register(CritiqueDone)
    def _critique_done(self, event: CritiqueDone) -> None:
        self.critiques.append(event.critique)

    @apply.register(ComputeSpent)
    def _compute_spent(self, event: ComputeSpent) -> None:
        self.spent_tokens = event.prompt_tokens + event.generated_tokens
        self.live_tokens = 0

    @apply.register(Finished)
    def _finished(self, event: Finished) -> None:
        self.result = event.result

    def _cap(self) -> int:
        return self.step_cap

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.started)

    @property
    def used_tokens(self) -> int:
        return self.spent_tokens + self.live_tokens

    @property
    def used_units(self) -> float:
        return self.used_tokens / self.plan.unit_tokens if self.plan else 0.0

    def tokens_per_second(self, now: float) -> float:
        elapsed = self.elapsed(now)
        return self.used_tokens / elapsed if elapsed > 0 else 0.0

    def seconds_left(self, now: float) -> float | None:
        """Time left if the plan spends all it may (an upper bound)."""
        rate = self.tokens_per_second(now)
        if not self.plan or rate <= 0:
            return None
        return max(0, self.plan.planned_tokens - self.used_tokens) / rate
