"""Stopping rules measured offline: record K samples per question once, then replay rules.

Replaying answers in their recorded order shows, for each rule, how many samples it would
have drawn, how often its answer agrees with the full-K vote, and its accuracy on gold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from think.engine.base import FINISH_CANCELLED, FINISH_LOW, Confidence
from think.errors import UsageError
from think.numbers import decimal_number, whole_number
from think.strategies import vote_rule
from think.strategies.confidence import DEEPCONF, VoteRule, online_threshold, weigh
from think.strategies.vote import settled, tally
from think.tasks.recording import Recording, confidences_of

Rule = Callable[[list[str | None]], bool]  # answers drawn so far -> stop now?
ONLINE = "online"  # DeepConf online: online[:KEEP[:WARMUP]]


@dataclass(frozen=True)
class RuleScore:
    """How one stopping rule did over all recorded questions."""

    rule: str
    mean_samples: float
    agreement: float  # share of questions where the rule's answer equals the full-K vote
    accuracy: float  # share of questions answered right (gold known)
    mean_tokens: float | None = None  # tokens drawn per question (where recorded)
    # A vote rule: the fewest first samples at which it is as accurate as majority@K.
    samples_to_match: int | None = None


def parse_rule(spec: str, min_samples: int) -> Rule:
    """'full', 'beta:THRESHOLD' (Adaptive-Consistency) or 'esc:WINDOW' (ESC); each number
    read whole (`beta:0.9_5` and `beta:nan` are no threshold)."""
    name, _, value = spec.partition(":")
    if name == "full":
        return lambda answers: False
    threshold = decimal_number(value)
    if name == "beta" and threshold is not None:
        return lambda answers: settled(tally(answers), threshold, min_samples)
    window = whole_number(value)
    if name == "esc" and window is not None:
        return lambda answers: esc_stop(answers, window)
    raise UsageError(f"unknown stopping rule '{spec}'", "use full, beta:0.95 or esc:5")


def esc_stop(answers: list[str | None], window: int) -> bool:
    """ESC: after each full window, stop if every answer in that window is the same."""
    if len(answers) < window or len(answers) % window:
        return False
    last = answers[-window:]
    return last[0] is not None and all(answer == last[0] for answer in last)


def replay(recordings: list[Recording], spec: str, min_samples: int) -> RuleScore:
    """Score one rule on recorded answers: a stopping rule, or a vote rule (majority,
    cisc[:T], deepconf[:KEEP]) that counts all K samples its way."""
    name = spec.partition(":")[0]
    if name in vote_rule.names():
        if vote_rule.get(name).asks_model:
            raise UsageError(f"the {name} rule asks the model to choose, so it cannot be "
                             "replayed offline",
                             f"measure it with think bench accuracy and a {name} profile")
        return replay_vote(recordings, spec)
    if spec.partition(":")[0] == ONLINE:
        return replay_online(recordings, spec)
    rule = parse_rule(spec, min_samples)
    used, agree, right, tokens = 0, 0, 0, 0
    for recording in recordings:
        drawn: list[str | None] = []
        for answer in recording.answers:
            drawn.append(answer)
            if rule(drawn):
                break
        used += len(drawn)
        tokens += sum(recording.tokens[:len(drawn)])
        leader = tally(drawn).leader
        agree += leader == tally(recording.answers).leader
        right += leader is not None and leader == recording.gold
    count = max(1, len(recordings))
    return RuleScore(spec, used / count, agree / count, right / count,
                     mean_tokens=tokens / count if mean_tokens(recordings) is not None else None)


def replay_vote(recordings: list[Recording], spec: str) -> RuleScore:
    """Score a vote rule: its answer from all K samples, against the full-K majority."""
    rule = VoteRule.parse(spec)
    if rule.needs_confidence and not all(r.weighable for r in recordings):
        raise UsageError(f"rule '{spec}' needs each sample's confidence, which this recording "
                         "does not hold", "record again with think bench record")
    agree = sum(weigh(r.votes(), rule).leader == tally(r.answers).leader for r in recordings)
    count = max(1, len(recordings))
    used = sum(len(r.answers) for r in recordings) / count
    k = min(len(r.answers) for r in recordings)
    target = accuracy_at(recordings, VoteRule(), k)
    to_match = next((n for n in range(1, k + 1)
                     if accuracy_at(recordings, rule, n) >= target - 1e-9), None)
    return RuleScore(spec, used, agree / count, accuracy_at(recordings, rule, k),
                     mean_tokens=mean_tokens(recordings), samples_to_match=to_match)


def accuracy_at(recordings: list[Recording], rule: VoteRule, k: int) -> float:
    """The share of questions the rule's vote of the first k samples answers right."""
    right = 0
    for recording in recordings:
        leader = weigh(recording.votes(k), rule).leader
        right += leader is not None and leader == recording.gold
    return right / max(1, len(recordings))


def mean_tokens(recordings: list[Recording]) -> float | None:
    """Tokens drawn per question, where every recording holds its samples' tokens."""
    if not all(len(r.tokens) == len(r.answers) for r in recordings):
        return None
    return sum(sum(r.tokens) for r in recordings) / max(1, len(recordings))


def parse_online(spec: str) -> tuple[float, int]:
    """'online[:KEEP[:WARMUP]]': DeepConf online's kept share and warm-up samples."""
    parts = spec.split(":")[1:]
    keep = decimal_number(parts[0]) if parts and parts[0] else 0.9
    warmup = whole_number(parts[1]) if len(parts) > 1 else 8
    if keep is not None and warmup is not None and 0 < keep <= 1 and warmup >= 1 \
            and len(parts) <= 2:
        return keep, warmup
    raise UsageError(f"unknown online rule '{spec}'", "use online:KEEP:WARMUP, as online:0.9:8")


def replay_online(recordings: list[Recording], spec: str) -> RuleScore:
    """DeepConf online on recorded samples: the first WARMUP run whole and set the threshold;
    each later sample stops at its first window-confidence fall below it (Confidence.falls),
    drawing only the tokens up to there, and does not vote. The rest vote weighted by their
    lowest-window confidence, as DeepConf's online vote does."""
    keep, warmup = parse_online(spec)
    if not all(r.weighable and len(r.tokens) == len(r.answers) for r in recordings):
        raise UsageError(f"rule '{spec}' needs each sample's confidence and tokens, which this "
                         "recording does not hold", "record again with think bench record")
    weighted = VoteRule(DEEPCONF, keep=1.0)
    agree, right, tokens = 0, 0, 0
    for recording in recordings:
        confidences = [c for c in recording.confidences if c is not None]
        threshold = online_threshold(confidences[:warmup], keep)
        votes = recording.votes()[:warmup]
        tokens += sum(recording.tokens[:warmup])
        for answer, conf, drawn in list(zip(recording.answers, recording.confidences,
                                            recording.tokens, strict=True))[warmup:]:
            stop = conf.stops_at(threshold) if conf is not None and threshold is not None \
                else None
            tokens += drawn if stop is None else min(stop, drawn)
            if stop is None:
                votes.append((answer, conf))
        leader = weigh(votes, weighted).leader
        agree += leader == tally(recording.answers).leader
        right += leader is not None and leader == recording.gold
    count = max(1, len(recordings))
    used = sum(len(r.answers) for r in recordings) / count
    return RuleScore(spec, used, agree / count, right / count, mean_tokens=tokens / count)


def rewindowed(recordings: list[Recording], window: int) -> list[Recording]:
    """The recordings with each sample's confidence measured over windows of `window`
    tokens, from its recorded per-token trace."""
    if not all(len(r.traces) == len(r.answers) for r in recordings):
        raise UsageError("another window needs each token's confidence, which this recording "
                         "does not hold", "record again with think bench record")
    changed = []
    for recording in recordings:
        confidences = [Confidence.of(trace, [c.logprob] if c else [], window)
                       for trace, c in zip(recording.traces, recording.confidences or
                                           [None] * len(recording.traces), strict=True)]
        changed.append(replace(recording, confidences=confidences))
    return changed


def load_recordings(path: Path) -> list[Recording]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}",
                         "give a file written by 'think bench record'") from None
    try:
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        recordings = [Recording(str(row["id"]), row.get("gold"), list(row["answers"]),
                                confidences_of(row), [int(t) for t in row.get("tokens") or []],
                                [[float(v) for v in trace] for trace in row.get("traces") or []])
                      for row in rows]
    except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        reason = f"a line has no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"{path} is not a recording made by 'think bench record' ({reason})",
                         "record one first") from None
    if not recordings:
        raise UsageError(f"{path} holds no recorded questions", "record some first")
    return recordings


def recordings_from_logs(runs: list[dict[str, Any]], query: str | None = None
                         ) -> list[Recording]:
    """The votes in the history of runs (`think logs`) as recordings: each logged run with
    two or more finished samples, its answers in the order they were drawn, no gold."""
    recordings = []
    for run in reversed(runs):  # oldest first, as they were made
        # Samples a settled vote cancelled, or the online stop cut short, never voted.
        finished = [s for s in run.get("samples") or []
                    if s.get("finish") not in (FINISH_CANCELLED, FINISH_LOW)]
        if len(finished) >= 2:
            recordings.append(Recording(f"run {run['id']}", None,
                                        [s.get("answer") for s in finished],
                                        confidences_of({"confidences": [
                                            s.get("confidence") for s in finished]}),
                                        [int(s.get("tokens") or 0) for s in finished]))
    if not recordings:
        where = f" matching '{query}'" if query else ""
        raise UsageError(f"the history holds no logged votes{where} (runs of 2+ samples)",
                         "solve with a budget that votes (16 or more on the default profile)")
    return recordings


def format_scores(scores: list[RuleScore], questions: int, k: int,
                  full_tokens: float | None = None) -> str:
    """The table `think bench replay` prints; `full_tokens` what all K samples drew."""
    width = max([16, *(len(score.rule) for score in scores)])
    lines = [f"{questions} questions, {k} recorded samples each",
             f"{'rule':<{width}} {'mean samples':>12} {'saved':>6} {'tokens':>8} {'saved':>6} "
             f"{'agrees with full':>16} {'accuracy':>9} {'samples for majority@' + str(k):>24}"]
    for score in scores:
        saved = 1 - score.mean_samples / k if k else 0.0
        tokens = f"{score.mean_tokens:>8.0f}" if score.mean_tokens is not None else f"{'-':>8}"
        tokens_saved = f"{1 - score.mean_tokens / full_tokens:>6.0%}" \
            if score.mean_tokens is not None and full_tokens else f"{'-':>6}"
        match = "-" if score.samples_to_match is None and score.rule.partition(":")[0] \
            not in vote_rule.names() else (str(score.samples_to_match)
                                            if score.samples_to_match else f"more than {k}")
        lines.append(f"{score.rule:<{width}} {score.mean_samples:>12.1f} {saved:>6.0%} {tokens} "
                     f"{tokens_saved} {score.agreement:>16.1%} {score.accuracy:>9.1%} "
                     f"{match:>24}")
    return "\n".join(lines)
