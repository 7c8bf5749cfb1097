"""Correct programs with ordinary test files must pass, whatever values they pass back and
forth (big ints, deep or self-referencing data, long results, stdlib value types) and however
their tests are written (asserts, unittest, pytest style); a value the wire cannot carry
is a clear failure, not a silent one. numpy arrays stay a documented limit: the sandbox has
no third-party packages.
"""

from __future__ import annotations

import sys

import pytest

from think import sandbox
from think.sandbox import Limits, run_tests

LIMITS = Limits(seconds=10)
ADD = "def add(a, b):\n    return a + b\n"
UNITTEST_CASE = ("import unittest\n\nclass TestAdd(unittest.TestCase):\n"
                 "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n"
                 "    def test_negative(self):\n        self.assertEqual(add(-1, 1), 0)\n")

BENIGN = {
    "module-level-int-over-4300-digits": (
        "BIG = 10 ** 5000\ndef mod7():\n    return BIG % 7\n",
        "assert mod7() == pow(10, 5000, 7)\nassert BIG == 10 ** 5000\n"),
    "returns-an-int-over-4300-digits": (
        "def fact(n):\n    out = 1\n    for i in range(2, n + 1):\n        out *= i\n"
        "    return out\n",
        "import math\nassert fact(2000) == math.factorial(2000)\n"),
    "big-int-test-arguments": (
        "def mod7(n):\n    return n % 7\n",
        "assert mod7(10 ** 5000) == pow(10, 5000, 7)\nassert mod7(-(2 ** 20000)) == "
        "-(2 ** 20000) % 7\n"),
    "returns-nesting-deeper-than-100": (
        "def nest(n):\n    x = []\n    for _ in range(n):\n        x = [x]\n    return x\n",
        "want = []\nfor _ in range(500):\n    want = [want]\nassert nest(500) == want\n"),
    "module-level-nesting-deeper-than-100": (
        "TREE = ()\nfor _ in range(300):\n    TREE = (TREE,)\n"
        "def depth(t):\n    return 0 if t == () else 1 + depth(t[0])\n",
        "assert depth(TREE) == 300\n"),
    "module-level-self-referencing-list": (
        "LOOP = [1]\nLOOP.append(LOOP)\ndef first():\n    return LOOP[0]\n",
        "assert first() == 1\nassert LOOP[1] is LOOP\n"),
    "returns-a-self-referencing-structure": (
        "def ring():\n    node = {'value': 0}\n    node['next'] = node\n    return node\n",
        "r = ring()\nassert r['value'] == 0 and r['next'] is r\n"),
    "returns-a-message-over-8-mib": (
        "def squares(n):\n    return [i * i for i in range(n)]\n",
        "got = squares(1_000_000)\nassert len(got) == 1_000_000 and got[-1] == 999_999 ** 2\n"),
    "module-level-table-over-8-mib": (
        "TABLE = list(range(2_000_000))\ndef lookup(i):\n    return TABLE[i]\n",
        "assert lookup(1_999_999) == 1_999_999\n"),
    "unittest-main-at-the-bottom": (ADD, UNITTEST_CASE + "\nunittest.main()\n"),
    "unittest-main-under-a-main-guard": (
        ADD, UNITTEST_CASE + "\nif __name__ == '__main__':\n    unittest.main()\n"),
    "unittest-main-exit-false": (ADD, UNITTEST_CASE + "\nunittest.main(exit=False)\n"),
    "pytest-style-functions": (
        ADD, "def test_add():\n    assert add(2, 3) == 5\n\ndef test_zero():\n"
             "    assert add(0, 0) == 0\n"),
    "pytest-style-class-and-raises": (
        "def div(a, b):\n    if b == 0:\n        raise ValueError('b is 0')\n    return a / b\n",
        "import pytest\n\nclass TestDiv:\n    def test_half(self):\n"
        "        assert div(1, 2) == pytest.approx(0.5)\n\n    def test_zero(self):\n"
        "        with pytest.raises(ValueError, match='is 0'):\n            div(1, 0)\n"),
    "module-shadows-a-builtin-the-tests-use": (
        "max = 10\ndef clamp(x):\n    return min(x, max)\n",
        "assert max(clamp(12), clamp(3)) == 10\nassert len([clamp(1)]) == 1\n"),
    "returns-a-counter": (
        "from collections import Counter\ndef tally(s):\n    return Counter(s)\n",
        "assert tally('aab') == {'a': 2, 'b': 1}\nassert tally('aab').most_common(1) == "
        "[('a', 2)]\n"),
    "returns-a-fraction-and-a-namedtuple": (
        "from collections import namedtuple\nfrom fractions import Fraction\n"
        "Point = namedtuple('Point', 'x y')\ndef half():\n    return Fraction(1, 2)\n"
        "def origin():\n    return Point(0, 0)\n",
        "assert half() == 0.5 and half().denominator == 2\n"
        "assert origin() == (0, 0) and origin().x == 0\n"),
}


@pytest.fixture(scope="module", autouse=True)
def os_sandbox_here() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the sandbox tests run on Linux")
    if sandbox.os_sandbox() != "bwrap":
        pytest.fail("bubblewrap is missing or cannot make a sandbox here: apt-get install "
                    "bubblewrap")


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_a_correct_program_passes(name: str) -> None:
    program, tests = BENIGN[name]
    result = run_tests(program, tests, LIMITS, "bwrap")
    assert result.status == "passed", result.output


def test_the_benign_suite_covers_the_wire_and_the_test_styles() -> None:
    assert len(BENIGN) >= 17
