"""What the shared loop keeps per request: the Job (a request tokenized and fitted) and the
Lane (a job in the loop, its sequences, its prompt rows still to read, and its caller's result);
and what the loop needs of the engine that runs it (LoopHost), so it never imports the engine;
and `abandon_all`, which cancels every lane when the run is stopped.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Protocol

from think.config import LoadSettings
from think.engine.base import DoneCallback, SampleRequest, SampleResult, TokenCallback
from think.engine.llama.batch_shape import BatchShape
from think.engine.llama.context import Context
from think.engine.llama.lookup import Lookup
from think.engine.llama.prefix_cache import Holder
from think.engine.llama.prompt_cache import PromptCache
from think.engine.llama.scheduler import Scheduler

# Every lane whose caller may still wait, by id: a Lane compares by value, so is no set member.
_alive: weakref.WeakValueDictionary[int, Lane] = weakref.WeakValueDictionary()
stopping = threading.Event()  # the run was stopped: the loops take no new job


def abandon_all() -> None:
    """The run was stopped (Ctrl-C, SIGTERM): every lane is cancelled at its loop's next step
    and no new one is taken. A stopped batch's questions wait on worker threads, not on the
    thread that was stopped, so no caller of theirs leaves; without this their lanes would go
    on decoding while the process exits around them."""
    stopping.set()
    for lane in list(_alive.values()):
        lane.abandoned = True


def reopen() -> None:
    """A new run in this process (the tests run many): lanes are taken again."""
    stopping.clear()


@dataclass
class Job:
    """A request tokenized and fitted, ready to decode alone or in a lane."""

    request: SampleRequest
    prompt: list[int]
    cue: list[int]
    lookup: Lookup
    shape: BatchShape
    prefix: int  # tokens of the prompt that are its shared prefix, or 0
    think_open: bool  # the template opened the thinking block itself
    on_token: TokenCallback | None
    on_done: DoneCallback | None

    def result(self, scheduler: Scheduler, evaluated: int) -> SampleResult:
        completions = sorted(scheduler.completions, key=lambda c: c.index)
        return SampleResult(completions, evaluated + scheduler.prompt_side,
                            sum(c.tokens for c in completions), scheduler.decoded,
                            drafted_tokens=self.lookup.drafted,
                            accepted_tokens=self.lookup.accepted)


@dataclass
class Lane:
    """One request in the loop, and what its waiting caller gets back."""

    job: Job
    base: int = 0  # its holder's sequence; its samples take the `width` after it
    scheduler: Scheduler | None = None
    evaluated: int = 0
    unread: list[int] = field(default_factory=list)  # prompt tokens its holder reads next
    read_from: int = 0  # the position of unread[0]
    result: SampleResult | None = None
    error: BaseException | None = None
    abandoned: bool = False  # its caller stopped waiting (Ctrl-C): cancel it
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        _alive[id(self)] = self

    @property
    def seqs(self) -> range:
        return range(self.base, self.base + self.job.shape.width + 1)


class LoopHost(Protocol):
    """The engine as the shared loop sees it (LlamaEngine is one)."""

    llama_context: Context
    prompt_cache: PromptCache
    load: LoadSettings
    turn: threading.Lock
    most_callers: int
    max_cells: int
    gpu_layers: int

    def forget_held(self) -> None: ...

    def ensure_context(self, cells: int, seqs: int, rows: int) -> None: ...

    def scheduler_for(self, job: Job, holder: Holder, base: int = 0) -> Scheduler: ...
