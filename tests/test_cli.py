"""The command line on the scripted engine: stdout holds the answer, errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.errors import one_error_line

from think.engine.base import SampleRequest
from think.engine.scripted import ScriptedEngine

Q = "Sara has 5 cookies and eats 2. How many are left?"


@pytest.fixture
def scripted(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=lambda request, i: " 5 - 2 = 3.\nFinal answer: 3")
    use_engine(engine)
    return engine


def test_stdout_holds_only_the_answer(run_cli, scripted) -> None:
    run = run_cli("solve", Q, "--budget", "4", "--seed", "1")
    assert run.code == 0 and run.stdout == "3\n"
    assert "think: answer 3" in run.stderr
    assert "\x1b" not in run.stderr  # not a terminal: plain lines, no control codes


def test_dumb_terminals_get_plain_lines(run_cli, scripted, monkeypatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    run = run_cli("solve", Q, "--budget", "2")
    assert run.stdout == "3\n" and "\x1b" not in run.stderr and "think: answer" in run.stderr


def test_json_has_every_field(run_cli, scripted) -> None:
    run = run_cli("solve", Q, "--budget", "20", "--json", "--no-early-stop")
    data = json.loads(run.stdout)
    assert data["answer"] == "3" and data["task"] == "math" and data["budget"] == 20
    assert {"cot_tokens", "samples", "refine_rounds", "temperature"} <= set(data["plan"])
    assert len(data["samples"]) == data["plan"]["samples"]
    assert {"text", "answer", "tokens", "finish"} <= set(data["samples"][0])
    assert data["votes"] == {"3": data["plan"]["samples"]}
    assert {"prompt_tokens", "generated_tokens", "seconds", "used", "budget"} <= set(
        data["compute"])
    assert data["model"] and data["profile"] == "default" and data["critiques"] == []


def test_question_from_dash_and_from_a_pipe(run_cli, scripted) -> None:
    assert run_cli("solve", "-", "-b", "2", stdin=Q.encode()).stdout == "3\n"
    assert run_cli("solve", "-b", "2", stdin=Q.encode()).stdout == "3\n"
    assert Q in scripted.history[-1].prompt


def test_quiet_prints_nothing_but_the_answer(run_cli, scripted) -> None:
    run = run_cli("solve", Q, "-b", "2", "--quiet")
    assert run.stdout == "3\n" and run.stderr == ""


@pytest.mark.parametrize("args, stdin, code, words", [
    (("solve", "   "), None, 2, "question is empty"),
    (("solve",), None, 2, "no question given"),
    (("solve", "-"), b"", 2, "question is empty"),
    (("solve", "-"), b"\xff\xfe\x00bad", 2, "not UTF-8"),
    (("solve", Q, "--budget", "0"), None, 2, "1..100"),
    (("solve", Q, "--budget", "101"), None, 2, "1..100"),
    (("solve", Q, "--budget", "lots"), None, 2, "not a whole number"),
    (("solve", Q, "--profile", "nope"), None, 2, "see `think profiles list`"),
    (("solve", Q, "--model", "nope"), None, 2, "see `think models list`"),
    (("solve", Q, "--model", "missing.gguf"), None, 2, "not found"),
    (("solve", Q, "--task", "poetry"), None, 2, "unknown task"),
    (("solve", "word " * 40000, "--plan"), None, 2, "context"),
    (("bench", "speed", "--widths", "0,4"), None, 2, "1 or more"),
    (("bench", "speed", "--widths", "8,255"), None, 2, "goes past 254"),  # llama.cpp's limit
    (("solve", Q, "--max-seconds", "nan"), None, 2, "not a positive time"),
    (("solve", Q, "--max-seconds", "inf", "--plan"), None, 2, "not a positive time"),
    (("solve", Q, "--max-seconds", "5", "--budget", "auto"), None, 2, "fixed budget"),
    (("solve", Q, "--engine", "localhost:8080"), None, 2, "not an http:// or https://"),
    (("solve", Q, "--engine", "http://[::1"), None, 2, "not an http:// or https://"),
    (("solve", Q, "--tests", "."), None, 2, "cannot read tests file .: Is a directory"),
])
def test_bad_input_gets_one_clear_line(run_cli, scripted, args, stdin, code, words) -> None:
    run = run_cli(*args, stdin=stdin)
    assert run.code == code and run.stdout == ""
    assert words in one_error_line(run.stderr)


def test_a_malformed_profile_names_the_file(run_cli, scripted, tmp_path: Path) -> None:
    profile = tmp_path / "bad.yaml"
    profile.write_text("stages: [\n")
    run = run_cli("solve", Q, "--profile", str(profile))
    assert run.code == 1 and str(profile) in one_error_line(run.stderr)
    assert profile.read_text() == "stages: [\n"


def test_a_file_that_is_not_gguf_is_refused(run_cli, tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("not a model")
    run = run_cli("solve", Q, "--model", str(fake))
    assert run.code == 1 and "not a GGUF" in one_error_line(run.stderr)


def test_plan_shows_the_plan_without_loading_a_model(run_cli, use_engine) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("--plan must not load a model")

    use_engine(refuse)
    run = run_cli("solve", Q, "--budget", "20", "--plan", "--json")
    data = json.loads(run.stdout)
    assert run.code == 0 and data["plan"]["strategy"] == "vote"
    assert 15 <= data["planned_units"] <= 25
    text = run_cli("solve", Q, "--budget", "12", "--plan", "-p", "critique").stdout
    assert "refinement" in text and "planned" in text


def test_ctrl_c_prints_the_best_answer_and_exits_130(run_cli, use_engine) -> None:
    def respond(request: SampleRequest, index: int) -> str:
        if index == 2:
            raise KeyboardInterrupt
        return " so.\nFinal answer: 4"

    engine = ScriptedEngine(respond=respond)
    use_engine(engine)
    run = run_cli("solve", Q, "--budget", "20", "--no-early-stop")
    assert run.code == 130 and run.stdout == "4\n" and "Interrupted" in run.stderr
    # With --json, stdout stays one JSON object a script can parse.
    run = run_cli("solve", Q, "--budget", "20", "--no-early-stop", "--json")
    assert run.code == 130 and json.loads(run.stdout) == {"answer": "4", "interrupted": True}


def test_a_run_with_no_readable_answer_exits_1(run_cli, use_engine) -> None:
    engine = ScriptedEngine(respond=lambda request, i: " no idea")
    use_engine(engine)
    run = run_cli("solve", Q, "--budget", "2")
    assert run.code == 1 and "no answer" in run.stderr


def test_help_does_not_import_llama_cpp() -> None:
    code = "import sys; from think import cli; print('llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
