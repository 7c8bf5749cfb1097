"""Universal self-consistency as a vote rule: the model is shown the candidates and names the
most consistent one; its request is counted and the budget keeps room for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from think.engine.base import SampleRequest
from think.engine.prompt import prompt_text
from think.engine.scripted import ScriptedEngine
from think.errors import UsageError
from think.strategies.confidence import VoteRule
from think.strategies.usc import CUE, MOST_CANDIDATES, picked

SHIPPED = Path(__file__).parents[1] / "think" / "data" / "profiles" / "default.yaml"
QUESTION = "Name a warm colour."
ANSWERS = ["red", "bright red, like fire", "orange", "blue", "crimson red", "yellow"]


def usc_profile(tmp_path: Path) -> Path:
    profile = tmp_path / "usc.yaml"
    profile.write_text(SHIPPED.read_text() + "vote_rule: usc\nearly_stop:\n  enabled: false\n")
    return profile


class Selector:
    """Samples answer in turn from ANSWERS; the selection names candidate `pick`."""

    def __init__(self, pick: str) -> None:
        self.pick, self.prompts = pick, []

    def __call__(self, request: SampleRequest, index: int) -> str:
        text = prompt_text(request.prompt)
        if CUE in text.splitlines()[-1]:
            self.prompts.append(text)
            return self.pick
        return f" Thinking. Final answer: {ANSWERS[(request.seed + index) % len(ANSWERS)]}\n"


def test_the_model_names_the_most_consistent_candidate(run_cli, use_engine,
                                                       tmp_path: Path) -> None:
    selector = Selector(" 2")
    use_engine(ScriptedEngine(respond=selector))
    run = run_cli("solve", QUESTION, "-b", "16", "-p", str(usc_profile(tmp_path)), "--json",
                  "--task", "text", "--seed", "0")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    # Every candidate is shown, numbered, in drawing order; the second is chosen.
    assert len(selector.prompts) == 1
    shown = selector.prompts[0]
    voters = [s for s in data["samples"] if s["answer"] is not None]
    assert len(voters) > MOST_CANDIDATES  # short samples left budget for top-ups
    for number, sample in enumerate(voters[:MOST_CANDIDATES], 1):
        assert f"\n{number}. {ANSWERS[sample['seed'] % len(ANSWERS)]}\n" in shown
    assert f"\n{MOST_CANDIDATES + 1}. " not in shown  # at most that many are shown
    assert data["vote"]["rule"] == "usc" and data["vote"]["selected"] == voters[1]["index"]
    assert data["answer"] == voters[1]["answer"]
    # The selection is paid for: more tokens than the samples alone, within the plan.
    sampled = sum(s["tokens"] for s in data["samples"])
    assert data["compute"]["generated_tokens"] > sampled
    assert data["compute"]["used"] <= data["plan"]["planned_units"]
    assert "named most consistent (usc)" in run.stderr


def test_a_reply_naming_no_candidate_leaves_the_majority(run_cli, use_engine,
                                                         tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=Selector(" none of them")))
    run = run_cli("solve", QUESTION, "-b", "16", "-p", str(usc_profile(tmp_path)), "--json",
                  "--task", "text")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["vote"]["rule"] == "majority" and data["vote"]["selected"] is None
    assert data["answer"] == data["vote"]["leader"]
    assert "named none of the candidates" in run.stderr


def test_agreeing_samples_need_no_selection(run_cli, use_engine, tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=lambda request, index: " So. Final answer: red\n")
    use_engine(engine)
    run = run_cli("solve", QUESTION, "-b", "16", "-p", str(usc_profile(tmp_path)), "--json",
                  "--task", "text")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["answer"] == "red"
    assert all(CUE not in prompt_text(r.prompt) for r in engine.history)


def test_the_vote_keeps_room_for_the_selection(run_cli, tmp_path: Path) -> None:
    def plan(profile: Path) -> dict:
        run = run_cli("solve", QUESTION, "-b", "16", "--plan", "--json", "-p", str(profile))
        assert run.code == 0, run.stderr
        return json.loads(run.stdout)["plan"]

    plain, usc = plan(SHIPPED), plan(usc_profile(tmp_path))
    # The room goes to the samples' thinking or their number, never to more than the budget.
    assert usc["samples"] * usc["cot_tokens"] < plain["samples"] * plain["cot_tokens"]
    assert abs(usc["planned_tokens"] - plain["planned_tokens"]) <= 16  # the same budget


def test_replies_and_rules() -> None:
    assert picked(" 3", 4) == 2 and picked("Number 1.", 4) == 0
    assert picked(" 5", 4) is None and picked(" none", 4) is None and picked("0", 3) is None
    assert VoteRule.parse("usc").name == "usc" and not VoteRule.parse("usc").needs_confidence
    with pytest.raises(UsageError, match="unknown vote rule"):
        VoteRule.parse("usc:2")


def test_usc_cannot_be_replayed_offline(tmp_path: Path) -> None:
    from think.bench.replay import Recording, replay

    with pytest.raises(UsageError, match="cannot be replayed offline"):
        replay([Recording("a", "1", ["1", "2"])], "usc", 3)


@pytest.mark.real
def test_usc_on_the_embedded_model(tmp_path: Path) -> None:
    """A real vote on a free-form question: the model reads the candidates and names one;
    when it names one, that sample's answer is the answer."""
    import think

    profile = tmp_path / "usc.yaml"
    # No top-ups, so the vote stays at its planned few samples.
    profile.write_text(SHIPPED.read_text() + "vote_rule: usc\ntop_up: false\n"
                       "early_stop:\n  enabled: false\n")
    data = think.solve("Name a colour of the rainbow.", budget=16, profile=str(profile),
                       task="text", seed=1).to_dict()
    voters = [s for s in data["samples"] if s["answer"] is not None]
    assert len({s["answer"] for s in voters}) >= 2  # free-form answers rarely agree
    sampled = sum(s["tokens"] for s in data["samples"])
    assert data["compute"]["generated_tokens"] > sampled  # the selection was asked and paid
    assert data["compute"]["used"] <= data["plan"]["planned_units"]
    if data["vote"]["rule"] == "usc":
        chosen = next(s for s in data["samples"] if s["index"] == data["vote"]["selected"])
        assert data["answer"] == chosen["answer"]
    else:
        assert data["answer"] == data["vote"]["leader"]
