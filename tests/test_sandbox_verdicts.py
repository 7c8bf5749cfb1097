"""Forged or wrong verdicts: a wrong candidate never passes by what it names (dunders, built-ins
the tests use), by an exception that ends a loop early, or by tests that run nothing; a
value too large to carry fails with a clear line. Each program here is wrong, and its tests
are ones a correct program passes.
"""

from __future__ import annotations

import pytest
from test_sandbox_benign import os_sandbox_here  # noqa: F401 - fails without bwrap

import think
from think.engine.scripted import ScriptedEngine
from think.sandbox import Limits, run_tests

LIMITS = Limits(seconds=10)
WRONG = "def add(a, b):\n    return a - b\n"
CORRECT = "def add(a, b):\n    return a + b\n"
# The candidate runs inside the worker, so it can make the worker send the judge any names.
FORGE_NAMES = ("import sys\nm = sys.modules['__main__']\ne = m.encode\n"
               "m.encode = lambda v, k=None: e({**v, '__name__': 'x', '__file__': 'x', "
               "'_private': 1} if type(v) is dict and 'add' in v else v, k)\n")
UNITTEST = ("import unittest\n\nclass TestAdd(unittest.TestCase):\n    def test_add(self):\n"
            "        self.assertEqual(add(2, 3), 5)\n")

NOT_PASSING = {
    "forged-dunder-name-skips-the-main-block": (
        FORGE_NAMES + WRONG, "if __name__ == '__main__':\n    assert add(2, 3) == 5\n"),
    "forged-file-name": (
        FORGE_NAMES + WRONG, "if __file__ == 'tests.py':\n    assert add(2, 3) == 5\n"),
    "shadows-abs": (
        "def half(x):\n    return x\ndef abs(x):\n    return 0\n",
        "assert abs(half(3) - 1.5) < 1e-6\n"),
    "shadows-all": (
        "def double(x):\n    return x\ndef all(xs):\n    return True\n",
        "assert all([double(x) == 2 * x for x in range(1, 4)])\n"),
    "shadows-len": (
        "def three():\n    return []\ndef len(x):\n    return 3\n",
        "assert len(three()) == 3\n"),
    "shadows-str": (
        "def five():\n    return 4\ndef str(x):\n    return '5'\n",
        "assert str(five()) == '5'\n"),
    "shadows-sorted-and-sum": (
        "def order(xs):\n    return xs\ndef sorted(xs):\n    return xs\n"
        "def sum(xs):\n    return 6\n",
        "assert order([3, 1, 2]) == sorted([3, 1, 2]) and sum(order([3, 2, 0])) == 6\n"),
    "stopiteration-cuts-map-short": (
        "def is_even(n):\n    raise StopIteration\n",
        "assert all(map(is_even, [2, 4, 6]))\n"),
    "unittest-main": (WRONG, UNITTEST + "\nunittest.main()\n"),
    "unittest-main-exit-false": (WRONG, UNITTEST + "\nunittest.main(exit=False)\n"),
    "pytest-style-functions": (WRONG, "def test_add():\n    assert add(2, 3) == 5\n"),
    "pytest-parametrize": (
        WRONG, "import pytest\n\n@pytest.mark.parametrize('a, b, want', [(2, 3, 5), (0, 0, 0)])\n"
               "def test_add(a, b, want):\n    assert add(a, b) == want\n"),
    "pytest-class": (WRONG, "class TestAdd:\n    def test_add(self):\n"
                            "        assert add(2, 3) == 5\n"),
}

NO_TESTS_RUN = {
    "unittest-main-with-no-tests": "import unittest\n\nunittest.main(exit=False)\n",
    "unittest-case-with-no-tests": "import unittest\n\nclass T(unittest.TestCase):\n"
                                   "    pass\n\nunittest.main()\n",
    "every-test-skipped": "import unittest\n\nclass T(unittest.TestCase):\n"
                          "    @unittest.skip('later')\n    def test_add(self):\n"
                          "        self.assertEqual(add(2, 3), 5)\n",
    "tests-that-need-fixtures": "def test_add(tmp_path):\n    assert add(2, 3) == 5\n",
    "async-tests": "async def test_add():\n    assert add(2, 3) == 5\n",
}


@pytest.mark.parametrize("name", sorted(NOT_PASSING))
def test_a_wrong_candidate_does_not_pass(name: str) -> None:
    program, tests = NOT_PASSING[name]
    assert run_tests(program, tests, LIMITS, "bwrap").status == "failed"


def test_the_forged_names_are_real_and_harmless_for_a_correct_candidate() -> None:
    tests = ("import candidate\nassert __name__ == '__main__' and __file__ == 'tests.py'\n"
             "assert candidate.__name__ == 'candidate' and not hasattr(candidate, '_private')\n"
             "assert add(2, 3) == 5\n")
    assert run_tests(FORGE_NAMES + CORRECT, tests, LIMITS, "bwrap").passed


def test_built_ins_a_correct_candidate_shadows_keep_their_meaning_in_the_tests() -> None:
    program = ("def abs(x):\n    return 'own'\nclass AssertionError(Exception):\n    pass\n"
               "def print(*args):\n    return None\ndef half(x):\n    return x / 2\n")
    tests = ("import candidate\nassert candidate.abs(1) == 'own' and abs(half(-3) + 1.5) < 1e-9\n"
             "try:\n    assert half(2) == 3\nexcept AssertionError:\n    print('caught')\n")
    result = run_tests(program, tests, LIMITS, "bwrap")
    assert result.passed and "caught" in result.output


@pytest.mark.parametrize("name", sorted(NO_TESTS_RUN))
def test_a_test_file_that_runs_no_test_fails(name: str) -> None:
    result = run_tests(CORRECT, NO_TESTS_RUN[name], LIMITS, "bwrap")
    assert result.status == "failed" and "failed: no tests ran" in result.output


def test_a_yield_test_whose_asserts_never_run_fails() -> None:
    result = run_tests(CORRECT, "def test_add():\n    yield\n    assert add(2, 3) == 5\n",
                       LIMITS, "bwrap")
    assert result.status == "failed" and "yield tests are not supported" in result.output


def test_a_failing_test_is_named_and_counted() -> None:
    tests = UNITTEST + "\n    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n" \
        "\nunittest.main()\n"
    result = run_tests(WRONG, tests, LIMITS, "bwrap")
    assert result.status == "failed"
    assert "FAIL: TestAdd.test_add" in result.output and "AssertionError: -1 != 5" in result.output
    assert "failed: 1 of 2 tests failed" in result.output


@pytest.mark.parametrize("program, tests", [
    ("def big():\n    return 'x' * 40_000_000\n", "assert len(big()) == 40_000_000\n"),
    ("BIG = 'x' * 40_000_000\ndef f():\n    return 1\n", "assert f() == 1\n"),
    ("def size(s):\n    return len(s)\n", "assert size('x' * 40_000_000) == 40_000_000\n"),
], ids=["a-result", "module-level", "a-test-argument"])
def test_a_value_too_large_to_carry_fails_clearly(program: str, tests: str) -> None:
    result = run_tests(program, tests, LIMITS, "bwrap")
    assert result.status == "failed"
    assert "failed: value too large to compare (" in result.output


def test_a_name_forging_candidate_loses_the_vote() -> None:
    # Few words, so that the scripted engine's answer budget (a word a token) holds it all.
    hostile = ("```python\nimport sys\nm=sys.modules['__main__'];e=m.encode\n"
               "m.encode=lambda v,k=None:e({**v,'__name__':'x'}if type(v)is dict else v,k)\n"
               f"{WRONG}```")
    candidates = [hostile, hostile, f"```python\n{CORRECT}```", hostile]
    engine = ScriptedEngine(respond=lambda request, i: f" easy.\nFinal answer:\n"
                            f"{candidates[i % len(candidates)]}")
    result = think.solve("Write a Python function add(a, b) that returns a + b.", budget=8,
                         engine=engine, seed=1, task="code", early_stop=False,
                         tests="if __name__ == '__main__':\n    assert add(2, 3) == 5\n")
    assert result.answer == CORRECT.strip()
