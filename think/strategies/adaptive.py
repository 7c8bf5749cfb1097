"""--budget auto[:MAX]: start cheap, measure how settled the answer is, and escalate along the
profile's ladder (more samples, longer chains, refinement, then bigger models) only while it
is unsettled and MAX allows. Every step taken is recorded with the reason for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from think.config import AutoSettings, AutoStep, Profile
from think.engine.base import FINISH_CANCELLED, Engine
from think.errors import Interrupted
from think.events import Event, EventHandler, Finished, NoteKeeper
from think.planning.budget import Plan, plan_cost
from think.result import Compute, Result, SampleRecord, StepRecord, VoteSummary
from think.strategies.confidence import VoteRule
from think.strategies.solver import Run
from think.strategies.vote import Tally, tally

EngineFactory = Callable[[], Engine]
MIN_STEP_SAMPLES = 1


def step_plan(step: AutoStep, profile: Profile, budget: int, prompt_tokens: int,
              round_overhead: int, room_tokens: int) -> Plan | None:
    """The plan of a ladder step, with fewer samples if that is what the room left allows."""
    solution = step.cot_tokens + profile.answer_tokens
    samples = step.samples
    while samples >= MIN_STEP_SAMPLES:
        cost = plan_cost(prompt_tokens, solution, samples, step.refine_rounds,
                         profile.critique_tokens, round_overhead)
        if cost <= room_tokens:
            strategy = "vote" if samples > 1 else ("refine" if step.refine_rounds else "cot")
            return Plan(budget=budget, strategy=strategy, cot_tokens=step.cot_tokens,
                        samples=samples, refine_rounds=step.refine_rounds,
                        temperature=profile.temperature, answer_tokens=profile.answer_tokens,
                        critique_tokens=profile.critique_tokens,
                        unit_tokens=profile.unit_tokens, planned_tokens=cost,
                        top_k=profile.top_k, top_p=profile.top_p, min_p=profile.min_p)
        samples -= 1
    return None


@dataclass
class Adaptive:
    """Runs the ladder on one question."""

    question: str
    task: str
    task_detected: bool
    profile: Profile
    budget: int  # MAX units
    engines: list[tuple[str, EngineFactory]]
    prompt_tokens: Callable[[Engine], tuple[int, int]]  # cot prompt, round overhead
    seed: int
    emit: EventHandler

    def __post_init__(self) -> None:
        self.kept = NoteKeeper(self.emit)  # the steps' notes, for the one result

    def solve(self) -> Result:
        auto: AutoSettings = self.profile.auto
        unit = self.profile.unit_tokens
        compute = Compute(budget=self.budget, unit_tokens=unit)
        records: list[StepRecord] = []
        samples: list[SampleRecord] = []
        critiques: list[Any] = []
        current: Tally = tally([])
        answer: str | None = None
        model_name = ""
        step_no = 0
        settled = False
        try:
            for position, (model_name, factory) in enumerate(self.engines):
                last_model = position == len(self.engines) - 1
                engine = factory()  # loaded only when the ladder reaches this model
                model_samples: list[SampleRecord] = []
                prompt, overhead = self.prompt_tokens(engine)
                for step in auto.steps:
                    room = self.budget * unit - compute.prompt_tokens - compute.generated_tokens
                    plan = step_plan(step, self.profile, self.budget, prompt, overhead, room)
                    if plan is None:
                        if not last_model:
                            break  # the rest of the budget goes to the next, larger model
                        records.append(self._stopped(model_name, step_no, compute, current,
                                                     f"stopped: the next step does not fit the "
                                                     f"{room / unit:.1f} units left"))
                        return self._result(samples, critiques, compute, answer, records,
                                            model_name, current)
                    step_no += 1
                    run = Run(question=self.question, task=self.task,
                              task_detected=self.task_detected, plan=plan, engine=engine,
                              seed=self.seed + 1000 * step_no, emit=self._forward,
                              profile=self.profile.name, rule=VoteRule.of(self.profile))
                    result = run.solve()
                    compute.add(result.compute.prompt_tokens, result.compute.generated_tokens)
                    compute.seconds += result.compute.seconds
                    offset = len(samples)
                    drawn = [replace(s, index=s.index + offset) for s in result.samples]
                    samples += drawn
                    model_samples += drawn
                    critiques += result.critiques
                    current = tally([s.answer for s in model_samples
                                     if s.finish != FINISH_CANCELLED])
                    accepted = bool(result.critiques) and result.critiques[-1].verdict == "correct"
                    answer = current.leader or result.answer or answer
                    if accepted:
                        answer = result.answer
                    settled = accepted or (current.total >= auto.min_samples
                                           and current.confidence >= auto.threshold)
                    reason = (f"settled: P(leader) {current.confidence:.2f} ≥ {auto.threshold}"
                              if settled and not accepted else
                              "settled: the verifier accepted" if accepted else
                              f"unsettled: P(leader) {current.confidence:.2f} < "
                              f"{auto.threshold} after {current.total} answers; escalating")
                    records.append(StepRecord(model_name, step_no, plan.cot_tokens, plan.samples,
                                              plan.refine_rounds, round(compute.used, 3),
                                              current.leader, round(current.confidence, 4),
                                              settled, reason))
                    if settled:
                        return self._result(samples, critiques, compute, answer, records,
                                            model_name, current)
                if records and not last_model:
                    records[-1].reason += f"; {model_name} stayed unsettled: moving to the " \
                                          f"next model"
        except Interrupted as stop:
            raise Interrupted(stop.best_answer or answer) from None
        return self._result(samples, critiques, compute, answer, records, model_name, current)

    def _forward(self, event: Event) -> None:
        if not isinstance(event, Finished):  # one Finished, for the whole run, at the end
            self.kept(event)

    def _stopped(self, model: str, number: int, compute: Compute, current: Tally,
                 reason: str) -> StepRecord:
        """The record that says why no further step was taken (it draws nothing)."""
        return StepRecord(model, number, 0, 0, 0, round(compute.used, 3), current.leader,
                          round(current.confidence, 4), False, reason)

    def _result(self, samples: list[SampleRecord], critiques: list[Any], compute: Compute,
                answer: str | None, records: list[StepRecord], model: str,
                current: Tally) -> Result:
        last = records[-1] if records else None
        plan = Plan(budget=self.budget, strategy="auto",
                    cot_tokens=last.cot_tokens if last else 0,
                    samples=sum(r.samples for r in records),
                    refine_rounds=sum(r.refine_rounds for r in records),
                    temperature=self.profile.temperature,
                    answer_tokens=self.profile.answer_tokens,
                    critique_tokens=self.profile.critique_tokens,
                    unit_tokens=self.profile.unit_tokens,
                    planned_tokens=self.budget * self.profile.unit_tokens)
        vote = VoteSummary.of(current, plan.samples,
                              drawn=sum(s.finish != "cancelled" for s in samples))
        result = Result(question=self.question, answer=answer, task=self.task,
                        task_detected=self.task_detected, budget=self.budget, plan=plan,
                        compute=compute, model=model, profile=self.profile.name, seed=self.seed,
                        samples=samples, vote=vote, critiques=critiques,
                        steps=records, notes=self.kept.notes)
        self.emit(Finished(result))
        return result
