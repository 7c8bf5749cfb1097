"""Hostile model output read by think's own process: numbers, programs and completions that
would take hours or raise are one sample with no answer, the vote goes on, and Ctrl-C or
SIGTERM still stops think within a second."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.stub_openai import StubHandler, serve

import think
from think import paths, sandbox
from think.config import Profile, load_profile
from think.engine.scripted import ScriptedEngine
from think.strategies.usc import picked
from think.tasks.extract import extract
from think.tasks.numbers import normalize_number
from think.tasks.program import VALUE_MARK, as_program, read_value

QUESTION = "A box has 4 rows of 8 eggs. How many eggs are in the box?"
# Each was one sample's program in a vote it killed or hung (its value is what it prints).
HOSTILE_PROGRAMS = (" '1e-1000000'\n", " '1e5000'\n", " '1e400/3'\n",
                    " " + "+".join(["1"] * 2000) + "\n", " " + ".".join(["a"] * 2000) + "\n")
needs_bwrap = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="bubblewrap is Linux's")


def timed(work, *args):
    start = time.monotonic()
    value = work(*args)
    return value, time.monotonic() - start


def test_hostile_numbers_are_read_at_once_and_huge_ones_are_no_answer() -> None:
    for huge in ("1e-1000000", "1e5000", "9" * 5000, "1e3999/1e-3999", "1e400+1", "1/0",
                 "0." + "0" * 5000 + "1", "1e99999999", "1" * 100_000):
        value, seconds = timed(normalize_number, huge)
        assert value is None and seconds < 0.05, huge[:20]
    # Big but bounded values are still exact answers, and equal ones vote together.
    assert normalize_number("1e400/3") == f"1{'0' * 400}/3"
    assert normalize_number("9" * 400 + ".5") == "1e+400"
    assert normalize_number("2.5e-400") == normalize_number("25e-401") == "2.5e-400"
    for plain, want in (("12.0", "12"), ("1,000", "1000"), ("1/2", "0.5"), ("-3/4", "-0.75"),
                        ("1/3", "1/3"), (".5", "0.5"), ("2.9999999999999996", "3")):
        assert normalize_number(plain) == want


def test_a_program_read_back_with_a_hostile_value_is_no_answer_at_once() -> None:
    for value in ("1e-1000000", "1e5000", "9" * 60_000):
        answer, seconds = timed(read_value, f"{VALUE_MARK}{value}\n", "math")
        assert answer is None and seconds < 0.05


def test_deeply_nested_programs_are_no_program_and_raise_nothing() -> None:
    for code in HOSTILE_PROGRAMS[3:] + ("f" + "()" * 1990, "x = " + "-" * 3000 + "1"):
        program, seconds = timed(as_program, code)
        assert program is None and seconds < 0.5
    nested = "answer = " + "(" * 50 + "1" + ")" * 50  # deep enough to be odd, still a program
    assert as_program(nested) is not None


@pytest.mark.parametrize("task", ["math", "choice", "code", "text", "program"])
def test_extracting_from_a_huge_odd_completion_is_quick(task: str) -> None:
    odd = ["1," * 200_000, "\\boxed{" * 50_000, "```\n" * 50_000, "Final answer: " * 30_000,
           "9" * 300_000 + "/7", "(" * 200_000, "\x1b[2J" * 50_000]
    for text in odd:
        _, seconds = timed(extract, task, text)
        assert seconds < 1.0, (task, text[:12])


def test_a_usc_pick_of_a_5000_digit_number_names_no_candidate() -> None:
    assert picked(" " + "9" * 5000, 4) is None and picked(" 2", 4) == 1


def vote_profile(strategy: str, **stage: object) -> Profile:
    data = load_profile("default").model_dump(exclude={"source"})
    data["stages"] = [{"from_budget": 1, "strategy": strategy, "max_samples": 9, **stage}]
    return Profile.model_validate(data)


@needs_bwrap
def test_a_vote_of_programs_with_every_hostile_value_answers_from_the_others() -> None:
    assert sandbox.os_sandbox() == "bwrap", "install bubblewrap: these tests run for real"
    programs = [*HOSTILE_PROGRAMS, *[" 4 * 8\n"] * 4]
    engine = ScriptedEngine(respond=lambda request, i: programs[i])
    result, seconds = timed(lambda: think.solve(
        QUESTION, budget=8, engine=engine, seed=3, early_stop=False,
        profile=vote_profile("program", temperature=0.7)))
    assert len(result.samples) == 9 and result.answer == "32"
    assert result.vote.counts["32"] == 4
    answers = {s.text.strip()[:8]: s.answer for s in result.samples}
    for hostile in ("'1e-1000", "'1e5000'", "1+1+1+1+", "a.a.a.a."):
        assert answers[hostile] is None  # one sample with no answer, not a lost solve
    assert seconds < 60


def test_a_vote_of_chains_with_hostile_numbers_answers_from_the_others() -> None:
    hostile = ["9" * 400 + ".5", "9" * 4000 + "/7", "9" * 5000, "1," * 50_000,
               "\\boxed{" + "9" * 400 + ".5}"]
    replies = [f" so.\nFinal answer: {text}" for text in hostile] + [" so.\nFinal answer: 3"] * 4
    engine = ScriptedEngine(respond=lambda request, i: replies[i])
    result = think.solve("Sara has 5 cookies and eats 2. How many are left?", budget=20,
                         engine=engine, seed=3, early_stop=False, profile=vote_profile(
                             "vote", cot_tokens=64))
    assert len(result.samples) == 9 and result.answer == "3"
    assert result.vote.counts["3"] == 4


class HostileServer(StubHandler):
    """Choice 0 is a program whose value took hours to read; the others write `4 * 8`
    slowly, so think is mid-run when the signal comes."""

    def post(self) -> None:
        try:
            self.stream(self.read_request())
        except (BrokenPipeError, ConnectionResetError):  # think stopped reading: it was told to
            pass

    def stream(self, request: dict) -> None:
        chat = "messages" in request
        pieces = [[(HOSTILE_PROGRAMS[0].strip(), "stop")]] + \
            [[(" 4", None)] * 40 + [(" * 8", "stop")]] * (request.get("n", 1) - 1)
        for step in range(41):
            for index, choice in enumerate(pieces):
                if step < len(choice):
                    text, finish = choice[step]
                    self.event({"choices": [{"index": index, "finish_reason": finish,
                                             **({"delta": {"content": text}} if chat
                                                else {"text": text})}]})
            self.wfile.flush()
            time.sleep(0.25)
        self.done()


class LoopingServer(StubHandler):
    """Every candidate for a code question loops forever: its tests run to their limit."""

    code = "```python\ndef add(a, b):\n    while True:\n        pass\n```"

    def post(self) -> None:
        try:
            request = self.read_request()
            for index in range(request.get("n", 1)):
                text = {"delta": {"content": self.code}} if "messages" in request \
                    else {"text": self.code}
                self.event({"choices": [{"index": index, "finish_reason": "stop", **text}]})
            self.done()
        except (BrokenPipeError, ConnectionResetError):
            pass


def signalled(server: type[StubHandler], signum: int, *args: str) -> tuple[float, int, str]:
    """Seconds from the signal to think's exit, mid-run on this server; its exit code and
    stderr."""
    httpd, url = serve(server)
    # The stub answers as a base model does (a served model no entry names is taken as chat).
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(f"models:\n  stub: {{base_url: '{url}', format: base}}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "think", "solve", *args, "--engine", url, "--model", "stub",
         "-b", "8", "--no-log"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "100"})
    try:
        deadline = time.monotonic() + 60
        while not httpd.requests and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        time.sleep(2.0)  # the hostile sample is in: its program runs, its value is read
        assert process.poll() is None, process.communicate()
        process.send_signal(signum)
        sent = time.monotonic()
        _, err = process.communicate(timeout=30)
        return time.monotonic() - sent, process.returncode, err.decode()
    finally:
        process.kill()
        httpd.shutdown()


@needs_bwrap
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_think_stops_within_a_second_of_a_signal_mid_vote(tmp_path: Path, signum: int,
                                                          code: int) -> None:
    profile = tmp_path / "programs.yaml"
    profile.write_text(json.dumps(vote_profile("program", temperature=0.7).model_dump(
        mode="json", exclude_none=True)))
    stopped, returned, err = signalled(HostileServer, signum, QUESTION, "--task", "math",
                                       "--profile", str(profile))
    assert stopped < 1.0, f"think took {stopped:.1f} s to stop"
    assert returned == code and "Traceback" not in err


@needs_bwrap
def test_ctrl_c_does_not_wait_for_a_candidate_whose_tests_run_to_their_limit(
        tmp_path: Path) -> None:
    tests = tmp_path / "tests.py"
    tests.write_text("assert add(1, 2) == 3\n")
    stopped, returned, err = signalled(
        LoopingServer, signal.SIGINT, "Write a Python function add(a, b) that returns a + b.",
        "--tests", str(tests))
    assert stopped < 1.0, f"think took {stopped:.1f} s to stop"  # the tests' limit is 5 s
    assert returned == 130 and "Interrupted." in err and "Traceback" not in err
