"""Stopping rules measured offline: record K samples per question once, then replay rules.

Replaying answers in their recorded order shows, for each rule, how many samples it would
have drawn, how often its answer agrees with the full-K vote, and its accuracy on gold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from think.errors import UsageError
from think.strategies.vote import settled, tally

Rule = Callable[[list[str | None]], bool]  # answers drawn so far -> stop now?


@dataclass(frozen=True)
class Recording:
    """K recorded answers for one question, in the order they were drawn."""

    id: str
    gold: str | None
    answers: list[str | None]


@dataclass(frozen=True)
class RuleScore:
    """How one stopping rule did over all recorded questions."""

    rule: str
    mean_samples: float
    agreement: float  # share of questions where the rule's answer equals the full-K vote
    accuracy: float  # share of questions answered right (gold known)


def parse_rule(spec: str, min_samples: int) -> Rule:
    """'full', 'beta:THRESHOLD' (Adaptive-Consistency) or 'esc:WINDOW' (ESC)."""
    name, _, value = spec.partition(":")
    try:
        if name == "full":
            return lambda answers: False
        if name == "beta":
            threshold = float(value)
            return lambda answers: settled(tally(answers), threshold, min_samples)
        if name == "esc":
            window = int(value)
            return lambda answers: esc_stop(answers, window)
    except ValueError:
        pass
    raise UsageError(f"unknown stopping rule '{spec}'", "use full, beta:0.95 or esc:5")


def esc_stop(answers: list[str | None], window: int) -> bool:
    """ESC: after each full window, stop if every answer in that window is the same."""
    if len(answers) < window or len(answers) % window:
        return False
    last = answers[-window:]
    return last[0] is not None and all(answer == last[0] for answer in last)


def replay(recordings: list[Recording], spec: str, min_samples: int) -> RuleScore:
    """Score one rule on recorded answers."""
    rule = parse_rule(spec, min_samples)
    used, agree, right = 0, 0, 0
    for recording in recordings:
        drawn: list[str | None] = []
        for answer in recording.answers:
            drawn.append(answer)
            if rule(drawn):
                break
        used += len(drawn)
        leader = tally(drawn).leader
        agree += leader == tally(recording.answers).leader
        right += leader is not None and leader == recording.gold
    count = max(1, len(recordings))
    return RuleScore(spec, used / count, agree / count, right / count)


def load_recordings(path: Path) -> list[Recording]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}",
                         "give a file written by 'think bench record'") from None
    try:
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
        recordings = [Recording(str(row["id"]), row.get("gold"), list(row["answers"]))
                      for row in rows]
    except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        reason = f"a line has no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"{path} is not a recording made by 'think bench record' ({reason})",
                         "record one first") from None
    if not recordings:
        raise UsageError(f"{path} holds no recorded questions", "record some first")
    return recordings


def format_scores(scores: list[RuleScore], questions: int, k: int) -> str:
    lines = [f"{questions} questions, {k} recorded samples each",
             f"{'rule':<12} {'mean samples':>12} {'saved':>6} {'agrees with full':>16} "
             f"{'accuracy':>9}"]
    for score in scores:
        saved = 1 - score.mean_samples / k if k else 0.0
        lines.append(f"{score.rule:<12} {score.mean_samples:>12.1f} {saved:>6.0%} "
                     f"{score.agreement:>16.1%} {score.accuracy:>9.1%}")
    return "\n".join(lines)
