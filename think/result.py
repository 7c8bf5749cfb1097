"""The result of a solve: every field of `think solve --json`, as plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from think.engine.base import FINISH_CANCELLED, FINISH_LOW, Confidence, FinishReason
from think.planning.budget import Plan


@dataclass(frozen=True)
class Tally:
    """The state of a vote: counts per answer, the leader, and how it was decided."""

    counts: dict[str, int] = field(default_factory=dict)
    leader: str | None = None
    tied: tuple[str, ...] = ()
    confidence: float = 0.0  # the evidence settled() reads (a weighted vote: effective counts)
    abstained: int = 0
    weights: dict[str, float] = field(default_factory=dict)  # a weighted vote's shares
    rule: str = "majority"  # the rule that decided (strategies/confidence)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class SampleRecord:
    """One sampled solution and the answer extracted from it."""

    index: int
    text: str
    answer: str | None
    tokens: int
    finish: FinishReason
    seed: int
    tests: str | None = None  # code: passed, failed, timeout, memory, output or blocked
    thinking_tokens: int | None = None  # a reasoning model's tokens inside its thinking block
    closed: str | None = None  # who closed that block: "model", or "forced" at the cap
    confidence: Confidence | None = None  # DeepConf's measures, where the engine gave them
    # A program stage's sample: how its program's sandboxed run ended (passed: it ran to its
    # end; None: nothing parsed as a program). Its text is the program, its answer the value.
    ran: str | None = None


@dataclass
class CritiqueRecord:
    """One refinement round: the verifier's critique, its verdict and the revision."""

    round: int
    critique: str
    verdict: str
    revised_answer: str | None = None
    revised_text: str | None = None


@dataclass
class Compute:
    """What the run spent, in tokens, seconds and units of the budget."""

    budget: int
    unit_tokens: int
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    # A server engine's bill: its own usage of every request (None on a local engine).
    server_usage: dict[str, int | bool] | None = None

    @property
    def used(self) -> float:
        return (self.prompt_tokens + self.generated_tokens) / self.unit_tokens

    def add(self, prompt_tokens: int, generated_tokens: int) -> None:
        self.prompt_tokens += prompt_tokens
        self.generated_tokens += generated_tokens

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3), "used": round(self.used, 3)}


@dataclass(frozen=True)
class OnlineStop:
    """DeepConf online in a vote: its threshold, the samples it stopped, the tokens saved."""

    threshold: float
    stopped: int = 0
    # Each stopped sample saved what a whole one drew (the mean of the samples that ran to
    # their end) less what it drew before it stopped.
    tokens_saved: int = 0

    @classmethod
    def of(cls, samples: list[SampleRecord], threshold: float | None) -> OnlineStop | None:
        if threshold is None:
            return None
        stopped = [s.tokens for s in samples if s.finish == FINISH_LOW]
        whole = [s.tokens for s in samples if s.finish not in (FINISH_LOW, FINISH_CANCELLED)]
        mean = sum(whole) / len(whole) if whole else 0.0
        return cls(round(threshold, 4), len(stopped),
                   round(sum(max(0.0, mean - tokens) for tokens in stopped)))


@dataclass
class VoteSummary:
    """How self-consistency went: counts, ties, and samples planned, drawn and saved."""

    counts: dict[str, int] = field(default_factory=dict)
    leader: str | None = None
    tied: list[str] = field(default_factory=list)
    confidence: float = 0.0
    planned: int = 0
    drawn: int = 0
    early_stopped: bool = False
    topped_up: int = 0  # samples asked beyond the plan, paid by budget the plan left unspent
    rule: str = "majority"  # the rule that decided: majority, cisc or deepconf:KEEP
    weights: dict[str, float] = field(default_factory=dict)  # a weighted vote's shares
    online: OnlineStop | None = None  # DeepConf online's stops, when the profile asks for it
    selected: int | None = None  # usc: the sample the model named most consistent

    @classmethod
    def of(cls, current: Tally, planned: int, drawn: int, topped_up: int = 0,
           early_stopped: bool = False, online: OnlineStop | None = None) -> VoteSummary:
        """The summary of a vote whose tally is `current`."""
        return cls(counts=dict(current.counts), leader=current.leader, tied=list(current.tied),
                   confidence=round(current.confidence, 4), planned=planned, drawn=drawn,
                   early_stopped=early_stopped, topped_up=topped_up, rule=current.rule,
                   weights=dict(current.weights), online=online)

    @property
    def asked(self) -> int:
        """Samples asked for: the plan's and any the unspent budget bought."""
        return self.planned + self.topped_up

    @property
    def saved(self) -> int:
        """Samples asked for but not drawn: the vote settled first."""
        return self.asked - self.drawn


@dataclass
class StepRecord:
    """One step of an adaptive (--budget auto) run, and why the run went on or stopped."""

    model: str
    step: int
    cot_tokens: int
    samples: int
    refine_rounds: int
    units_used: float  # all steps so far
    leader: str | None
    confidence: float
    settled: bool
    reason: str


@dataclass
class Result:
    """The answer and everything that went into it."""

    question: str
    answer: str | None
    task: str
    task_detected: bool
    budget: int
    plan: Plan
    compute: Compute
    model: str
    profile: str
    seed: int
    samples: list[SampleRecord] = field(default_factory=list)
    vote: VoteSummary = field(default_factory=VoteSummary)
    critiques: list[CritiqueRecord] = field(default_factory=list)
    tests_source: str | None = None  # code tasks: given or model-written
    sandbox: str | None = None  # code tasks: how code ran (bwrap, sandbox-exec, guard, none)
    steps: list[StepRecord] = field(default_factory=list)  # --budget auto: each step
    prompt_format: str | None = None  # base or chat: how the model was prompted
    chat_template: str | None = None  # chat: its template's family (chatml, gemma...)
    notes: list[str] = field(default_factory=list)  # what the views said beside the answer

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `think solve --json` prints."""
        return {
            "answer": self.answer,
            "question": self.question,
            "task": self.task,
            "task_detected": self.task_detected,
            "budget": self.budget,
            "plan": self.plan.to_dict(),
            "samples": [asdict(sample) for sample in self.samples],
            "votes": dict(self.vote.counts),
            "vote": {**asdict(self.vote), "saved": self.vote.saved},
            "critiques": [asdict(critique) for critique in self.critiques],
            "compute": self.compute.to_dict(),
            "model": self.model,
            "prompt_format": self.prompt_format,
            "chat_template": self.chat_template,
            "profile": self.profile,
            "seed": self.seed,
            "tests_source": self.tests_source,
            "sandbox": self.sandbox,
            "steps": [asdict(step) for step in self.steps],
            "notes": list(self.notes),
        }
