"""Plain progress lines on stderr: for pipes, logs and terminals without a live view."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from think.engine.base import FINISH_LOW
from think.events import (
    CritiqueDone,
    Event,
    Finished,
    Note,
    SampleDone,
    Started,
    StepStarted,
    VoteUpdated,
)
from think.ui.describe import (
    describe_plan,
    online_words,
    prompt_words,
    refinement_rounds,
    short,
    top_votes,
    vote_notes,
)
from think.ui.terminal_text import NO_ANSWER, printable, shown_answer


@dataclass
class PlainView:
    """Writes one line per step, sample, vote and critique; `verbose` adds full texts."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    verbose: bool = False
    planned: int = 0

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def say(self, text: str) -> None:
        # Every line may hold model or server text: questions, answers, names, samples.
        print(printable(text), file=self.stream, flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.planned = event.plan.samples
            self.say(f"think: {short(event.question, 70)}")
            self.say(f"think: model {event.model}, "
                     f"{prompt_words(event.prompt_format, event.chat_template)}, "
                     f"profile {event.profile}, task {event.task}")
            self.say(f"think: {describe_plan(event.plan)}")
            for note in event.plan.notes:
                self.say(f"think: note: {note}")
        elif isinstance(event, Note):
            self.say(f"think: note: {event.text}")
        elif isinstance(event, StepStarted) and event.kind != "sample":
            self.say(f"think: round {event.round}: {event.kind}")
        elif isinstance(event, StepStarted) and event.first:
            self.planned = event.first + event.n
            self.say(f"think: vote unsettled, unspent budget buys {event.n} more samples")
        elif isinstance(event, SampleDone):
            self._sample_done(event)
        elif isinstance(event, VoteUpdated) and event.drawn > 1:
            counts = top_votes(event.tally.counts, times=" x")
            settled = f" - settled after {event.drawn} of {event.planned}" if event.settled else ""
            if event.online is not None and event.online.stopped:
                settled += f" - {online_words(event.online)}"
            self.say(f"think: vote: {counts or 'no answers yet'}{settled}")
        elif isinstance(event, CritiqueDone):
            critique = event.critique
            revised = (f" -> {shown_answer(critique.revised_answer)}"
                       if critique.verdict != "correct" else "")
            self.say(f"think: verdict round {critique.round}: {critique.verdict}{revised}")
        elif isinstance(event, Finished):
            self._finished(event)

    def _sample_done(self, event: SampleDone) -> None:
        sample = event.sample
        label = {"sample": f"sample {sample.index + 1}/{self.planned}",
                 "critique": "critique", "revise": "revised",
                 "tests": "model-written tests",
                 "select": "most consistent (usc)"}.get(event.kind, event.kind)
        forced = {"budget-forced": ", forced at budget",
                  FINISH_LOW: ", stopped at low confidence"}.get(sample.finish, "")
        shown = sample.text if event.kind == "critique" else sample.answer
        answer = NO_ANSWER if shown is None else short(shown, 60)
        self.say(f"think: {label}: {answer} ({sample.tokens} tokens{forced})")
        if self.verbose:
            self.say(sample.text)

    def _finished(self, event: Finished) -> None:
        result = event.result
        compute = result.compute
        basis = []  # what the answer rests on: a vote, refinement rounds, or one sample
        if len(result.samples) > 1:
            votes = result.vote.counts.get(result.answer or "", 0)
            basis.append(f"{votes}/{result.vote.drawn} votes")
            basis += vote_notes(result.vote, result.plan)
        if result.critiques:
            basis.append(refinement_rounds(len(result.critiques)))
        basis += [f"{compute.used:.1f} of {result.budget} units",
                  f"{compute.prompt_tokens + compute.generated_tokens} tokens",
                  f"{compute.seconds:.1f} s"]
        answer = "no answer" if result.answer is None else f"answer {result.answer}"
        self.say(f"think: {answer} ({', '.join(basis)})")


class SilentView:
    """--quiet: hears every event, shows nothing."""

    def __enter__(self) -> SilentView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __call__(self, event: Event) -> None:
        return None
