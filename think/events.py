"""Events the solver emits as it works; views consume them, the solver never knows a view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from think.planning.budget import Plan
    from think.result import CritiqueRecord, OnlineStop, Result, SampleRecord, Tally


@dataclass(frozen=True)
class Started:
    """A run begins: what it will spend and on what."""

    question: str
    task: str
    model: str
    profile: str
    plan: Plan
    think_tags: tuple[str, str] = ("<think>", "</think>")  # how the model marks its thinking
    prompt_format: str = "base"  # chat: prompted through its chat template
    chat_template: str | None = None  # that template's family (chatml, gemma...)


@dataclass(frozen=True)
class StepStarted:
    """A sampling step begins: `kind` is sample, critique or revise; n sequences."""

    kind: str
    n: int
    max_tokens: int
    round: int = 0
    first: int = 0  # the index of the step's first sample (top-up rounds number on)


@dataclass(frozen=True)
class Token:
    """Text decoded for one sequence of the current step."""

    kind: str
    index: int
    text: str


@dataclass(frozen=True)
class SampleDone:
    """A solution finished, with its extracted answer."""

    kind: str
    sample: SampleRecord


@dataclass(frozen=True)
class VoteUpdated:
    """The vote after each finished sample."""

    tally: Tally
    drawn: int
    planned: int
    settled: bool
    online: OnlineStop | None = None  # DeepConf online's stops so far


@dataclass(frozen=True)
class CritiqueDone:
    """A refinement round finished."""

    critique: CritiqueRecord


@dataclass(frozen=True)
class ComputeSpent:
    """Compute spent so far."""

    prompt_tokens: int
    generated_tokens: int
    used_units: float
    seconds: float


@dataclass(frozen=True)
class Note:
    """Something the user should know that is neither the answer nor an error (a vote rule
    that fell back, a cap a server got less of): views show it, --json keeps it."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The run is over."""

    result: Result


Event = (Started | StepStarted | Token | SampleDone | VoteUpdated | CritiqueDone | ComputeSpent
         | Note | Finished)
EventHandler = Callable[[Event], None]


class NoteKeeper:
    """A handler in front of another that keeps the notes passing through: a run's result
    lists them, so --json and the library see what the views showed."""

    def __init__(self, emit: EventHandler) -> None:
        self.emit = emit
        self.notes: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, Note) and event.text not in self.notes:
            self.notes.append(event.text)
        self.emit(event)
