"""Confidence-weighted votes: how a vote counts its samples, chosen by the profile's vote_rule.

- majority: plain counts (vote.tally).
- cisc (Confidence-Informed Self-Consistency): each sample weighs softmax(c / T) over the
  samples, c its mean token confidence; an answer's weight is the sum of its samples'.
- usc (universal self-consistency, strategies/usc): plain counts while sampling, then the
  model is shown the candidates and names the most consistent one; for free-form answers.
- deepconf (DeepConf offline): keep the `keep` share of the samples with the highest
  lowest-window confidence (or tail confidence, over their last window: `deepconf_by`), then
  each kept sample weighs that confidence.

A weighted vote is a Tally whose leader has the most weight; its `confidence`, the evidence
the early-stopping rule reads (vote.settled), is the Beta posterior of plain counts taken on
effective counts: the n voting samples shared out by weight (the leader's n x share against
the runner-up's). Equal weights give plain counts back, so a weighted vote settles exactly as
a counted one would; the leader's bare share (used before) settled three unanimous samples
at once yet never an 8-to-2 split, and on the small arithmetic set its CISC votes drew about
a third more samples for the same accuracy.

DeepConf online (deepconf_warmup in the profile, with any rule): the first `warmup` samples
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
from dataclasses import dataclass

from think.config import Profile
from think.engine.base import CONFIDENCE_WINDOW, Confidence
from think.errors import UsageError
from think.result import Tally
from think.strategies.counting import leader_probability, tally

MAJORITY, CISC, DEEPCONF = "majority", "cisc", "deepconf"
# CISC's softmax temperature over DeepConf token confidences (a few units wide): 0.1 made
# the vote "follow the single most confident sample" and lost to plain counts on the small
# arithmetic set (16 samples: 56.2% against 58.8%), 0.5..1 beat them (65.8..67.5%).
CISC_TEMPERATURE = 1.0
USC = "usc"  # universal self-consistency: the model names the most consistent (strategies/usc)
Vote = tuple[str | None, Confidence | None]  # a sample's answer and its confidence


@dataclass(frozen=True)
class VoteRule:
    """A way of counting a vote: its name and its knobs."""

    name: str = MAJORITY
    keep: float = 0.9  # deepconf: the share of samples kept
    temperature: float = CISC_TEMPERATURE  # cisc: the softmax temperature over confidences
    warmup: int = 0  # DeepConf online: samples drawn whole to set the threshold (0: off)
    window: int = CONFIDENCE_WINDOW  # tokens in a sliding window of confidence
    by: str = "lowest"  # deepconf: rank by the lowest window's confidence, or the tail's

    @property
    def needs_confidence(self) -> bool:
        """Whether the rule reads token log-probabilities (to weigh, or to stop online)."""
        return self.weighs or self.warmup > 0

    @property
    def weighs(self) -> bool:
        return self.name in (CISC, DEEPCONF)

    @property
    def label(self) -> str:
        """The rule as `think bench replay --rules` writes it."""
        if self.name == DEEPCONF:
            return f"{DEEPCONF}:{self.keep:g}" + (":tail" if self.by == "tail" else "")
        return self.name if self.name in (MAJORITY, USC) or self.temperature == CISC_TEMPERATURE \
            else f"{CISC}:{self.temperature:g}"

    @classmethod
    def of(cls, profile: Profile) -> VoteRule:
        """The rule a profile counts its votes by."""
        return cls(profile.vote_rule, keep=profile.deepconf_keep,
                   temperature=profile.cisc_temperature, warmup=profile.deepconf_warmup,
                   window=profile.deepconf_window, by=profile.deepconf_by)

    @classmethod
    def parse(cls, spec: str) -> VoteRule:
        """'majority', 'usc', 'cisc[:TEMPERATURE]' or 'deepconf[:KEEP[:tail]]' (KEEP in
        (0, 1]; tail ranks by the last window's confidence instead of the lowest's)."""
        name, _, value = spec.partition(":")
        value, _, by = value.partition(":")
        try:
            if name in (MAJORITY, USC) and not value and not by:
                return cls(name)
            if name == CISC and not by:
                temperature = float(value) if value else CISC_TEMPERATURE
                if temperature > 0:
                    return cls(CISC, temperature=temperature)
            if name == DEEPCONF:
                keep = float(value) if value else 0.9
                if 0 < keep <= 1 and by in ("", "lowest", "tail"):
                    return cls(DEEPCONF, keep=keep, by=by or "lowest")
        except ValueError:
            pass
        raise UsageError(f"unknown vote rule '{spec}'",
                         "use majority, usc, cisc:1, deepconf:0.9 or deepconf:0.9:tail")


def weigh(votes: Sequence[Vote], rule: VoteRule) -> Tally:
    """The vote of `votes` (in sample order) under `rule`; ties go to the first answer."""
    answers = [answer for answer, _ in votes]
    voting = [(answer, conf) for answer, conf in votes if answer is not None]
    if not rule.weighs or not voting:
        return tally(answers)
    if any(conf is None for _, conf in voting):
        return tally(answers)  # nothing to weigh by: plain counts, which the tally says
    scored: list[tuple[str | None, Confidence]] = [
        (answer, conf) for answer, conf in voting if conf is not None]
    if rule.name == CISC:
        weights = cisc_weights([conf.mean for _, conf in scored], rule.temperature)
        pairs = [(answer, w) for (answer, _), w in zip(scored, weights, strict=True)]
    else:
        pairs = deepconf_kept(scored, rule.keep, rule.by)
    return weighted_tally(answers, pairs, rule.label)


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
