"""What `think tune --data` records on each half of the questions: one direct answer, one
greedy chain per thinking cap, and K sampled chains per cap and temperature, with their
confidences and costs; where an OS sandbox works, also one greedy program and K sampled
programs per temperature, run there for their values (the fit replays plan shapes on
these)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from think.config import Profile
from think.engine.base import Completion, Engine
from think.planning.budget import PromptCosts, make_plan
from think.strategies.cot import cot_request, direct_request, record
from think.tasks.datasets import DatasetQuestion
from think.tasks.prompts import Prompts
from think.tasks.recording import Recording

if TYPE_CHECKING:
    from think.strategies.program import ProgramRunner

Step = Callable[[str], None]
Key = tuple[int, float]  # (thinking cap, temperature) of a set of sampled chains


@dataclass
class Half:
    """What was recorded on one half of the questions."""

    questions: list[DatasetQuestion]
    direct: list[str | None] = field(default_factory=list)  # one greedy answer each
    direct_tokens: list[int] = field(default_factory=list)
    chains: dict[Key, list[Recording]] = field(default_factory=dict)  # K samples each
    prompts: list[PromptCosts] = field(default_factory=list)  # each question's prompt sizes
    # By cap: one greedy chain each (answer, tokens), as a plan of one chain draws it.
    greedy: dict[int, list[tuple[str | None, int]]] = field(default_factory=dict)
    # Program stages (strategies/program), when recorded: their token cap, one greedy
    # program each (value, tokens), and K sampled programs per temperature.
    program_cap: int = 0
    greedy_programs: list[tuple[str | None, int]] = field(default_factory=list)
    programs: dict[float, list[Recording]] = field(default_factory=dict)

    @property
    def caps(self) -> list[int]:
        return sorted({cap for cap, _ in self.chains})

    @property
    def temperatures(self) -> list[float]:
        return sorted({temperature for _, temperature in self.chains})

    def head(self, count: int) -> Half:
        """The first `count` questions (refinement is solved for real on these only)."""
        return Half(self.questions[:count], self.direct[:count], self.direct_tokens[:count],
                    {key: chains[:count] for key, chains in self.chains.items()},
                    self.prompts[:count],
                    {cap: chains[:count] for cap, chains in self.greedy.items()},
                    self.program_cap, self.greedy_programs[:count],
                    {t: recordings[:count] for t, recordings in self.programs.items()})

    def recording(self, cap: int, temperature: float, index: int) -> Recording:
        """The question's samples recorded nearest a plan's cap (the smallest at or above
        it, else the largest) and temperature."""
        near_temperature = min(self.temperatures, key=lambda t: (abs(t - temperature), t))
        return self.chains[(nearest_cap(self.caps, cap), near_temperature)][index]

    def program_recording(self, temperature: float, index: int) -> Recording:
        """The question's sampled programs recorded nearest a plan's temperature."""
        near = min(self.programs, key=lambda t: (abs(t - temperature), t))
        return self.programs[near][index]

    def greedy_chain(self, cap: int, index: int) -> tuple[str | None, int]:
        """The question's greedy chain (answer, tokens) recorded nearest a plan's cap."""
        return self.greedy[nearest_cap(sorted(self.greedy), cap)][index]


def nearest_cap(caps: list[int], cap: int) -> int:
    """The recorded cap for a plan's cap: the smallest at or above it, else the largest."""
    return next((c for c in caps if c >= cap), caps[-1])


def split(items: list[DatasetQuestion], seed: int) -> tuple[list[DatasetQuestion],
                                                             list[DatasetQuestion]]:
    """A seeded half for fitting and the other half held out."""
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    middle = len(shuffled) // 2
    return shuffled[:middle], shuffled[middle:]


def record_half(engine: Engine, questions: list[DatasetQuestion], caps: list[int],
                temperatures: list[float], k: int, profile: Profile, seed: int, step: Step,
                label: str) -> Half:
    """K chains per question at each cap and temperature (with confidences), one greedy
    chain at each cap (one chain is drawn greedily in a solve), and a direct answer."""
    half = Half(questions)
    half.chains = {(cap, t): [] for cap in caps for t in temperatures}
    half.greedy = {cap: [] for cap in caps}
    for number, item in enumerate(questions, 1):
        prompts = Prompts(engine, item.question, "math")
        half.prompts.append(PromptCosts(direct=engine.count_tokens(prompts.direct()),
                                        cot=engine.count_tokens(prompts.cot()),
                                        round_overhead=engine.count_tokens(
                                            prompts.round_overhead())))
        base = make_plan(profile, 1, half.prompts[-1], engine.context)
        direct = engine.sample(direct_request(prompts, base, seed + number)).completions
        half.direct.append(record(direct[0], "math").answer if direct else None)
        half.direct_tokens.append(direct[0].tokens if direct else 0)
        for cap in caps:
            one = replace(base, strategy="cot", cot_tokens=cap, samples=1, temperature=0.0)
            chain = engine.sample(cot_request(prompts.cot(), prompts, one, n=1,
                                              seed=seed + number)).completions
            half.greedy[cap].append((record(chain[0], "math").answer, chain[0].tokens)
                                    if chain else (None, 0))
            for temperature in temperatures:
                plan = replace(base, strategy="vote", cot_tokens=cap, samples=k,
                               temperature=temperature)
                request = replace(cot_request(prompts.cot(), prompts, plan, n=k,
                                              seed=seed + 1000 * number), confidence=True)
                done = engine.sample(request).completions
                half.chains[(cap, temperature)].append(Recording(
                    item.id, item.gold, [record(c, "math").answer for c in done],
                    [c.confidence for c in done], [c.tokens for c in done]))
        step(f"{label}: recorded {number}/{len(questions)}")
    return half


def program_values(runner: ProgramRunner, done: list[Completion]) -> list[str | None]:
    """What each completion's program computes, run in the sandbox (each distinct one once)."""
    futures = [runner.submit(record(c, "program").answer) for c in done]
    return [future.result().answer for future in futures]


def record_programs(engine: Engine, half: Half, cap: int, temperatures: list[float], k: int,
                    profile: Profile, seed: int, sandbox_setting: str, step: Step,
                    label: str) -> None:
    """Onto a recorded half: one greedy program and K sampled programs per temperature for
    each question, each run in the sandbox for its value (strategies/program)."""
    from think.strategies.program import ProgramRunner  # the sandbox is needed only here

    half.program_cap, half.greedy_programs = cap, []
    half.programs = {t: [] for t in temperatures}
    for number, item in enumerate(half.questions, 1):
        prompts = Prompts(engine, item.question, "math")
        half.prompts[number - 1] = replace(half.prompts[number - 1],
                                           program=engine.count_tokens(prompts.program()))
        runner = ProgramRunner("math", sandbox_setting)  # each question's programs run once
        base = replace(make_plan(profile, 1, half.prompts[number - 1], engine.context),
                       strategy="program", cot_tokens=0, answer_tokens=cap)

        greedy = engine.sample(runner.request(prompts, replace(base, temperature=0.0), 1,
                                              seed + number)).completions
        half.greedy_programs.append((program_values(runner, greedy)[0], greedy[0].tokens) if greedy
                                    else (None, 0))
        for temperature in temperatures:
            plan = replace(base, samples=k, temperature=temperature)
            request = replace(runner.request(prompts, plan, k, seed + 1000 * number),
                              confidence=True)
            done = engine.sample(request).completions
            half.programs[temperature].append(Recording(
                item.id, item.gold, program_values(runner, done), [c.confidence for c in done],
                [c.tokens for c in done]))
        step(f"{label}: recorded programs {number}/{len(half.questions)}")
