"""Test runs of model-written code: verdicts that cannot be faked, limits, modes, and the
solver voting on test outcomes that arrive from the pool while decoding goes on."""

from __future__ import annotations

import sys
import threading
import time

import pytest

import think
from think import sandbox
from think.engine.base import SampleRequest
from think.engine.scripted import ScriptedEngine
from think.sandbox import Limits, run_tests
from think.strategies.verify import CodeCheck

FAST = Limits(seconds=3)
ADD = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
MODE = "bwrap" if sys.platform.startswith("linux") else "sandbox-exec"


@pytest.fixture(scope="module", autouse=True)
def os_sandbox_here() -> None:
    if sys.platform.startswith("linux") and sandbox.os_sandbox() is None:
        pytest.fail("bubblewrap is missing or cannot make a sandbox here: apt-get install "
                    "bubblewrap (CI must run these tests for real)")
    if not sys.platform.startswith("linux"):
        pytest.skip("the sandbox tests run on Linux")


def status(program: str, tests: str = ADD, mode: str = MODE) -> str:
    return run_tests(program, tests, FAST, mode).status


@pytest.mark.parametrize("mode", [MODE, "guard"])
def test_correct_programs_pass_and_wrong_ones_fail(mode: str) -> None:
    assert status("def add(a, b):\n    return a + b", mode=mode) == "passed"
    failed = run_tests("def add(a, b):\n    return a - b", ADD, FAST, mode)
    assert failed.status == "failed" and "assert add(2, 3) == 5" in failed.output
    assert "AssertionError" in failed.output


@pytest.mark.parametrize("mode", [MODE, "guard"])
def test_benign_programs_are_judged_right(mode: str) -> None:
    demo = "def add(a, b):\n    return a + b\n\nif __name__ == '__main__':\n    exit()\n"
    devnull = ("import os\ndef add(a, b):\n    with open(os.devnull, 'w') as sink:\n"
               "        sink.write('quiet')\n    return a + b\n")
    calls_exit = "def add(a, b):\n    return a + b\nquit  # defined, as in a normal python\n"
    scratch = ("def add(a, b):\n    with open('scratch.txt', 'w') as f:\n        f.write('ok')\n"
               "    return a + b + int(open('scratch.txt').read() == 'no')\n")
    tuple_ok = "def pair(a, b):\n    return (a, b), {a: [b]}, {a, b}, b'x', None\n"
    for program in (demo, devnull, calls_exit, scratch):
        assert status(program, mode=mode) == "passed", program
    assert status(tuple_ok, "assert pair(1, 2) == ((1, 2), {1: [2]}, {1, 2}, b'x', None)\n",
                  mode) == "passed"


@pytest.mark.parametrize("program", [
    "import os\nos._exit(0)",
    "import sys\nsys.exit(0)",
    "exit(0)",
    "import atexit, os\natexit.register(os._exit, 0)\ndef add(a, b):\n    return 0",
    "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    return 0",
    "class Yes:\n    def __eq__(self, other):\n        return True\n"
    "def add(a, b):\n    return Yes()",
    "class Int(int):\n    def __eq__(self, other):\n        return True\n"
    "def add(a, b):\n    return Int(0)",
    "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, os.urandom(32).hex()"
    ".encode())\n    except OSError:\n        pass\ndef add(a, b):\n    return 0",
    "print('All tests pass.')\nimport sys\nsys.stdout.flush()\nimport os\nos._exit(0)",
    "def add(a, b):\n    raise SystemExit(0)",
    "def add(a, b):\n    import os\n    os._exit(0)",
], ids=["os._exit", "sys.exit", "exit", "atexit", "excepthook", "eq-always-true",
        "int-subclass", "fd-spray", "prints-pass", "systemexit-in-call", "os._exit-in-call"])
def test_faked_verdicts_fail(program: str) -> None:
    assert status(program) == "failed"


def test_limits_end_runs_with_their_own_status() -> None:
    start = time.monotonic()
    assert status("while True:\n    pass") == "timeout"
    assert time.monotonic() - start < FAST.seconds + 2
    assert status("data = bytearray(50 * 1024**3)") == "memory"
    flood = run_tests("while True:\n    print('x' * 1000)", ADD, FAST, MODE)
    assert flood.status == "output" and len(flood.output) <= 2000


def test_modes_resolve_and_none_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.resolve("auto") == MODE and sandbox.resolve("guard") == "guard"
    check = CodeCheck(ADD, sandbox="none")
    assert not check.runs and check.run("def add(a, b):\n    return a + b") is None


QUESTION = "Write a Python function add(a, b) that returns the sum of a and b."


def code(body: str) -> str:
    return f" easy.\nFinal answer:\n```python\n{body}\n```"


def test_execution_decides_the_vote_and_hostile_candidates_lose() -> None:
    candidates = [
        code("def add(a, b):\n    return a - b"),
        code("def add(a, b):\n    while True:\n        pass"),
        code("import os\nos._exit(0)"),
        code("def add(a, b):\n    return a + b"),
        code("def add(a, b):\n    return a - b"),
    ]
    engine = ScriptedEngine(respond=lambda request, i: candidates[i % len(candidates)])
    result = think.solve(QUESTION, budget=16, engine=engine, seed=1, task="code", tests=ADD,
                         early_stop=False)
    statuses = [s.tests for s in result.samples[:5]]
    assert statuses == ["failed", "timeout", "failed", "passed", "failed"]
    assert result.answer == "def add(a, b):\n    return a + b"
    assert result.tests_source == "given" and result.to_dict()["sandbox"] == MODE


def test_tests_run_off_the_decode_loop() -> None:
    """The engine's on_done returns at once while a slow candidate's tests run."""
    slow = code("import time\ntime.sleep(1.5)\ndef add(a, b):\n    return a + b")
    stalls: list[float] = []

    class Timed(ScriptedEngine):
        def sample(self, request, on_token=None, on_done=None):  # type: ignore[override]
            def timed(done):  # type: ignore[no-untyped-def]
                start = time.monotonic()
                keep = on_done(done) if on_done else True
                stalls.append(time.monotonic() - start)
                return keep
            return super().sample(request, on_token, timed)

    result = think.solve(QUESTION, budget=16, engine=Timed(respond=lambda r, i: slow), seed=1,
                         task="code", tests=ADD, early_stop=False)
    assert max(stalls) < 0.5  # the decode loop never waited for a program
    assert all(s.tests == "passed" for s in result.samples if s.answer)
    assert result.vote.counts == {"import time\ntime.sleep(1.5)\ndef add(a, b):\n"
                                  "    return a + b": result.vote.drawn}


def test_with_sandbox_none_code_is_voted_on_unrun(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox._said.clear()
    engine = ScriptedEngine(respond=lambda r, i: code("def add(a, b):\n    return a - b"))
    result = think.solve(QUESTION, budget=16, engine=engine, seed=1, task="code", tests=ADD,
                         sandbox="none")
    assert result.answer == "def add(a, b):\n    return a - b"
    assert all(s.tests is None for s in result.samples)
    assert result.to_dict()["sandbox"] == "none"
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    # The reason is the choice, not this machine: bubblewrap is here.
    assert len(lines) == 1 and "sandbox none was chosen" in lines[0]
    assert "--sandbox auto" in lines[0] and "bubblewrap" not in lines[0]


def test_without_tests_the_model_writes_them_and_they_are_marked() -> None:
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
                         profile="critique",
                         task="code", tests=ADD)
    assert result.critiques[0].verdict == "wrong" and "failed" in result.critiques[0].critique
    assert result.critiques[1].verdict == "correct"
    assert result.answer == "def add(a, b):\n    return a + b"


def test_parallel_solves_share_a_bounded_number_of_sandboxes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from think.sandbox import pair, run

    peak, live, lock = [0], [0], threading.Lock()
    real = pair.Pair.run

    def counted(self: pair.Pair, program: str, tests: str) -> sandbox.RunResult:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        try:
            return real(self, program, tests)
        finally:
            with lock:
                live[0] -= 1

    monkeypatch.setattr(pair.Pair, "run", counted)
    check = CodeCheck(ADD)
    threads = [threading.Thread(target=check.run, args=("def add(a, b):\n    return a+b",))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= peak[0] <= run.MAX_RUNS
    spares = sum(len(waiting) for waiting in run._spares.values())
    assert spares <= run.MAX_RUNS  # and the spares waiting for the next runs are bounded too


def test_a_spare_that_died_is_not_used() -> None:
    from think.sandbox import launch, run

    run.discard_spares()
    run.warm(MODE, FAST, 2)
    run.settle()
    for spare in run._spares[(MODE, FAST)]:
        launch.kill(spare.worker)  # as an OOM killer might
    assert status("def add(a, b):\n    return a + b") == "passed"
    run.discard_spares()


def test_the_spare_started_for_the_next_run_lives_until_that_run() -> None:
    # bwrap's --die-with-parent follows the thread that started a sandbox: a spare started
    # on a thread that then ended was killed, and every run paid a cold start.
    from think.sandbox import run

    run.discard_spares()
    assert status("def add(a, b):\n    return a + b") == "passed"
    run.settle()
    time.sleep(0.3)
    spares = run._spares[(MODE, FAST)]
    assert spares and all(pair.alive() for pair in spares)
    run.discard_spares()
