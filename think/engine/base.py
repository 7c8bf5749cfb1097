"""The Engine protocol and the request and completion types every engine shares (the
per-sample stopping logic they share is in engine/tracker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from think.engine.prompt import Prompt, prompt_text
from think.engine.rules import PLAIN, ModelRules
from think.engine.thinking import Reasoning

# Why a sample ended: the model stopped, its answer was forced at the budget, it ran to
# max_tokens, it was cancelled (the vote settled), DeepConf online stopped it at low
# confidence, or its server failed it.
FinishReason = Literal["stop", "budget-forced", "length", "cancelled", "low-confidence",
                       "error"]
FINISH_STOP: Final = "stop"
FINISH_FORCED: Final = "budget-forced"
FINISH_LENGTH: Final = "length"
FINISH_CANCELLED: Final = "cancelled"
FINISH_LOW: Final = "low-confidence"  # DeepConf online: stopped when its window confidence fell
FINISH_ERROR: Final = "error"  # a remote engine's server failed the sample

TokenCallback = Callable[[int, str], None]
DoneCallback = Callable[["Completion"], bool]


# DeepConf's group (sliding-window) and tail length, in tokens, unless a profile says
# otherwise (deepconf_window: answers of a few dozen tokens want a shorter one).
CONFIDENCE_WINDOW = 64


@dataclass(frozen=True)
class SampleRequest:
    """N samples of one prompt.

    Each sample thinks for at most `max_tokens`; once it writes `answer_cue` it has
    `answer_tokens` more and stops where `answer_end` follows the answer (the end of
    the line by default). A sample that reaches
    `max_tokens` first has the cue appended for it (budget forcing). With no cue, the
    sample simply stops at `max_tokens` (finish reason "length").
    """

    prompt: Prompt  # text to continue, or chat messages
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
    reasoning: Reasoning | None = None  # a reasoning model: max_tokens caps its thinking block
    min_p: float = 0.0
    confidence: bool = False  # keep each token's log-probabilities (Completion.confidence)
    # DeepConf online: stop a sample once its sliding-window confidence falls below this.
    stop_below: float | None = None
    window: int = CONFIDENCE_WINDOW  # tokens in a sliding window of confidence (Confidence)

    def end_from(self, answer: str, content: int) -> int:
        """Where in `answer` (its text from `content` on) answer_end may be looked for: a
        fenced answer (code, a chat model's program) ends at the fence that closes it, not
        at one that opens after a line of prose; any other, from its first character."""
        if not self.answer_end.strip().startswith("```"):
            return content
        opening = answer.find("```", content)
        return opening + 3 if opening >= 0 else len(answer)

    def most_tokens(self, cue_tokens: int) -> int:
        """The most tokens one sample can add to its sequence, `cue_tokens` the cue's length."""
        if self.answer_cue == "":
            return self.answer_tokens  # the whole output is the answer
        if not self.answer_cue:  # a reasoning model's block is still closed for it at the cap
            return self.max_tokens + (cue_tokens if self.reasoning else 0)
        return self.max_tokens + cue_tokens + self.answer_tokens


TOP_LOGPROBS = 5  # how many of a token's best log-probabilities its confidence averages


@dataclass(frozen=True)
class Confidence:
    """DeepConf's confidences of one sample, from its drawn tokens.

    A token's confidence is minus the mean of its top-k log-probabilities (normalised over the
    whole vocabulary): high where the model was sure. `mean` averages it over the sample;
    `lowest_window` is the lowest mean over any CONFIDENCE_WINDOW consecutive tokens (a
    shorter sample is one window); `tail` is the mean over its last CONFIDENCE_WINDOW tokens;
    `logprob` is the mean log-probability of the tokens actually drawn. `falls` are the
    points where the window mean reached a new low, as (tokens drawn, mean): a sample stopped
    online at threshold t stops at the first fall below t, so a recording that keeps them can
    replay the online stop at any threshold.
    """

    mean: float
    lowest_window: float
    tail: float
    logprob: float
    tokens: int
    falls: tuple[tuple[int, float], ...] = ()

    @classmethod
    def of(cls, confidences: list[float], logprobs: list[float],
           window: int = CONFIDENCE_WINDOW) -> Confidence | None:
        """The measures of a sample's per-token confidences (None with no tokens)."""
        if not confidences:
            return None
        n = len(confidences)
        width = min(window, n)
        # Sliding-window means from a running sum: one pass however long the sample.
        sums = [0.0]
        for value in confidences:
            sums.append(sums[-1] + value)
        falls: list[tuple[int, float]] = []
        for end in range(window, n + 1):  # a sample shorter than the window has no falls
            mean = round((sums[end] - sums[end - window]) / window, 4)
            if not falls or mean < falls[-1][1]:
                falls.append((end, mean))
        lowest = min(sums[i + width] - sums[i] for i in range(n - width + 1)) / width
        return cls(mean=round(sums[-1] / n, 4), lowest_window=round(lowest, 4),
                   tail=round((sums[-1] - sums[n - width]) / width, 4),
                   logprob=round(sum(logprobs) / max(1, len(logprobs)), 4), tokens=n,
                   falls=tuple(falls))

    def stops_at(self, threshold: float) -> int | None:
        """Tokens after which the online stop at `threshold` ends this sample (None: never)."""
        return next((at for at, mean in self.falls if mean < threshold), None)


@dataclass
class Completion:
    """One finished sample."""

    index: int
    text: str
    tokens: int
    finish: FinishReason
    seed: int
    answer_from: int = 0  # where its answer may be read: after a reasoning model's block
    thinking_tokens: int | None = None  # a reasoning model's tokens inside its block
    closed: str | None = None  # who closed the block: "model" or "forced"
    confidence: Confidence | None = None  # None where the engine cannot say (no logprobs)
    token_confidences: list[float] = field(default_factory=list)  # per drawn token (asked)


@dataclass
class SampleResult:
    """The completions of a request and what processing them cost."""

    completions: list[Completion]
    prompt_tokens: int  # prompt tokens actually evaluated (cached prefixes excluded)
    generated_tokens: int
    decoded_rows: int | None = None  # batch rows the samples took; agreeing samples share rows
    errors: list[str] = field(default_factory=list)  # why samples were lost (a server engine)
    drafted_tokens: int = 0  # lookup decoding: tokens guessed, and those the samples drew
    accepted_tokens: int = 0
    notes: list[str] = field(default_factory=list)  # for the user, once (the run shows them)


class PromptFormat(Protocol):
    """What prompt building and planning need: the model's format and its token counts."""

    name: str
    context: int
    prompt_format: str  # "base" (plain completion) or "chat" (the model's chat template)
    rules: ModelRules  # the model's own prompting and sampling rules

    def count_tokens(self, prompt: Prompt) -> int:
        """Tokens the text, or the chat as this engine renders it, takes in this model."""
        ...


class Engine(PromptFormat, Protocol):
    """What the solver needs from a model."""

    def draw_cost(self, request: SampleRequest) -> int:
        """The most tokens drawing `request` can be charged: its prompt (once, or per sample
        where this engine charges it so) and every sample at its cap, as this engine counts."""
        ...

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        """Draw request.n samples; on_done returning False cancels the samples still running."""
        ...


def prompted(engine: PromptFormat) -> tuple[str, str | None]:
    """How an engine prompts its model: base or chat, and the chat template's family (an
    engine that renders a template itself holds it as `chat_template`; a server applies
    its own, unseen)."""
    from think.gguf.info import template_family

    if engine.prompt_format != "chat":
        return engine.prompt_format, None
    return "chat", template_family(getattr(engine, "chat_template", None))


@dataclass
class TextEstimator:
    """Stands in for a model when planning without loading one: token counts are estimates."""

    name: str
    context: int
    prompt_format: str
    rules: ModelRules = PLAIN
    chars_per_token: int = 4

    def count_tokens(self, prompt: Prompt) -> int:
        return max(1, len(prompt_text(prompt)) // self.chars_per_token)
