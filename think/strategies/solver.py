"""Runs a plan on an engine: its strategy composes the steps a Run offers (a direct answer,
chains of thought with a vote, refinement)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from think import sandbox
from think.config.stage import StageSettings, strategy
from think.engine.base import FINISH_CANCELLED, FINISH_LOW, Engine, SampleRequest, prompted
from think.errors import Interrupted
from think.events import (
    ComputeSpent,
    EventHandler,
    Finished,
    Note,
    NoteKeeper,
    Started,
    VoteUpdated,
)
from think.planning.budget import Plan, as_sampled
from think.result import Compute, CritiqueRecord, OnlineStop, Result, SampleRecord, VoteSummary
from think.sandbox import RunResult
from think.strategies.confidence import online_threshold
from think.strategies.cot import cot_request, direct_request, draw, tests_request
from think.strategies.program import ProgramRunner
from think.strategies.refine import Refiner
from think.strategies.verify import CodeCheck, Evaluated, outcome_of
from think.strategies.vote import Tally, settled
from think.strategies.vote_rule import MAJORITY, VoteRule, weigh
from think.tasks.prompts import Prompts


def most_that_fit(cost: Callable[[int], int], left: int, most: int) -> int:
    """The largest n <= most whose cost(n) (growing with n) is within `left`, or 0."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if cost(middle) <= left:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass
class Run:
    """One solve in progress; keeps the best answer so far for Ctrl-C."""

    question: str
    task: str
    task_detected: bool
    plan: Plan
    engine: Engine
    seed: int
    emit: EventHandler
    profile: str
    verifier: Engine | None = None
    deadline: float | None = None  # time.monotonic() by which the run must answer
    check: CodeCheck | None = None  # code tasks: tests that decide the vote and critiques
    sandbox: str = "auto"  # code tasks: auto | guard | none (think.sandbox)
    samples: list[SampleRecord] = field(default_factory=list)
    best: str | None = None
    asked: int = 0  # vote samples asked for so far: the plan's, then any top-up rounds
    # By sample index: its tests' run (code), or its program's (a program stage).
    testing: dict[int, Future[RunResult | None] | Future[Evaluated]] = \
        field(default_factory=dict)
    programs: ProgramRunner | None = None  # a program stage's: samples are programs to run
    critiques: list[CritiqueRecord] = field(default_factory=list)
    rule: VoteRule = field(default_factory=VoteRule)  # how the vote counts (the profile's)
    unweighed: bool = False  # a confidence rule met samples with none (said once)
    stop_below: float | None = None  # DeepConf online's threshold, once the warm-up set it
    stage: StageSettings | None = None  # the profile stage of the plan (None: --budget auto)

    def __post_init__(self) -> None:
        self.prompts = Prompts(self.engine, self.question, self.task)
        self.compute = Compute(budget=self.plan.budget, unit_tokens=self.plan.unit_tokens)
        self.vote = VoteSummary(planned=self.plan.samples)
        self.started = time.perf_counter()
        self.emit = self.kept = NoteKeeper(self.emit)

    def spend(self, prompt_tokens: int, generated_tokens: int) -> None:
        self.compute.add(prompt_tokens, generated_tokens)
        self.compute.seconds = time.perf_counter() - self.started
        self.emit(ComputeSpent(self.compute.prompt_tokens, self.compute.generated_tokens,
                           self.compute.used, self.compute.seconds))

    def solve(self) -> Result:
        """Carry out the plan; Ctrl-C raises Interrupted with the best answer so far."""
        reasoning = self.engine.rules.reasoning
        tags = (reasoning.start, reasoning.end) if reasoning else Started.think_tags
        self.emit(Started(self.question, self.task, self.engine.name, self.profile,
                          as_sampled(self.plan, self.engine.rules), tags, *prompted(self.engine)))
        setting = self.check.sandbox if self.check else self.sandbox
        mode = sandbox.resolve(setting) if self.task == "code" else None
        try:
            if mode is not None:
                sandbox.tell(mode, setting)
            if mode not in (None, "none") and self.check is None and (
                    self.plan.samples > 1 or self.plan.refine_rounds):
                self.check = self._model_tests()
            if self.check is not None:
                self.check.warm()  # sandboxes start while the model decodes
            strategy(self.plan.strategy).run(self)
        except KeyboardInterrupt:
            raise Interrupted(self.best) from None
        self.compute.seconds = time.perf_counter() - self.started
        result = Result(
            question=self.question, answer=self.best, task=self.task,
            task_detected=self.task_detected, budget=self.plan.budget, plan=self.plan,
            compute=self.compute, model=self.engine.name, profile=self.profile,
            seed=self.seed, samples=self.samples, vote=self.vote, critiques=self.critiques,
            tests_source=self.check.source if self.check else None,
            sandbox=self.programs.mode if self.programs else mode, notes=self.kept.notes)
        self.emit(Finished(result))
        return result

    def direct(self) -> None:
        """Draw the plan's one direct answer."""
        records, used = draw(self.engine, direct_request(self.prompts, self.plan, self.seed),
                             self.task, "sample", self.emit, deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        self.samples = records
        for record in records:
            self._test(record)
        self._collect(wait=True)
        self._count_votes(stop_early=False)

    def sample_and_vote(self) -> None:
        """Draw the plan's chains of thought and vote, topping up while it is unsettled."""
        request = self.programs.request(self.prompts, self.plan, self.plan.samples, self.seed) \
            if self.programs else cot_request(self.prompts.cot(), self.prompts, self.plan,
                                              n=self.plan.samples, seed=self.seed)
        # Only a confidence rule pays for each token's log-probabilities.
        request = replace(request, confidence=self.rule.needs_confidence,
                          window=self.rule.window)
        if 0 < self.rule.warmup < request.n:
            request = self._warm_up(request)
        if not self.vote.early_stopped:
            self._draw_votes(request)
        while not self.vote.early_stopped and (more := self._top_up_size(request)):
            # Seeds continue from the samples drawn so far, so no two samples share one.
            self._draw_votes(replace(request, n=more, seed=self.seed + self.asked))
        if chosen := self.rule.kind.choose(self, self._voters()):
            self.best = chosen.answer
            self.vote = replace(self.vote, leader=self.best, rule=self.rule.label,
                                selected=chosen.index)

    def _voters(self) -> list[SampleRecord]:
        """The samples whose answers count: finished, not cut short, with an answer."""
        return [s for s in self.samples if s.answer is not None
                and s.finish not in (FINISH_CANCELLED, FINISH_LOW)]

    def _warm_up(self, request: SampleRequest) -> SampleRequest:
        """DeepConf online: draw the warm-up whole; returns the rest of the request, which
        stops each sample whose window confidence falls below the warm-up's threshold."""
        self._draw_votes(replace(request, n=self.rule.warmup))
        self.stop_below = online_threshold(
            [s.confidence for s in self.samples if s.confidence is not None
             and s.finish != FINISH_CANCELLED], self.rule.keep)
        return replace(request, n=request.n - self.rule.warmup, seed=self.seed + self.asked,
                       stop_below=self.stop_below)

    def _draw_votes(self, request: SampleRequest) -> None:
        """Draw request.n more vote samples."""
        first, kept = self.asked, len(self.samples)
        self.asked += request.n

        def keep_going(sample: SampleRecord) -> bool:
            # Called in the decode loop: the tests run in the pool, the batch decodes on.
            self.samples.append(sample)
            self._test(sample)
            # A program runs in milliseconds (the same one once), so its value is waited for:
            # the vote and its early stop see it now. Tests may take seconds: not waited for.
            self._collect(wait=self.programs is not None)
            return not self._count_votes(stop_early=self.plan.early_stop)

        # A program's sample answers with its code until the sandbox says what it computes.
        task = "program" if self.programs else self.task
        records, used = draw(self.engine, request, task, "sample", self.emit, keep_going,
                             deadline=self.deadline, first=first)
        self.spend(used.prompt_tokens, used.generated_tokens)
        self._collect(wait=True)
        verified = {sample.index: sample for sample in self.samples[kept:]}
        self.samples[kept:] = [verified.get(record.index, record) for record in records]
        if self.testing or self.check is not None or self.programs is not None:
            self._count_votes(stop_early=self.plan.early_stop)  # with the late outcomes

    def _top_up_size(self, request: SampleRequest) -> int:
        """How many more samples of `request` the unspent budget surely pays for while the
        vote is unsettled (0: settled, out of time, at the profile's cap, or not enough left).

        The engine costs the draw with every sample at its cap, so the run stays within the
        plan however long the samples turn out.
        """
        room = self.plan.top_up_to - self.asked
        out_of_time = self.deadline is not None and time.monotonic() >= self.deadline
        if room <= 0 or out_of_time or settled(self._tally(), self.plan.early_stop_threshold,
                                              self.plan.early_stop_min_samples):
            return 0
        left = self.plan.planned_tokens - self.compute.prompt_tokens \
            - self.compute.generated_tokens
        if (after := self.rule.kind.bound(self, self._voters())) is not None:
            left -= self.engine.draw_cost(after)  # the rule's step still to come
        return most_that_fit(lambda n: self.engine.draw_cost(replace(request, n=n)), left, room)

    def _test(self, sample: SampleRecord) -> None:
        """Hand the sample's code to the pool: its program to run, or tests to run it
        against (when there are any)."""
        if self.programs is not None and sample.finish != FINISH_CANCELLED:
            self.testing[sample.index] = self.programs.submit(sample.answer)
        elif self.check is not None and self.check.runs and sample.answer:
            self.testing[sample.index] = self.check.submit(sample.answer)

    def _collect(self, wait: bool = False) -> None:
        """Write the test outcomes that are in (with `wait`, all) into their samples."""
        done = {index: future.result() for index, future in list(self.testing.items())
                if wait or future.done()}
        for index in done:
            del self.testing[index]
        self.samples = [outcome_of(s, done[s.index]) if s.index in done else s
                        for s in self.samples]

    def _model_tests(self) -> CodeCheck | None:
        """No tests came with the question: the model writes some, marked as its own."""
        request = tests_request(self.prompts, self.plan, self.seed + 20_000)
        records, used = draw(self.engine, request, "code", "tests", self.emit,
                             deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        tests = records[0].answer if records else None
        return CodeCheck(tests=tests, source="model-written", sandbox=self.sandbox) \
            if tests else None

    def _tally(self) -> Tally:
        """The vote of the finished samples."""
        # A sample whose tests are still running waits to vote until they are done.
        finished = [s for s in self.samples if s.finish not in (FINISH_CANCELLED, FINISH_LOW)
                    and s.index not in self.testing]
        passed = any(s.tests == "passed" for s in finished)
        # Execution decides: only programs that pass the tests vote.
        current = weigh([(s.answer if s.tests == "passed" or not passed else None, s.confidence)
                         for s in finished], self.rule)
        if self.rule.weighs and current.rule == MAJORITY and current.total \
                and not self.unweighed:
            self.unweighed = True
            self.emit(Note(f"the {self.rule.name} vote needs token log-probabilities and "
                           f"{self.engine.name} gave none; counting votes plainly"))
        return current

    def _count_votes(self, stop_early: bool) -> bool:
        """Update the vote from the finished samples; True when it is settled."""
        current = self._tally()
        drawn = sum(s.finish != FINISH_CANCELLED for s in self.samples)
        asked = max(self.asked, self.plan.samples)
        done = stop_early and drawn < asked and settled(
            current, self.plan.early_stop_threshold, self.plan.early_stop_min_samples)
        stop = OnlineStop.of(self.samples, self.stop_below)
        self.vote = VoteSummary.of(current, self.plan.samples, drawn,
                                   topped_up=asked - self.plan.samples, early_stopped=done,
                                   online=stop)
        self.best = current.leader if current.leader is not None else self.best
        self.emit(VoteUpdated(current, drawn, asked, done, online=stop))
        return done

    def refine(self) -> None:
        """Critique and revise the leading answer for the plan's rounds (none: nothing)."""
        if not self.plan.refine_rounds:
            return
        leader = self.vote.leader
        start = next((s for s in self.samples if s.answer == leader and leader is not None),
                     self.samples[0])

        def adopt(revision: SampleRecord) -> None:
            if revision.answer is not None:
                self.best = revision.answer

        verifier = self.verifier or self.engine
        refiner = Refiner(self.engine, verifier, self.prompts,
                          Prompts(verifier, self.question, self.task), self.plan, self.emit,
                          self.spend, self.deadline, self.check)
        self.critiques = refiner.run(start, self.seed + 10_000, adopt)
