"""Voting: majority, deterministic reported ties, and the Beta-posterior stopping rule."""

from __future__ import annotations

import pytest

from think.strategies.vote import leader_probability, settled, tally


def test_majority_and_abstentions() -> None:
    result = tally(["3", "5", "3", None, "3"])
    assert result.leader == "3" and result.counts == {"3": 3, "5": 1}
    assert result.abstained == 1 and result.total == 4 and result.tied == ()


def test_ties_go_to_the_first_answer_and_are_reported() -> None:
    result = tally(["7", "9", "9", "7"])
    assert result.leader == "7" and result.tied == ("7", "9")
    assert tally(["9", "7", "7", "9"]).leader == "9"


def test_no_answers_at_all() -> None:
    result = tally([None, None])
    assert result.leader is None and result.abstained == 2


def test_leader_probability_matches_the_beta_posterior() -> None:
    # P(Beta(4, 1) > 1/2) = 1 - 0.5**4; P(Beta(1, 1) > 1/2) = 0.5.
    assert leader_probability(3, 0) == pytest.approx(1 - 0.5**4)
    assert leader_probability(0, 0) == pytest.approx(0.5)
    assert leader_probability(5, 5) == pytest.approx(0.5)
    assert leader_probability(8, 2) > leader_probability(6, 4)


def test_settled_needs_confidence_and_the_minimum() -> None:
    assert not settled(tally(["1", "1", "1"]), 0.95, 3)  # 0.9375 < 0.95
    assert settled(tally(["1", "1", "1", "1"]), 0.95, 3)
    assert not settled(tally(["1", "1", "1", "1"]), 0.95, 5)
    assert not settled(tally(["1", "2", "1", "2", "1"]), 0.95, 3)
