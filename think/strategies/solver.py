"""Runs a plan on an engine: direct answer, chains of thought with a vote, then refinement."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from think.budget import Plan
from think.engine.base import Engine
from think.errors import Interrupted
from think.events import EventHandler, Finished, Progress, Started, VoteUpdated
from think.result import Compute, Result, SampleRecord, VoteSummary
from think.strategies.cot import cot_request, direct_request, draw, tests_request
from think.strategies.prompts import Prompts
from think.strategies.refine import Refiner
from think.strategies.verify import CodeCheck
from think.strategies.vote import Tally, settled, tally


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
    samples: list[SampleRecord] = field(default_factory=list)
    best: str | None = None

    def __post_init__(self) -> None:
        self.prompts = Prompts(self.engine, self.question, self.task)
        self.compute = Compute(budget=self.plan.budget, unit_tokens=self.plan.unit_tokens)
        self.vote = VoteSummary(planned=self.plan.samples)
        self.started = time.perf_counter()

    def spend(self, prompt_tokens: int, generated_tokens: int) -> None:
        self.compute.add(prompt_tokens, generated_tokens)
        self.compute.seconds = time.perf_counter() - self.started
        self.emit(Progress(self.compute.prompt_tokens, self.compute.generated_tokens,
                           self.compute.used, self.compute.seconds))

    def solve(self) -> Result:
        """Carry out the plan; Ctrl-C raises Interrupted with the best answer so far."""
        self.emit(Started(self.question, self.task, self.engine.name, self.profile, self.plan))
        try:
            if self.task == "code" and self.check is None and (
                    self.plan.samples > 1 or self.plan.refine_rounds):
                self.check = self._model_tests()
            if self.plan.strategy == "direct":
                self._direct()
            else:
                self._sample_and_vote()
            critiques = self._refine() if self.plan.refine_rounds else []
        except KeyboardInterrupt:
            raise Interrupted(self.best) from None
        self.compute.seconds = time.perf_counter() - self.started
        result = Result(
            question=self.question, answer=self.best, task=self.task,
            task_detected=self.task_detected, budget=self.plan.budget, plan=self.plan,
            compute=self.compute, model=self.engine.name, profile=self.profile,
            seed=self.seed, samples=self.samples, vote=self.vote, critiques=critiques,
            tests_source=self.check.source if self.check else None)
        self.emit(Finished(result))
        return result

    def _direct(self) -> None:
        records, used = draw(self.engine, direct_request(self.prompts, self.plan, self.seed),
                             self.task, "sample", self.emit, deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        self.samples = [self._verified(record) for record in records]
        self._count_votes(stop_early=False)

    def _sample_and_vote(self) -> None:
        request = cot_request(self.prompts.cot(), self.prompts, self.plan, n=self.plan.samples,
                              seed=self.seed)

        def keep_going(sample: SampleRecord) -> bool:
            self.samples.append(self._verified(sample))
            return not self._count_votes(stop_early=self.plan.early_stop)

        records, used = draw(self.engine, request, self.task, "sample", self.emit, keep_going,
                             deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        verified = {sample.index: sample for sample in self.samples}
        self.samples = [verified.get(record.index, record) for record in records]

    def _verified(self, sample: SampleRecord) -> SampleRecord:
        """The sample with the outcome of running its code against the tests."""
        outcome = self.check.run(sample.answer) if self.check else None
        return replace(sample, tests=outcome.status) if outcome else sample

    def _model_tests(self) -> CodeCheck | None:
        """No tests came with the question: the model writes some, marked as its own."""
        request = tests_request(self.prompts, self.plan, self.seed + 20_000)
        records, used = draw(self.engine, request, "code", "tests", self.emit,
                             deadline=self.deadline)
        self.spend(used.prompt_tokens, used.generated_tokens)
        tests = records[0].answer if records else None
        return CodeCheck(tests=tests, source="model-written") if tests else None

    def _count_votes(self, stop_early: bool) -> bool:
        """Update the vote from the finished samples; True when it is settled."""
        finished = [s for s in self.samples if s.finish != "cancelled"]
        answers = [s.answer for s in finished]
        if any(s.tests == "passed" for s in finished):
            # Execution decides: only programs that pass the tests vote.
            answers = [s.answer if s.tests == "passed" else None for s in finished]
        current: Tally = tally(answers)
        done = stop_early and len(finished) < self.plan.samples and settled(
            current, self.plan.early_stop_threshold, self.plan.early_stop_min_samples)
        self.vote = VoteSummary(
            counts=current.counts, leader=current.leader, tied=list(current.tied),
            confidence=round(current.confidence, 4), planned=self.plan.samples,
            drawn=len(finished), early_stopped=done)
        self.best = current.leader if current.leader is not None else self.best
        self.emit(VoteUpdated(current, len(finished), self.plan.samples, done))
        return done

    def _refine(self) -> list:
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
        return refiner.run(start, self.seed + 10_000, adopt)
