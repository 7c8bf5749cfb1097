"""Runs a plan on an engine: its strategy composes the steps a Run offers (a direct answer,
chains of thought with a vote, refinement)."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from think import sandbox
from think.engine.base import Engine, SampleRequest
from think.errors import Interrupted
from think.events import ComputeSpent, EventHandler, Finished, Started, VoteUpdated
from think.planning.budget import CUE_TOKENS, Plan
from think.result import Compute, CritiqueRecord, Result, SampleRecord, VoteSummary
from think.sandbox import RunResult
from think.strategies import registry
from think.strategies.cot import cot_request, direct_request, draw, tests_request
from think.strategies.refine import Refiner
from think.strategies.verify import CodeCheck
from think.strategies.vote import Tally, settled, tally
from think.tasks.prompts import Prompts


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
    testing: dict[int, Future[RunResult | None]] = field(default_factory=dict)  # by index
    critiques: list[CritiqueRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.prompts = Prompts(self.engine, self.question, self.task)
        self.compute = Compute(budget=self.plan.budget, unit_tokens=self.plan.unit_tokens)
        self.vote = VoteSummary(planned=self.plan.samples)
        self.started = time.perf_counter()

    def spend(self, prompt_tokens: int, generated_tokens: int) -> None:
        self.compute.add(prompt_tokens, generated_tokens)
        self.compute.seconds = time.perf_counter() - self.started
        self.emit(ComputeSpent(self.compute.prompt_tokens, self.compute.generated_tokens,
                           self.compute.used, self.compute.seconds))

    def solve(self) -> Result:
        """Carry out the plan; Ctrl-C raises Interrupted with the best answer so far."""
        self.emit(Started(self.question, self.task, self.engine.name, self.profile, self.plan))
        mode = sandbox.resolve(self.check.sandbox if self.check else self.sandbox) \
            if self.task == "code" else None
        try:
            if mode is not None:
                sandbox.tell(mode)
            if mode not in (None, "none") and self.check is None and (
                    self.plan.samples > 1 or self.plan.refine_rounds):
                self.check = self._model_tests()
            if self.check is not None:
                self.check.warm()  # sandboxes start while the model decodes
            registry.get(self.plan.strategy).run(self)
        except KeyboardInterrupt:
            raise Interrupted(self.best) from None
        self.compute.seconds = time.perf_counter() - self.started
        result = Result(
            question=self.question, answer=self.best, task=self.task,
            task_detected=self.task_detected, budget=self.plan.budget, plan=self.plan,
            compute=self.compute, model=self.engine.name, profile=self.profile,
            seed=self.seed, samples=self.samples, vote=self.vote, critiques=self.critiques,
            tests_source=self.check.source if self.check else None, sandbox=mode)
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
        request = cot_request(self.prompts.cot(), self.prompts, self.plan, n=self.plan.samples,
                              seed=self.seed)
        prompt_cost = self._draw_votes(request)
        while not self.vote.early_stopped and (more := self._top_up_size(prompt_cost)):
            # Seeds continue from the samples drawn so far, so no two samples share one.
            self._draw_votes(replace(request, n=more, seed=self.seed + self.asked))

    def _draw_votes(self, request: SampleRequest) -> int:
        """Draw request.n more vote samples; returns the prompt tokens the draw was charged."""
        first, kept = self.asked, len(self.samples)
        self.asked += request.n

        def keep_going(sample: SampleRecord) -> bool:
            # Called in the decode loop: the tests run in the pool, the batch decodes on.
            self.samples.append(sample)
            self._test(sample)
            self._collect()
            return not self._count_votes(stop_early=self.plan.early_stop)

        records, used = draw(self.engine, request, self.task, "sample", self.emit, keep_going,
                             deadline=self.deadline, first=first)
        self.spend(used.prompt_tokens, used.generated_tokens)
        self._collect(wait=True)
        verified = {sample.index: sample for sample in self.samples[kept:]}
        self.samples[kept:] = [verified.get(record.index, record) for record in records]
        if self.testing or self.check is not None:
            self._count_votes(stop_early=self.plan.early_stop)  # with the late outcomes
        return used.prompt_tokens

    def _top_up_size(self, prompt_cost: int) -> int:
        """How many more samples the unspent budget surely pays for while the vote is
        unsettled (0: settled, out of time, at the profile's cap, or not enough left).

        Each sample is costed at its cap (thinking, cue and answer), so the run stays within
        the plan however long the samples turn out; the prompt is costed as in the first
        draw, or per sample for engines that charge it per sample.
        """
        room = self.plan.top_up_to - self.asked
        out_of_time = self.deadline is not None and time.monotonic() >= self.deadline
        if room <= 0 or out_of_time or settled(self._tally(), self.plan.early_stop_threshold,
                                              self.plan.early_stop_min_samples):
            return 0
        left = self.plan.planned_tokens - self.compute.prompt_tokens \
            - self.compute.generated_tokens
        per_sample = self.plan.cot_tokens + CUE_TOKENS + self.plan.answer_tokens + 1
        more = min(room, (left - prompt_cost) // per_sample)
        if more > self.plan.samples:
            # An engine that charges the prompt per sample (a server without `n`) charged
            # prompt_cost for plan.samples samples; a larger draw costs that much more.
            more = min(more, int(left // (prompt_cost / self.plan.samples + per_sample)))
        return max(0, more)

    def _test(self, sample: SampleRecord) -> None:
        """Hand the sample's code to the test pool (when there are tests to run)."""
        if self.check is not None and self.check.runs and sample.answer:
            self.testing[sample.index] = self.check.submit(sample.answer)

    def _collect(self, wait: bool = False) -> None:
        """Write the test outcomes that are in (with `wait`, all) into their samples."""
        done = {index: future.result() for index, future in list(self.testing.items())
                if wait or future.done()}
        for index in done:
            del self.testing[index]
        self.samples = [replace(s, tests=outcome.status)
                        if (outcome := done.get(s.index)) is not None else s
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
        finished = [s for s in self.samples if s.finish != "cancelled"
                    and s.index not in self.testing]
        if any(s.tests == "passed" for s in finished):
            # Execution decides: only programs that pass the tests vote.
            return tally([s.answer if s.tests == "passed" else None for s in finished])
        return tally([s.answer for s in finished])

    def _count_votes(self, stop_early: bool) -> bool:
        """Update the vote from the finished samples; True when it is settled."""
        current = self._tally()
        drawn = sum(s.finish != "cancelled" for s in self.samples)
        asked = max(self.asked, self.plan.samples)
        done = stop_early and drawn < asked and settled(
            current, self.plan.early_stop_threshold, self.plan.early_stop_min_samples)
        self.vote = VoteSummary.of(current, self.plan.samples, drawn,
                                   topped_up=asked - self.plan.samples, early_stopped=done)
        self.best = current.leader if current.leader is not None else self.best
        self.emit(VoteUpdated(current, drawn, asked, done))
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
