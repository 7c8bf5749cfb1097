"""Program-aided stages: the model writes programs, the OS sandbox runs them, and their values
are voted on; hostile or broken programs count as no answer and change nothing outside."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import think
from think import sandbox
from think.config import Profile, load_profile
from think.engine.scripted import ScriptedEngine
from think.errors import UsageError
from think.tasks.program import READ_VALUE, VALUE_MARK, as_program, read_value

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="bubblewrap is Linux's")
QUESTION = "A box has 4 rows of 8 eggs. How many eggs are in the box?"


def program_profile(**stage: object) -> Profile:
    data = load_profile("default").model_dump(exclude={"source"})
    data["stages"] = [{"from_budget": 1, "strategy": "program", "max_samples": 1},
                      {"from_budget": 2, "strategy": "program", "temperature": 0.7,
                       "max_samples": 40, **stage}]
    return Profile.model_validate(data)


def solve(engine: ScriptedEngine, budget: int, question: str = QUESTION, **options):
    return think.solve(question, budget=budget, engine=engine, seed=3,
                       profile=options.pop("profile", program_profile()), **options)


def test_code_is_parsed_to_leave_its_value_in_answer_and_never_run_here() -> None:
    assert as_program(" 4 * 8") == "answer = 4 * 8"
    assert as_program("x = 3\nprint(x * 2)") == "x = 3\nanswer = x * 2"
    assert as_program("answer = 5") == "answer = 5"
    deep = ("(" * 1000 + "1" + ")" * 1000, "-" * 3990 + "1", "x" * 5000)
    for nothing in ("", "import os", "4 *", *deep):
        assert as_program(nothing) is None, nothing
    assert read_value(f"noise\n{VALUE_MARK}12.0\n", "math") == "12"
    assert read_value(f"{VALUE_MARK}2.9999999999999996\n", "math") == "3"
    assert read_value(f"{VALUE_MARK}[1, 2]\n", "math") is None  # no single number
    assert read_value("printed 12 but no value line\n", "math") is None


def test_a_greedy_program_answers_budget_1_and_a_vote_of_programs_larger_budgets() -> None:
    assert sandbox.os_sandbox() == "bwrap", "install bubblewrap: these tests run for real"
    one = ScriptedEngine([" 4 * 8\n"])
    result = solve(one, 1)
    request = one.history[0]
    assert result.answer == "32" and result.plan.strategy == "program"
    assert request.n == 1 and request.temperature == 0 and request.prompt.endswith("Python:")
    assert result.samples[0].ran == "passed" and result.samples[0].text.strip() == "4 * 8"

    programs = [" 4 + 8\n", " 4 * 8\n", " 8 * 4\n", " 4 * 8\n", " 32\n"]
    many = ScriptedEngine(respond=lambda request, i: programs[i % len(programs)])
    result = solve(many, 8, early_stop=False)
    assert result.answer == "32" and set(result.vote.counts) == {"12", "32"}
    assert result.vote.counts["32"] > 3 * result.vote.counts["12"] > 0
    assert many.history[0].temperature == 0.7 and result.plan.samples == len(result.samples)


def test_broken_and_runaway_programs_are_no_answer_and_the_rest_still_vote() -> None:
    programs = [" 1 / 0\n", " sum(i for i in range(10 ** 12))\n", " 4 * 8\n", " not python (\n",
                " [4, 8]\n", " 4 * 8\n"]
    engine = ScriptedEngine(respond=lambda request, i: programs[i % len(programs)])
    result = solve(engine, 4, early_stop=False)
    by_text = {s.text.strip(): s for s in result.samples}
    assert by_text["1 / 0"].ran == "failed" and by_text["1 / 0"].answer is None
    assert by_text["sum(i for i in range(10 ** 12))"].ran == "timeout"
    assert by_text["not python ("].ran is None and by_text["not python ("].answer is None
    assert by_text["[4, 8]"].answer is None  # ran, but a list is not a math answer
    assert result.answer == "32" and set(result.vote.counts) == {"32"}


def test_a_hostile_program_stays_in_the_sandbox(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("untouched")
    hostile = (f"open({str(canary)!r}, 'w').write('pwned'); 7")
    engine = ScriptedEngine([f" {hostile}\n"])
    result = solve(engine, 1)
    assert canary.read_text() == "untouched"  # the run saw none of this machine's files
    assert result.samples[0].ran is not None and result.answer != "pwned"


def test_identical_programs_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []
    real = sandbox.run_tests

    def counting(program: str, tests: str, *rest: object):
        runs.append(program)
        assert tests == READ_VALUE
        return real(program, tests, *rest)

    monkeypatch.setattr(sandbox, "run_tests", counting)
    engine = ScriptedEngine(respond=lambda request, i: " 4 * 8\n" if i % 2 else " 8 * 4\n")
    result = solve(engine, 8, early_stop=False)
    assert len(result.samples) > 4 and sorted(runs) == ["answer = 4 * 8", "answer = 8 * 4"]


def test_a_program_stage_is_refused_before_any_model_without_a_sandbox_or_for_code() -> None:
    with pytest.raises(UsageError, match="sandbox none was chosen"):  # not "install bubblewrap"
        solve(ScriptedEngine([" 4 * 8\n"]), 4, sandbox="none")
    with pytest.raises(UsageError, match="not code questions"):
        solve(ScriptedEngine([" 4 * 8\n"]), 4,
              question="Write a Python function add(a, b) that returns a + b.")
    guarded = solve(ScriptedEngine([" 4 * 8\n"]), 1, sandbox="guard")  # opted in: it runs
    assert guarded.answer == "32"


def test_the_plan_buys_programs_with_the_budget() -> None:
    from think.planning.budget import PromptCosts, make_plan

    costs = PromptCosts(direct=100, cot=150, round_overhead=200, program=120)
    profile = program_profile()
    one, four, many = (make_plan(profile, b, costs, 4096) for b in (1, 4, 100))
    assert (one.samples, one.temperature, one.answer_tokens) == (1, 0.0, 48)
    assert four.samples == round((4 * 256 - 120) / 48) and four.temperature == 0.7
    assert many.samples == 40  # max_samples
    assert four.planned_tokens == 120 + four.samples * 48


def test_a_chat_model_writes_a_fenced_program_that_prints_its_answer() -> None:
    reply = "Here is the program.\n```python\nrows = 4\nper_row = 8\nprint(rows * per_row)\n```\n"
    engine = ScriptedEngine([reply], prompt_format="chat")
    result = solve(engine, 1)
    request = engine.history[0]
    assert result.answer == "32" and result.samples[0].ran == "passed"
    assert request.answer_end == "\n```" and "fenced ```python block" in str(request.prompt)


def test_a_program_cannot_forge_its_value_or_hide_a_failure_behind_one() -> None:
    mark = repr(VALUE_MARK)
    programs = [f" print({mark} + '99') or 1 / 0\n",  # a forged value line, then a failure
                f" print({mark} + '99') or 5\n",  # a forged line before its real value
                " type('X', (), {'__str__': lambda self: 1 / 0})()\n",  # its str() fails
                " 'x' * 10 ** 9\n"]  # more than the run's memory
    for program in programs:
        result = solve(ScriptedEngine([program]), 1)
        sample = result.samples[0]
        assert result.answer in (None, "5"), (program, result.answer)
        assert (sample.answer == "5") == ("or 5" in program), program
        assert sample.answer is not None or sample.ran != "passed", program
