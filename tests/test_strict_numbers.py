"""Numbers typed on the command line are read whole: `10abc`, `3\\x00`, `1_0` or digits of
another script are no budget, width or temperature, and the refusal shows the value as typed,
escaped where it holds what a terminal cannot show."""

from __future__ import annotations

import pytest
from support.errors import one_error_line

from think import api
from think.bench.replay import parse_online, parse_rule
from think.errors import UsageError
from think.planning.budget import Budget

NOT_NUMBERS = ["10abc", "3\x00", "1_0", "\u0661\u0660", "\uff18", "8 8", "0x10", "", "1e1"]


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_a_budget_is_a_whole_string_of_digits(value: str) -> None:
    with pytest.raises(UsageError) as refused:
        Budget.of(value)
    assert "is not a whole number" in refused.value.message
    assert "\x00" not in refused.value.message  # shown escaped, never raw
    with pytest.raises(UsageError):
        Budget.of(f"auto:{value}")


def test_budgets_that_are_numbers_still_are() -> None:
    assert [Budget.of(v).units for v in ("8", " 8 ", "08", "100", 20)] == [8, 8, 8, 100, 20]
    assert Budget.of("auto:20") == Budget(20, adaptive=True)


def test_a_nul_in_a_budget_is_shown_escaped() -> None:
    with pytest.raises(UsageError) as refused:
        api.prepare_run("What is 2+2?", budget="3\x00")
    assert "budget '3\\x00' is not a whole number" in refused.value.message


@pytest.mark.parametrize("value", ["1_0", "\u0661\u0660", "10abc"])
def test_the_cli_refuses_a_budget_that_is_not_all_digits(run_cli, value: str) -> None:
    for command in (["solve", "What is 2+2?", "--plan"], ["batch", "-"]):
        run = run_cli(*command, "-b", value, stdin=b"What is 2+2?\n")
        assert run.code == 2 and "is not a whole number" in one_error_line(run.stderr), command


@pytest.mark.parametrize("args, problem", [
    (["bench", "accuracy", "gsm8k", "--budgets", "1,1_0"], "is not a whole number"),
    (["bench", "speed", "--widths", "4,\u0668"], "is not a list of whole numbers"),
    (["tune", "--temperatures", "0.7,0_5", "--data", "x.jsonl"], "is not a list of numbers"),
])
def test_number_lists_are_read_whole(run_cli, args: list[str], problem: str) -> None:
    run = run_cli(*args)
    assert run.code == 2 and problem in one_error_line(run.stderr)


@pytest.mark.parametrize("spec", ["beta:0.9_5", "esc:\u0665", "beta:nan", "esc:5x"])
def test_replay_rules_read_their_numbers_whole(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_rule(spec, 3)


@pytest.mark.parametrize("spec", ["online:0.9_0", "online:0.9:\u0668", "online:inf"])
def test_online_rules_read_their_numbers_whole(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_online(spec)
    assert parse_online("online:0.5:4") == (0.5, 4)
