"""Confidence-weighted votes: majority, CISC and DeepConf over (answer, confidence) samples,
the measures a sample's token confidences give, and replaying the rules on recordings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from think.bench.replay import load_recordings, replay
from think.engine.base import Confidence
from think.errors import UsageError
from think.strategies.confidence import VoteRule, weigh
from think.strategies.vote import settled, tally


def conf(value: float, lowest: float | None = None) -> Confidence:
    return Confidence(mean=value, lowest_window=value if lowest is None else lowest,
                      tail=value, logprob=-0.5, tokens=100)


# Three unsure samples say 41, two very sure ones say 42.
SPLIT = [("41", conf(1.0)), ("41", conf(1.1)), ("41", conf(0.9)),
         ("42", conf(3.0)), ("42", conf(3.2))]


def test_majority_counts_plainly() -> None:
    vote = weigh(SPLIT, VoteRule())
    assert vote.leader == "41" and vote.counts == {"41": 3, "42": 2}
    assert vote.rule == "majority" and not vote.weights


def test_cisc_follows_the_confident_minority() -> None:
    vote = weigh(SPLIT, VoteRule.parse("cisc"))
    assert vote.leader == "42"
    assert vote.counts == {"41": 3, "42": 2}  # the counts stay plain counts
    # At the default temperature (1): exp(3) + exp(3.2) against exp(1) + exp(1.1) + exp(0.9).
    assert vote.weights["42"] == pytest.approx(0.845, abs=1e-3) and vote.rule == "cisc"
    # A cold softmax is the single most confident sample; a hot one weighs every sample
    # alike: the majority again.
    assert weigh(SPLIT, VoteRule.parse("cisc:0.1")).weights["42"] > 0.99
    assert weigh(SPLIT, VoteRule.parse("cisc:1000")).leader == "41"


def test_deepconf_keeps_the_most_confident_windows() -> None:
    # By lowest-window confidence the 42s are the weakest: keeping 60% drops them.
    samples = [("41", conf(2.0, 2.0)), ("41", conf(2.0, 1.9)), ("42", conf(5.0, 0.2)),
               ("42", conf(5.0, 0.1)), ("41", conf(2.0, 1.8))]
    vote = weigh(samples, VoteRule.parse("deepconf:0.6"))
    assert vote.leader == "41" and vote.weights == {"41": 1.0} and vote.rule == "deepconf:0.6"
    # Keeping all, the weights are the confidences themselves: 5.7 against 0.3.
    assert weigh(samples, VoteRule.parse("deepconf:1")).weights["41"] == pytest.approx(0.95)


def test_deepconf_can_rank_by_the_tail_instead() -> None:
    # The 42s dip low mid-way but end sure; the 41s stay middling and end unsure.
    def sample(answer: str, lowest: float, tail: float) -> tuple[str, Confidence]:
        return answer, Confidence(mean=2.0, lowest_window=lowest, tail=tail, logprob=-0.5,
                                  tokens=100)

    samples = [sample("41", 1.5, 1.6), sample("41", 1.4, 1.5), sample("42", 0.2, 4.0),
               sample("42", 0.1, 3.9), sample("41", 1.3, 1.4)]
    assert weigh(samples, VoteRule.parse("deepconf:0.4")).leader == "41"
    by_tail = weigh(samples, VoteRule.parse("deepconf:0.4:tail"))
    assert by_tail.leader == "42" and by_tail.rule == "deepconf:0.4:tail"
    assert VoteRule.parse("deepconf:0.4:tail").label == "deepconf:0.4:tail"


def test_weighted_evidence_is_the_beta_posterior_on_effective_counts() -> None:
    vote = weigh(SPLIT, VoteRule.parse("cisc"))
    # 5 voters shared out 0.845 : 0.155 are 4 : 1, and P(Beta(5, 2) > 1/2) = 57/64.
    assert vote.confidence == pytest.approx(57 / 64)
    assert settled(vote, 0.8, 3) and not settled(vote, 0.95, 3)
    assert settled(weigh(SPLIT, VoteRule.parse("cisc:0.1")), 0.95, 3)
    assert not settled(weigh(SPLIT, VoteRule.parse("cisc:1000")), 0.95, 3)


def test_equal_weights_settle_exactly_as_plain_counts() -> None:
    # An 8-to-2 split settles at 0.95 (its leader's bare share, 0.8, never would), and
    # three unanimous samples do not yet (a bare share of 1.0 would at once).
    for answers in (["5"] * 8 + ["6"] * 2, ["5"] * 3, ["5", "6", "5", "5"]):
        votes = [(answer, conf(2.0)) for answer in answers]
        for rule in ("cisc", "deepconf:1"):
            assert weigh(votes, VoteRule.parse(rule)).confidence == pytest.approx(
                tally(answers).confidence)
    split = [(answer, conf(2.0)) for answer in ["5"] * 8 + ["6"] * 2]
    assert settled(weigh(split, VoteRule.parse("cisc")), 0.95, 3)
    assert not settled(weigh(split[:3], VoteRule.parse("cisc")), 0.95, 3)


def test_samples_without_confidence_count_plainly() -> None:
    vote = weigh([("41", None), ("41", None), ("42", conf(9.0))], VoteRule.parse("cisc"))
    assert vote.leader == "41" and vote.rule == "majority"


def test_abstentions_and_ties() -> None:
    vote = weigh([(None, None), ("7", conf(2.0)), ("8", conf(2.0))], VoteRule.parse("cisc"))
    assert vote.leader == "7" and vote.tied == ("7", "8") and vote.abstained == 1


def test_bad_rules_are_refused() -> None:
    for spec in ("cisc:0", "deepconf:1.5", "deepconf:x", "plurality", "deepconf:0.9:middle",
                 "cisc:0.1:tail", "majority:tail"):
        with pytest.raises(UsageError):
            VoteRule.parse(spec)


def test_measures_of_token_confidences() -> None:
    tokens = [3.0] * 100 + [1.0] * 64 + [2.0] * 36
    measured = Confidence.of(tokens, [-0.1] * 200)
    assert measured is not None
    assert measured.lowest_window == 1.0  # the 64 unsure tokens fill one window
    assert measured.tail == pytest.approx((28 * 1.0 + 36 * 2.0) / 64, abs=1e-4)
    assert measured.mean == pytest.approx((300 + 64 + 72) / 200) and measured.logprob == -0.1
    short = Confidence.of([2.0, 4.0], [-1.0, -2.0])
    assert short is not None and short.lowest_window == short.tail == short.mean == 3.0
    assert Confidence.of([], []) is None


def write_recording(path: Path, with_confidence: bool) -> Path:
    rows = [{"id": "q1", "gold": "42", "answers": [a for a, _ in SPLIT],
             "tokens": [100] * 5}]
    if with_confidence:
        rows[0]["confidences"] = [c.__dict__ for _, c in SPLIT]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_replay_scores_vote_rules(tmp_path: Path) -> None:
    recordings = load_recordings(write_recording(tmp_path / "rec.jsonl", True))
    full = replay(recordings, "full", 3)
    cisc = replay(recordings, "cisc", 3)
    assert full.accuracy == 0.0 and cisc.accuracy == 1.0
    assert cisc.agreement == 0.0 and cisc.mean_samples == 5
    assert replay(recordings, "deepconf:0.4", 3).accuracy == 1.0


def test_replay_refuses_confidence_rules_without_confidences(tmp_path: Path) -> None:
    recordings = load_recordings(write_recording(tmp_path / "old.jsonl", False))
    assert replay(recordings, "majority", 3).accuracy == 0.0
    with pytest.raises(UsageError, match="needs each sample's confidence"):
        replay(recordings, "cisc", 3)


def test_a_profile_given_by_path_counts_by_its_own_rule(run_cli, use_engine, tmp_path) -> None:
    from think.engine.scripted import ScriptedEngine

    profile = tmp_path / "weighed.yaml"
    shipped = (Path(__file__).parents[1] / "think" / "data" / "profiles" / "default.yaml")
    profile.write_text(shipped.read_text() + "vote_rule: cisc\n")
    use_engine(ScriptedEngine(respond=lambda request, index: " so. Final answer: 4"))
    run = run_cli("solve", "What is 2+2?", "-b", "20", "-p", str(profile), "--json")
    assert run.code == 0, run.stderr
    # The scripted engine gives no log-probabilities: the cisc rule says so, then counts.
    assert "think: note: the cisc vote needs token log-probabilities" in run.stderr
    assert [note[:43] for note in json.loads(run.stdout)["notes"]] == \
        ["the cisc vote needs token log-probabilities"]
