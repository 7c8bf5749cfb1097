"""Untrusted code: hostile programs are stopped or contained, and a code run still answers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import think
from think.engine.base import SampleRequest
from think.engine.scripted import ScriptedEngine
from think.sandbox import Limits, run_untrusted

FAST = Limits(seconds=2)


def test_a_passing_and_a_failing_program() -> None:
    assert run_untrusted("assert sum([1, 2]) == 3", FAST).status == "passed"
    failed = run_untrusted("assert 1 == 2, 'nope'", FAST)
    assert failed.status == "failed" and "AssertionError: nope" in failed.output


def test_an_infinite_loop_is_stopped_at_the_time_limit() -> None:
    start = time.monotonic()
    result = run_untrusted("while True:\n    pass", FAST)
    assert result.status == "timeout" and time.monotonic() - start < 5


@pytest.mark.parametrize("bomb", [
    "import os\nwhile True:\n    os.fork()",
    "import subprocess\nsubprocess.run(['sh', '-c', ':(){ :|:& };:'])",
    "import multiprocessing\nwhile True:\n    multiprocessing.Process(target=print).start()",
    "import ctypes\nctypes.CDLL(None).fork()",
])
def test_fork_bombs_are_contained(bomb: str) -> None:
    before = len([p for p in os.listdir("/proc") if p.isdigit()])
    result = run_untrusted(bomb, FAST)
    assert result.status in ("blocked", "timeout", "failed")
    after = len([p for p in os.listdir("/proc") if p.isdigit()])
    assert after <= before + 2  # nothing left running


def test_a_huge_allocation_fails_inside_the_limit() -> None:
    result = run_untrusted("data = bytearray(50 * 1024**3)", FAST)
    assert result.status == "memory"


def test_files_outside_its_folder_cannot_be_deleted_or_written(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    for program in (f"import os\nos.remove({str(precious)!r})",
                    f"open({str(precious)!r}, 'w').write('gone')",
                    f"import shutil\nshutil.rmtree({str(tmp_path)!r})",
                    f"import os\nos.rename({str(precious)!r}, 'stolen.txt')"):
        assert run_untrusted(program, FAST).status == "blocked"
    assert precious.read_text() == "keep me"
    inside = run_untrusted("open('scratch.txt', 'w').write('ok')\n"
                           "assert open('scratch.txt').read() == 'ok'", FAST)
    assert inside.status == "passed"


def test_the_callers_environment_stays_secret(monkeypatch) -> None:
    monkeypatch.setenv("THINK_TEST_SECRET", "hunter2")
    leak = run_untrusted("import os\nprint(dict(os.environ))", FAST)
    assert leak.status == "passed" and "hunter2" not in leak.output
    proc = run_untrusted("import os\nprint(open(f'/proc/{os.getppid()}/environ').read())", FAST)
    assert proc.status == "blocked" and "hunter2" not in proc.output


TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
QUESTION = "Write a Python function add(a, b) that returns the sum of a and b."


def code(body: str) -> str:
    return f" easy.\nFinal answer:\n```python\n{body}\n```"


def test_execution_decides_the_vote_and_hostile_candidates_lose(tmp_path: Path) -> None:
    candidates = [
        code("def add(a, b):\n    return a - b"),
        code("def add(a, b):\n    while True:\n        pass"),
        code("import os\ndef add(a, b):\n    os.fork()\n    return a + b"),
        code("def add(a, b):\n    return a + b"),
        code("def add(a, b):\n    return a - b"),
    ]
    engine = ScriptedEngine(respond=lambda request, i: candidates[i % len(candidates)])
    result = think.solve(QUESTION, budget=16, engine=engine, seed=1, task="code", tests=TESTS,
                         early_stop=False)
    statuses = [s.tests for s in result.samples[:5]]
    assert statuses == ["failed", "timeout", "blocked", "passed", "failed"]
    assert result.answer == "def add(a, b):\n    return a + b"
    assert result.tests_source == "given"


def test_without_tests_the_model_writes_them_and_they_are_marked(tmp_path: Path) -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if "Do not solve it" in request.prompt or request.prompt.rstrip().endswith(
                "Tests that a correct solution must pass.\nFinal answer:"):
            return "```python\nassert add(1, 1) == 2\n```"
        return code("def add(a, b):\n    return a + b") if index % 2 else code(
            "def add(a, b):\n    return 0")

    result = think.solve(QUESTION, budget=16, engine=ScriptedEngine(respond=respond), seed=1,
                         task="code", early_stop=False)
    assert result.tests_source == "model-written"
    assert result.answer == "def add(a, b):\n    return a + b"


def test_refinement_critiques_code_with_the_test_output() -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if "Revised solution:" in request.prompt:
            assert "AssertionError" in request.prompt  # the failing test went into the critique
            return code("def add(a, b):\n    return a + b")
        return code("def add(a, b):\n    return a * b")

    result = think.solve(QUESTION, budget=12, engine=ScriptedEngine(respond=respond), seed=1,
                         task="code", tests=TESTS)
    assert result.critiques[0].verdict == "wrong" and "failed" in result.critiques[0].critique
    assert result.critiques[1].verdict == "correct"
    assert result.answer == "def add(a, b):\n    return a + b"
