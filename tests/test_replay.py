"""Stopping rules replayed on recorded answers (no model); the files they and bench read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from think.bench.datasets import load_items
from think.bench.replay import Recording, esc_stop, load_recordings, replay
from think.errors import UsageError

AGREE = Recording("a", "3", ["3"] * 10)
SPLIT = Recording("b", "5", ["5", "7", "5", "7", "5", "7", "5", "7", "5", "5"])


def test_full_uses_every_sample() -> None:
    score = replay([AGREE, SPLIT], "full", 3)
    assert score.mean_samples == 10 and score.agreement == 1 and score.accuracy == 1


def test_beta_rule_stops_early_on_agreement_only() -> None:
    score = replay([AGREE], "beta:0.95", 3)
    assert score.mean_samples == 4  # P(Beta(4,1) > 1/2) = 0.9375 at 3, 0.969 at 4
    assert replay([SPLIT], "beta:0.95", 3).mean_samples == 10


def test_esc_rule_checks_whole_windows() -> None:
    assert not esc_stop(["1", "1", "1"], 4)
    assert esc_stop(["1", "1", "1", "1"], 4)
    assert not esc_stop(["1", "2", "1", "1"], 4)
    assert replay([AGREE], "esc:5", 3).mean_samples == 5


def test_agreement_and_accuracy_are_measured_against_the_full_vote_and_gold() -> None:
    early = Recording("c", "7", ["5", "5", "5", "5", "7", "7", "7", "7", "7", "7"])
    score = replay([early], "beta:0.95", 3)
    assert score.mean_samples == 4 and score.agreement == 0 and score.accuracy == 0
    assert replay([early], "full", 3).accuracy == 1


def test_bad_rules_and_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        replay([AGREE], "magic:3", 3)
    bad = tmp_path / "rec.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(UsageError):
        load_recordings(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(UsageError, match="no recorded questions"):
        load_recordings(empty)
    with pytest.raises(UsageError, match="cannot read"):
        load_recordings(tmp_path / "missing.jsonl")
    binary = tmp_path / "rec.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not a recording"):
        load_recordings(binary)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": 1, "gold": "3", "answers": ["3", None]}) + "\n")
    assert load_recordings(good)[0].answers == ["3", None]


def test_an_empty_question_file_is_refused_not_scored(tmp_path: Path) -> None:
    empty = tmp_path / "questions.jsonl"
    empty.write_text("")
    with pytest.raises(UsageError, match="holds no questions"):
        load_items(empty)
