"""Confidence-weighted votes: the built-in vote rules that count (strategies/vote_rule).

- majority: plain counts (vote.tally).
- cisc (Confidence-Informed Self-Consistency): each sample weighs softmax(c / T) over the
  samples, c its mean token confidence; an answer's weight is the sum of its samples'.
- deepconf (DeepConf offline): keep the `keep` share of the samples with the highest
  lowest-window confidence (or tail confidence, over their last window: vote.by), then
  each kept sample weighs that confidence.

A weighted vote is a Tally whose leader has the most weight; its `confidence`, the evidence
the early-stopping rule reads (vote.settled), is the Beta posterior of plain counts taken on
effective counts: the n voting samples shared out by weight (the leader's n x share against
the runner-up's). Equal weights give plain counts back, so a weighted vote settles exactly as
a counted one would; the leader's bare share (used before) settled three unanimous samples
at once yet never an 8-to-2 split, and on the small arithmetic set its CISC votes drew about
a third more samples for the same accuracy.

DeepConf online (vote.warmup in the profile, with any rule): the first `warmup` samples
are drawn whole; the lowest-window confidence at the (1 - keep) percentile of theirs becomes a
threshold, and each later sample stops as soon as its sliding-window confidence falls below
it (engine/tracker). A stopped sample does not vote, and the tokens it did not draw stay in
the budget for top-ups.

Samples with no confidence (an engine or server that gave no log-probabilities) cannot be
weighed: a confidence rule then counts plainly, and the tally says "majority".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from think.engine.base import Confidence
from think.result import Tally
from think.strategies.counting import leader_probability, tally
from think.strategies.vote_rule import MAJORITY, Rule, Vote, VoteRule, weigh

__all__ = ["CISC", "DEEPCONF", "MAJORITY", "VoteRule", "cisc", "deepconf", "majority", "weigh"]

CISC, DEEPCONF = "cisc", "deepconf"
# CISC's softmax temperature over DeepConf token confidences (a few units wide): 0.1 made
# the vote "follow the single most confident sample" and lost to plain counts on the small
# arithmetic set (16 samples: 56.2% against 58.8%), 0.5..1 beat them (65.8..67.5%).
CISC_TEMPERATURE = 1.0


class Majority(Rule):
    """Plain counts."""

    examples = (MAJORITY,)

    def count(self, votes: Sequence[Vote], rule: VoteRule) -> Tally:
        return tally([answer for answer, _ in votes])


class Weighed(Rule):
    """A rule that weighs each sample by its confidence; with none to weigh by (an engine
    that gave no log-probabilities), plain counts, which the tally says ("majority")."""

    weighs = True

    def count(self, votes: Sequence[Vote], rule: VoteRule) -> Tally:
        answers = [answer for answer, _ in votes]
        voting = [(answer, conf) for answer, conf in votes if answer is not None]
        if not voting or any(conf is None for _, conf in voting):
            return tally(answers)
        scored = [(answer, conf) for answer, conf in voting if conf is not None]
        return weighted_tally(answers, self.weights(scored, rule), rule.label)

    def weights(self, scored: list[tuple[str | None, Confidence]],
                rule: VoteRule) -> list[tuple[str | None, float]]:
        raise NotImplementedError


class Cisc(Weighed):
    """Each sample weighs softmax(mean confidence / temperature) over the samples."""

    name, knobs, examples = CISC, ("temperature",), ("cisc:1",)

    def weights(self, scored: list[tuple[str | None, Confidence]],
                rule: VoteRule) -> list[tuple[str | None, float]]:
        weights = cisc_weights([conf.mean for _, conf in scored], rule.temperature)
        return [(answer, w) for (answer, _), w in zip(scored, weights, strict=True)]

    def label(self, rule: VoteRule) -> str:
        return CISC if rule.temperature == CISC_TEMPERATURE else f"{CISC}:{rule.temperature:g}"

    def parse(self, value: str) -> VoteRule | None:
        temperature = float(value) if value else CISC_TEMPERATURE
        return VoteRule(CISC, temperature=temperature) if temperature > 0 else None


class DeepConf(Weighed):
    """The most confident `keep` share of the samples, each weighing that confidence."""

    name, knobs = DEEPCONF, ("keep", "by")
    examples = ("deepconf:0.9", "deepconf:0.9:tail")

    def weights(self, scored: list[tuple[str | None, Confidence]],
                rule: VoteRule) -> list[tuple[str | None, float]]:
        return deepconf_kept(scored, rule.keep, rule.by)

    def label(self, rule: VoteRule) -> str:
        return f"{DEEPCONF}:{rule.keep:g}" + (":tail" if rule.by == "tail" else "")

    def parse(self, value: str) -> VoteRule | None:
        """KEEP in (0, 1], then `tail` to rank by the last window instead of the lowest."""
        text, _, by = value.partition(":")
        keep = float(text) if text else 0.9
        ok = 0 < keep <= 1 and by in ("", "lowest", "tail")
        return VoteRule(DEEPCONF, keep=keep, by=by or "lowest") if ok else None


majority, cisc, deepconf = Majority(), Cisc(), DeepConf()


def online_threshold(warmup: Sequence[Confidence], keep: float) -> float | None:
    """DeepConf online's stop threshold: the (1 - keep) percentile of the warm-up samples'
    lowest-window confidences (keep 0.9: a new sample stops where it falls below the lowest
    tenth of the warm-up). None with no warm-up confidences."""
    return percentile([c.lowest_window for c in warmup], 1 - keep) if warmup else None


def percentile(values: Sequence[float], share: float) -> float:
    """The value `share` of the way up the sorted values, interpolated between neighbours."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cisc_weights(confidences: list[float], temperature: float) -> list[float]:
    """softmax(confidence / temperature), computed from the largest for stability."""
    top = max(confidences)
    exps = [math.exp((c - top) / temperature) for c in confidences]
    total = sum(exps)
    return [e / total for e in exps]


def deepconf_kept(scored: list[tuple[str | None, Confidence]], keep: float,
                  by: str = "lowest") -> list[tuple[str | None, float]]:
    """The most confident `keep` share of the samples (at least one) by lowest-window (or
    tail) confidence, each weighing that confidence; in sample order."""
    count = max(1, math.ceil(keep * len(scored) - 1e-9))
    measure = [conf.tail if by == "tail" else conf.lowest_window for _, conf in scored]
    ranked = sorted(range(len(scored)), key=lambda i: -measure[i])[:count]
    return [(scored[i][0], max(measure[i], 0.0)) for i in sorted(ranked)]


def weighted_tally(answers: list[str | None], pairs: Sequence[tuple[str | None, float]],
                   rule: str) -> Tally:
    """A Tally of plain counts whose leader and evidence come from the weights of `pairs`."""
    plain = tally(answers)
    weights: dict[str, float] = {}
    for answer, weight in pairs:
        if answer is not None:
            weights[answer] = weights.get(answer, 0.0) + weight
    total = sum(weights.values())
    if not weights or total <= 0:
        return plain
    top = max(weights.values())
    tied = tuple(answer for answer, weight in weights.items() if math.isclose(weight, top))
    runner_up = sorted(weights.values())[-2] if len(weights) > 1 else 0.0
    voters = sum(1 for answer, _ in pairs if answer is not None)
    evidence = leader_probability(round(voters * top / total), round(voters * runner_up / total))
    return Tally(counts=plain.counts, leader=tied[0], tied=tied if len(tied) > 1 else (),
                 confidence=evidence, abstained=plain.abstained,
                 weights={answer: round(weight / total, 4) for answer, weight in weights.items()},
                 rule=rule)
