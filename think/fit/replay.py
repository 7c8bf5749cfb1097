"""Replaying a plan on recorded samples: what a solve under a profile would have answered
and spent on each question, early stopping and top-ups included, without drawing again.

A vote is replayed in ORDERS orders of the recorded samples (as drawn, then seeded
shuffles) and each question scores the share of orders it got right: one order is one draw
of the vote, and a fit that keeps the luckiest shape of one draw overstates it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from think.config import Profile
from think.fit.record import Half
from think.planning.budget import Plan, PromptCosts, make_plan
from think.strategies.confidence import VoteRule, weigh
from think.strategies.vote import Tally, settled
from think.tasks.datasets import DatasetQuestion
from think.tasks.recording import Recording

Solver = Callable[[Profile, int, DatasetQuestion], tuple[bool, float]]  # (right, units)
ROOMY = 1 << 20  # a context that never narrows a replayed plan
# On the embedded model's held-out half, one budget-4 vote shape scored 60.8..70.0% over 20
# shuffles of the same 40 samples a question (as drawn: 70.0%; real solves: 59.2%).
ORDERS = 16


@dataclass(frozen=True)
class Score:
    """A shape or profile at one budget: accuracy and the units it used, per question."""

    accuracy: float
    units: float
    questions: int
    measured: str = "replayed"  # or "solved" (refinement, run for real)
    # Per question, in order (for paired comparisons): the share of replayed orders it got
    # right (0 or 1 where nothing is random: a greedy chain, a direct answer, a real solve).
    right: tuple[float, ...] = ()


class Prefix(NamedTuple):
    """What a replay reads of the vote after the first samples of an order: its leader and
    what the early stop weighs (vote.settled). A Tally without its per-answer tables."""

    leader: str | None
    total: int
    confidence: float


@dataclass
class Memo:
    """The vote after each prefix of each replayed order, tallied once and shared by every
    plan replayed on the same samples under the same rule. A fit replays the same orders at
    every budget and stop threshold, and re-tallying them was nearly all of its time."""

    # (the recording, which order, the rule's label) -> the votes of its first 1, 2... samples;
    # the recording is kept with them so its id is not reused while the memo lives.
    votes: dict[tuple[int, int, str], tuple[Recording, list[Prefix]]] = \
        field(default_factory=dict)
    # id of a recording -> its replayed orders, the first of which is the recording itself.
    shuffled: dict[int, list[Recording]] = field(default_factory=dict)

    def orders(self, recording: Recording) -> list[Recording]:
        """The recording's replayed orders, shuffled once."""
        if id(recording) not in self.shuffled:
            self.shuffled[id(recording)] = orders(recording)
        return self.shuffled[id(recording)]

    def counter(self, recording: Recording, order_no: int, order: Recording,
                rule: VoteRule) -> Callable[[int], Prefix]:
        """The vote of the first n samples of `order` (order `order_no` of `recording`)."""
        _, known = self.votes.setdefault((id(recording), order_no, rule.label), (recording, []))
        votes = order.votes()

        def vote_of(n: int) -> Prefix:
            while len(known) < n:
                known.append(prefix(weigh(votes[:len(known) + 1], rule)))
            return known[n - 1] if n else prefix(weigh([], rule))
        return vote_of


def prefix(tally: Tally) -> Prefix:
    return Prefix(tally.leader, tally.total, tally.confidence)


def counted(order: Recording, rule: VoteRule) -> Callable[[int], Prefix]:
    """The vote of the first n samples of `order`, tallied afresh each time (no memo)."""
    votes = order.votes()
    return lambda n: prefix(weigh(votes[:n], rule))


def replay_vote(plan: Plan, prompt: PromptCosts, recording: Recording, rule: VoteRule,
                vote_of: Callable[[int], Prefix] | None = None) -> tuple[str | None, float]:
    """(leader, tokens) of a vote drawn from the recording as the solver draws it: the
    plan's samples, then top-ups while the vote is unsettled and the unspent budget pays
    for them at their cap (strategies/solver), as far as the recording reaches.
    `vote_of(n)`, the vote of the first n samples under `rule`, may come from a Memo."""
    vote_of = vote_of or counted(recording, rule)
    votes = recording.votes()
    drawn: list = []
    # A program is its whole output: it has its own prompt and no forced cue.
    program = plan.strategy == "program"
    first, cue = (prompt.program_prompt, 0) if program else (prompt.cot, prompt.cue)
    spent = float(first)
    # A sample may cost its cap, the answer, the forced cue and its last-prompt-token cell.
    worst = plan.cot_tokens + plan.answer_tokens + cue + 1

    def decided() -> bool:
        return settled(vote_of(len(drawn)), plan.early_stop_threshold,
                       plan.early_stop_min_samples)

    def draw(count: int) -> bool:
        """Draw `count` more; True once the early stop ends the vote."""
        nonlocal spent
        for vote in votes[len(drawn):len(drawn) + count]:
            drawn.append(vote)
            tokens = recording.tokens[len(drawn) - 1]
            # A sample that reached its cap was read the forced answer cue as well.
            spent += tokens + (cue if tokens >= plan.cot_tokens else 0)
            if plan.early_stop and decided():
                return True
        return False

    stopped, asked = draw(plan.samples), plan.samples
    while not stopped and len(drawn) < len(votes):
        room = plan.top_up_to - asked
        if room <= 0 or decided():  # as the solver: no top-up once settled
            break
        more = min(room, int((plan.planned_tokens - spent - first) // worst))
        if more <= 0:
            break
        asked += more
        stopped = draw(more)
    return vote_of(len(drawn)).leader, spent


def replay_plan(plan: Plan, half: Half, index: int, rule: VoteRule,
                memo: Memo | None = None) -> tuple[float, float]:
    """(share right, tokens) of one question under a plan without refinement, from the
    recording; a vote's are the means over its replayed orders."""
    prompt = half.prompts[index]
    gold = half.questions[index].gold
    if plan.strategy == "program":
        if plan.samples <= 1 and plan.temperature == 0:
            answer, drawn_tokens = half.greedy_programs[index]
            return float(answer is not None and answer == gold), \
                float(prompt.program_prompt + drawn_tokens)
        return replay_orders(plan, half.program_recording(plan.temperature, index), prompt,
                             gold, rule, memo)
    if plan.strategy == "direct" or not plan.cot_tokens:
        answer = half.direct[index]
        return float(answer is not None and answer == gold), \
            prompt.direct + half.direct_tokens[index]
    if plan.samples <= 1 and plan.temperature == 0 and half.greedy:
        answer, drawn_tokens = half.greedy_chain(plan.cot_tokens, index)  # drawn greedily
        return float(answer is not None and answer == gold), float(prompt.cot + drawn_tokens)
    return replay_orders(plan, half.recording(plan.cot_tokens, plan.temperature, index),
                         prompt, gold, rule, memo)


def replay_orders(plan: Plan, recording: Recording, prompt: PromptCosts, gold: str | None,
                  rule: VoteRule, memo: Memo | None) -> tuple[float, float]:
    """(share right, tokens) of a vote, the means over the recording's replayed orders."""
    replayed = memo.orders(recording) if memo else orders(recording)
    outcomes = [replay_vote(plan, prompt, order, rule,
                            memo.counter(recording, k, order, rule) if memo else None)
                for k, order in enumerate(replayed)]
    right = sum(leader is not None and leader == gold for leader, _ in outcomes)
    return right / len(outcomes), sum(tokens for _, tokens in outcomes) / len(outcomes)


def orders(recording: Recording, count: int = ORDERS) -> list[Recording]:
    """The recording as drawn, then count - 1 shuffles of its samples, seeded by its id so
    every shape is replayed on the same orders."""
    shuffled = [recording]
    for k in range(1, count):
        order = list(range(len(recording.answers)))
        random.Random(f"{recording.id}/{k}").shuffle(order)
        shuffled.append(recording.reordered(order))
    return shuffled


def score_profile(profile: Profile, budget: int, half: Half, solve: Solver | None,
                  memo: Memo | None = None) -> Score | None:
    """The profile at `budget` on the half: replayed (sharing tallies through `memo`), or
    (refinement) solved for real with `solve`, or None when it refines and there is nothing
    to solve with."""
    rule = VoteRule.of(profile)
    right: list[float] = []
    units = 0.0
    refining = make_plan(profile, budget, half.prompts[0], ROOMY).refine_rounds > 0
    if refining and solve is None:
        return None
    for index, item in enumerate(half.questions):
        plan = make_plan(profile, budget, half.prompts[index], ROOMY)
        if refining and solve is not None:
            ok, spent = solve(profile, budget, item)
        else:
            ok, tokens = replay_plan(plan, half, index, rule, memo)
            spent = tokens / profile.unit_tokens
        right.append(float(ok))
        units += spent
    count = max(1, len(half.questions))
    return Score(sum(right) / count, units / count, len(half.questions),
                 "solved" if refining else "replayed", tuple(right))
