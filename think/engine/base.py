"""The Engine protocol, the request and completion types, and the per-sample stopping logic
that every engine shares (stop strings, answer cue, budget forcing, token limits)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

FINISH_STOP, FINISH_FORCED, FINISH_LENGTH, FINISH_CANCELLED = (
    "stop", "budget-forced", "length", "cancelled")

TokenCallback = Callable[[int, str], None]
DoneCallback = Callable[["Completion"], bool]


@dataclass(frozen=True)
class SampleRequest:
    """N samples of one prompt.

    Each sample thinks for at most `max_tokens`; once it writes `answer_cue` it has
    `answer_tokens` more and stops where `answer_end` follows the answer (the end of
    the line by default). A sample that reaches
    `max_tokens` first has the cue appended for it (budget forcing). With no cue, the
    sample simply stops at `max_tokens` (finish reason "length").
    """

    prompt: str
    n: int = 1
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    answer_cue: str | None = None
    answer_tokens: int = 32
    answer_end: str = "\n"
    temperature: float = 0.7
    top_k: int = 40
    top_p: float = 0.95
    seed: int = 0
    ignore_eos: bool = False  # benchmarks: every sample runs to max_tokens
    deadline: float | None = None  # time.monotonic() after which samples are forced to answer
    shared_prefix: str = ""  # start of the prompt that other questions share (cached on disk)

    def most_tokens(self, cue_tokens: int) -> int:
        """The most tokens one sample can add to its sequence, `cue_tokens` the cue's length."""
        if self.answer_cue == "":
            return self.answer_tokens  # the whole output is the answer
        if not self.answer_cue:
            return self.max_tokens
        return self.max_tokens + cue_tokens + self.answer_tokens


@dataclass
class Completion:
    """One finished sample."""

    index: int
    text: str
    tokens: int
    finish: str
    seed: int


@dataclass
class SampleResult:
    """The completions of a request and what processing them cost."""

    completions: list[Completion]
    prompt_tokens: int  # prompt tokens actually evaluated (cached prefixes excluded)
    generated_tokens: int
    decoded_rows: int | None = None  # batch rows the samples took; agreeing samples share rows
    errors: list[str] = field(default_factory=list)  # why samples were lost (a server engine)


class PromptFormat(Protocol):
    """What prompt building needs: the model's format and its chat template."""

    name: str
    context: int
    prompt_format: str  # "base" (plain completion) or "chat" (the model's chat template)

    def count_tokens(self, text: str) -> int:
        """Tokens the text takes in this model."""
        ...

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt text for a chat, ending where the assistant speaks next."""
        ...


class Engine(PromptFormat, Protocol):
    """What the solver needs from a model."""

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        """Draw request.n samples; on_done returning False cancels the samples still running."""
        ...


@dataclass
class SampleTracker:
    """Follows one sample's text as tokens arrive and says when and why it ends.

    With `answer_cue=""` the whole output is the answer: one line, at most answer_tokens.
    """

    request: SampleRequest
    text: str = ""
    thinking_tokens: int = 0
    answer_tokens_used: int = 0
    answer_start: int | None = None  # index in text where the answer begins
    forced: bool = False
    finish: str | None = None

    def __post_init__(self) -> None:
        if self.request.answer_cue == "":
            self.answer_start = 0

    def feed(self, piece: str) -> str:
        """Add one generated piece; returns the part of it that stays in the text."""
        request = self.request
        before = len(self.text)
        self.text += piece
        if self.answer_start is None:
            self.thinking_tokens += 1
        else:
            self.answer_tokens_used += 1
        for stop in request.stop:
            cut = self.text.find(stop, max(0, before - len(stop) + 1))
            if cut >= 0:
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
            newline = answer.find(request.answer_end, content)
            if content < len(answer) and newline >= 0:
                self._end_at(self.answer_start + newline)
            elif self.answer_tokens_used >= request.answer_tokens:
                self._end_at(len(self.text), FINISH_LENGTH)
        elif self.thinking_tokens >= request.max_tokens:
            if cue:
                return piece + self.force_answer()
            self._end_at(len(self.text), FINISH_LENGTH)
        return self.text[before:]

    def _end_at(self, cut: int, reason: str = FINISH_STOP) -> None:
        self.text = self.text[:cut]
        self.finish = FINISH_FORCED if self.forced else reason

    def force_answer(self) -> str:
        """Budget forcing: end the thinking here; returns the cue the model must read next."""
        cue = f"\n{self.request.answer_cue}"
        self.forced = True
        self.text += cue
        self.answer_start = len(self.text)
        return cue

    def end_of_generation(self) -> None:
        """The model emitted its end-of-generation token."""
        self.finish = FINISH_FORCED if self.forced else FINISH_STOP

    def cancel(self) -> None:
        self.finish = FINISH_CANCELLED

    @property
    def generated(self) -> int:
        return self.thinking_tokens + self.answer_tokens_used


@dataclass
class TextEstimator:
    """Stands in for a model when planning without loading one: token counts are estimates."""

    name: str
    context: int
    prompt_format: str
    chars_per_token: int = 4

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // self.chars_per_token)

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        return "".join(f"<{m['role']}>\n{m['content']}\n" for m in messages) + "<assistant>\n"
