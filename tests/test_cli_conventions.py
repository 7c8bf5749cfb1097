"""The conventions of other command-line tools, as a user meets them: `-h` is `--help`, a
mistyped name gets a suggestion, Python's `None` never shows, and a sandbox that is off says
why it is off."""

from __future__ import annotations

import json

import pytest
import typer
from support.errors import one_error_line

from think import sandbox
from think.engine.scripted import ScriptedEngine
from think.sandbox import bwrap

Q = "Sara has 5 cookies and eats 2. How many are left?"
CODE_Q = "Write a Python function add(a, b) that returns a + b."
CODE_REPLY = " ok.\nFinal answer:\n```python\ndef add(a, b):\n    return a + b\n```"


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of `think`, as the words that name it (the root as ())."""
    import click

    from think.cli import app

    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, child in getattr(command, "commands", {}).items():
            walk(child, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("path", command_paths(), ids=lambda path: " ".join(path) or "think")
def test_dash_h_shows_the_same_help_as_dash_dash_help(run_cli, path) -> None:
    short, long = run_cli(*path, "-h"), run_cli(*path, "--help")
    assert long.code == 0 and "Usage: think" in long.stdout
    assert (short.code, short.stdout, short.stderr) == (0, long.stdout, long.stderr)


@pytest.mark.parametrize("args, expected", [
    (("--model", "gemma3-207m"), "Error: unknown model 'gemma3-207m'; did you mean gemma3-270m?"),
    (("--model", "Gemma3-270M"), "Error: unknown model 'Gemma3-270M'; did you mean gemma3-270m?"),
    (("--profile", "critque"), "Error: unknown profile 'critque'; did you mean critique?"),
])
def test_a_mistyped_name_gets_one_suggestion(run_cli, args, expected) -> None:
    run = run_cli("solve", Q, "--plan", *args)
    assert run.code == 2 and one_error_line(run.stderr) == expected


@pytest.mark.parametrize("args, fix", [
    (("--model", "zzzz"), "see `think models list`"),
    (("--profile", "zzzz"), "see `think profiles list`"),
])
def test_a_name_like_none_known_gets_where_to_look_not_a_list(run_cli, args, fix) -> None:
    line = one_error_line(run_cli("solve", Q, "--plan", *args).stderr)
    assert fix in line
    assert "qwen" not in line and "cpu-laptop" not in line  # no list of every known name


@pytest.fixture
def no_answer(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=lambda request, i: " I cannot tell.")
    use_engine(engine)
    return engine


def test_a_run_with_no_answer_says_so_in_words(run_cli, no_answer) -> None:
    run = run_cli("solve", Q, "-b", "8", "--no-early-stop")
    assert run.code == 1 and run.stdout == ""
    assert "None" not in run.stderr
    assert "think: no answer (" in run.stderr and "(no answer)" in run.stderr  # samples too
    as_json = run_cli("solve", Q, "-b", "2", "--json")
    assert json.loads(as_json.stdout)["answer"] is None  # scripts still get null


def test_a_batch_and_the_logs_with_no_answer_say_so_in_words(run_cli, no_answer) -> None:
    run = run_cli("batch", "-", "-b", "2", stdin=f"{Q}\n".encode())
    assert json.loads(run.stdout)["answer"] is None
    assert "None" not in run.stderr and "id 1: no answer (" in run.stderr
    listed = run_cli("logs")
    assert "(no answer)" in listed.stdout and "None" not in listed.stdout
    run_id = listed.stdout.split()[0]
    shown = run_cli("logs", "show", run_id)
    assert shown.code == 0 and "None" not in shown.stdout
    assert "answer:   (no answer)" in shown.stdout


def test_a_failed_run_in_the_logs_shows_no_none(run_cli, use_engine) -> None:
    from think.errors import ThinkError

    def fail(request, index: int) -> str:
        raise ThinkError("the server stopped answering")

    use_engine(ScriptedEngine(respond=fail))
    assert run_cli("solve", Q, "-b", "2").code == 1
    shown = run_cli("logs", "show", run_cli("logs").stdout.split()[0]).stdout
    assert "ended:    error: the server stopped answering" in shown
    assert "None" not in shown and "answer:   (no answer)" in shown


def test_the_live_summary_and_a_refinement_line_say_no_answer() -> None:
    import io

    from think.events import CritiqueDone, Finished
    from think.planning.budget import Plan
    from think.result import Compute, CritiqueRecord, Result, VoteSummary
    from think.ui.plain import PlainView
    from think.ui.render import critiques, summary
    from think.ui.state import ViewState

    record = CritiqueRecord(1, "it is wrong", "wrong", None)
    stream = io.StringIO()
    PlainView(stream)(CritiqueDone(record))
    assert stream.getvalue() == "think: verdict round 1: wrong -> (no answer)\n"
    plan = Plan(budget=2, strategy="cot", cot_tokens=256, samples=1, refine_rounds=0,
                temperature=0.0, answer_tokens=32, critique_tokens=128, unit_tokens=256,
                planned_tokens=512, early_stop=False)
    state = ViewState(started=0.0)
    state.apply(CritiqueDone(record))
    state.apply(Finished(Result(
        question="q", answer=None, task="math", task_detected=True, budget=2, plan=plan,
        compute=Compute(2, 256, 100, 100, 1.0), model="m", profile="default", seed=1,
        samples=[], vote=VoteSummary({}, None, [], 0.0, 1, 1, False))))
    assert summary(state).plain.startswith("no answer · ")
    shown = [line.plain for line in critiques(state, 80).renderables]
    assert "round 1: wrong → revised answer (no answer)" in shown


def sandbox_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "not run against their tests" in line]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def code_engine(use_engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_said", set())  # each test sees its own first line
    use_engine(ScriptedEngine(respond=lambda request, i: CODE_REPLY))


def solve_code(run_cli, *args: str):
    return run_cli("solve", CODE_Q, "--task", "code", "-b", "1", *args)


def test_sandbox_none_says_it_was_chosen(run_cli, code_engine) -> None:
    line = sandbox_line(solve_code(run_cli, "--sandbox", "none").stderr)
    assert "sandbox none was chosen" in line and "--sandbox auto" in line
    assert "bubblewrap" not in line and "no OS sandbox" not in line


@pytest.fixture
def sandbox_probe(monkeypatch: pytest.MonkeyPatch):
    """Make bwrap's check see this machine as a test says; the real answer comes back after."""
    bwrap.unavailable.cache_clear()
    yield monkeypatch
    bwrap.unavailable.cache_clear()


def test_a_missing_bubblewrap_is_named_with_its_fix(run_cli, code_engine, sandbox_probe) -> None:
    sandbox_probe.setattr("sys.platform", "linux")
    sandbox_probe.setattr("shutil.which", lambda tool, *a, **k: None if tool == "bwrap"
                          else f"/usr/bin/{tool}")
    line = sandbox_line(solve_code(run_cli).stderr)
    assert "bubblewrap is not installed" in line and "install bubblewrap" in line
    doctor = run_cli("doctor").stdout
    assert "None" not in doctor and "bubblewrap is not installed" in doctor


def test_user_namespaces_that_are_off_are_named(run_cli, code_engine, sandbox_probe) -> None:
    import subprocess

    refused = subprocess.CompletedProcess([], 1, b"", b"bwrap: No permissions to create new "
                                          b"namespace, likely because the kernel does not "
                                          b"allow non-privileged user namespaces.\n")
    sandbox_probe.setattr("sys.platform", "linux")
    sandbox_probe.setattr("shutil.which", lambda tool, *a, **k: f"/usr/bin/{tool}")
    sandbox_probe.setattr(bwrap.subprocess, "run", lambda *a, **k: refused)
    line = sandbox_line(solve_code(run_cli).stderr)
    assert "bubblewrap cannot make a sandbox here" in line and "user namespaces" in line
    assert "install bubblewrap" not in line  # it is installed


def test_a_program_stage_with_sandbox_none_says_it_was_chosen(run_cli, code_engine,
                                                              tmp_path) -> None:
    profile = tmp_path / "programs.yaml"
    profile.write_text("stages:\n  - {from_budget: 1, strategy: program, max_samples: 1}\n")
    run = run_cli("solve", Q, "--plan", "-p", str(profile), "--sandbox", "none")
    line = one_error_line(run.stderr)
    assert run.code == 2 and "sandbox none was chosen" in line and "no OS sandbox" not in line
