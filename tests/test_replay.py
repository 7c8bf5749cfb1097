"""Stopping rules replayed on recorded answers (no model); the files they and bench read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from think.bench.replay import Recording, esc_stop, load_recordings, replay
from think.engine.scripted import ScriptedEngine
from think.errors import UsageError
from think.tasks.datasets import load_items

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


def test_a_vote_rule_reports_the_samples_it_needs_for_the_full_majoritys_accuracy() -> None:
    late = Recording("d", "7", ["9", "9", "7", "7", "7"])  # right only from the fifth sample
    score = replay([late, AGREE], "majority", 3)
    assert score.accuracy == 1 and score.samples_to_match == 5
    early = Recording("e", "7", ["7", "9", "9", "7", "7"])  # right at one, wrong at three
    assert replay([early], "majority", 3).samples_to_match == 1


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


def test_logged_votes_replay_from_the_history(run_cli, use_engine) -> None:
    # Three solves whose votes the scripted engine fills with 4, 4, 4, 5, 4, ... answers.
    answers = iter(["4", "4", "5", "4"] * 200)
    use_engine(ScriptedEngine(respond=lambda request, index: f" so. Final answer: {next(answers)}"))
    for question in ("What is 2+2?", "And 1+3?", "Or 3+1?"):
        assert run_cli("solve", question, "-b", "20", "--no-early-stop", "-q").code == 0
    run = run_cli("bench", "replay", "--from-logs", "--rules", "full,beta:0.9", "--json")
    assert run.code == 0, run.stderr
    scores = json.loads(run.stdout)
    assert scores["questions"] == 3 and scores["samples"] >= 8
    full, beta = scores["rules"]
    assert full["mean_samples"] == scores["samples"] and beta["mean_samples"] < full["mean_samples"]
    only = json.loads(run_cli("bench", "replay", "--from-logs", "-q", "1+3", "--json").stdout)
    assert only["questions"] == 1
    neither = run_cli("bench", "replay")
    assert neither.code == 2 and "--from-logs" in neither.stderr
