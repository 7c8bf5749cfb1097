"""Odd input that used to end in a traceback or lose a question: each is now one error line
(or an error record in a batch), with nothing the user had overwritten."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.errors import one_error_line

from think import api, paths
from think.batch import run_batch
from think.engine.scripted import ScriptedEngine


@pytest.fixture
def scripted(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=lambda request, index: " so.\nFinal answer: 4")
    use_engine(engine)
    return engine


def strict_json(line: str) -> dict:
    """A line parsed as JSON proper: NaN and Infinity are not JSON."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} in the output")
    return json.loads(line, parse_constant=refuse)


def batch_rows(run_cli, tmp_path: Path, questions: str, *args: str) -> tuple[object, list[dict]]:
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text(questions)
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out), *args)
    rows = [strict_json(line) for line in out.read_text().splitlines()] if out.exists() else []
    return run, rows


def test_a_line_nested_100000_deep_is_an_error_record_and_the_rest_are_answered(
        run_cli, scripted, tmp_path) -> None:
    deep = '{"id": "deep", "question": ' + "[" * 100_000 + "]" * 100_000 + "}"
    run, rows = batch_rows(run_cli, tmp_path, "What is 2+2?\n" + deep + "\nWhat is 1+3?\n")
    assert run.code == 0, run.stderr
    assert [row.get("answer") for row in rows] == ["4", None, "4"]
    assert "line 2 is not valid JSON: nested too deeply" in rows[1]["error"]


def test_nan_and_infinity_in_an_input_line_never_reach_the_output(
        run_cli, scripted, tmp_path) -> None:
    lines = ['{"id": "a", "question": "What is 2+2?", "weight": NaN}',
             '{"id": "b", "question": "What is 1+3?", "weight": -Infinity}',
             '{"id": "c", "question": "What is 3+1?", "weight": 1.5}']
    run, rows = batch_rows(run_cli, tmp_path, "\n".join(lines) + "\n")
    assert run.code == 0, run.stderr
    assert "NaN is not a JSON number" in rows[0]["error"]
    assert "-Infinity is not a JSON number" in rows[1]["error"]
    assert rows[2]["answer"] == "4" and rows[2]["input"] == {"weight": 1.5}


def test_a_json_lines_file_that_is_not_think_output_is_not_appended_to(
        run_cli, scripted, tmp_path) -> None:
    source, out = tmp_path / "q.txt", tmp_path / "precious.jsonl"
    source.write_text("What is 2+2?\n")
    for precious in ('{"name": "precious"}\n', '[1, 2, 3]\n', '{"id": 1, "colour": "blue"}\n'):
        out.write_text(precious)
        run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
        assert run.code == 2 and "is not think's output (line 1" in one_error_line(run.stderr)
        assert out.read_text() == precious


def test_null_and_missing_ids_are_positional_and_other_ids_keep_their_json_type(
        run_cli, scripted, tmp_path) -> None:
    lines = ['{"id": null, "question": "What is 2+2?"}', '{"question": "What is 1+3?"}',
             '{"id": null, "question": "What is 3+1?"}', '{"id": 7, "question": "What is 4?"}',
             '{"id": true, "question": "What is 0+4?"}']
    run, rows = batch_rows(run_cli, tmp_path, "\n".join(lines) + "\n")
    assert run.code == 0, run.stderr
    assert [row["id"] for row in rows] == ["1", "2", "3", 7, "5"]
    assert [row.get("answer") for row in rows] == ["4", "4", "4", "4", None]
    assert "'id' must be a string or a whole number" in rows[4]["error"]


def test_resume_answers_what_failed_or_changed_and_skips_what_was_answered(
        run_cli, scripted, tmp_path) -> None:
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join([
        '{"id": "kept", "question": "What is 2+2?"}',
        '{"id": "failed", "question": "What is 1+3?"}',
        '{"id": "edited", "question": "What is 3+1 now?"}']) + "\n")
    old = [{"id": "kept", "answer": "4", "question": "What is 2+2?", "plan": {}, "input": {}},
           {"id": "failed", "error": "the server is not answering", "question": "What is 1+3?",
            "input": {}},
           {"id": "edited", "answer": "5", "question": "What is 3+1?", "plan": {}, "input": {}}]
    out.write_text("".join(json.dumps(record) + "\n" for record in old))
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    assert 'id "edited" (line 3) was answered for another question' in run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[:3] == old  # what was there stays as it was
    assert [(row["id"], row["answer"]) for row in rows[3:]] == [("failed", "4"), ("edited", "4")]
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 0 and "every question is answered already" in run.stderr


def test_a_question_that_raises_a_bug_becomes_its_error_record() -> None:
    from think.batch import BatchQuestion

    def solve(question: str):
        if "bug" in question:
            raise KeyError("surprise")
        return api.solve(question, budget=1, engine=ScriptedEngine(
            respond=lambda request, index: " 4"))

    class Out(list):
        def write(self, text: str) -> None:
            self.append(text)

        def flush(self) -> None:
            pass

    out = Out()
    items = [BatchQuestion("1", "What is 2+2?", 1), BatchQuestion("2", "a bug?", 2),
             BatchQuestion("3", "What is 4?", 3)]
    tally = run_batch(items, out, solve, lambda record, tally: None)
    rows = [json.loads(line) for line in out]
    assert tally.done == 3 and tally.errors == 1
    assert rows[1]["error"] == "internal error: KeyError: 'surprise'"


@pytest.mark.parametrize("models, problem", [
    ("models:\n  - mine\n", "field 'models' must map names to entries, not be a list"),
    ("models: mine.gguf\n", "field 'models' must map names to entries, not be a str"),
    ("models:\n  mine: {path: x.gguf, colour: blue}\n",
     "field 'models.mine.colour': unknown field; allowed: description, path"),
])
def test_a_user_models_yaml_of_the_wrong_shape_is_one_line(run_cli, models: str,
                                                          problem: str) -> None:
    paths.user_models_file().parent.mkdir(parents=True)
    paths.user_models_file().write_text(models)
    run = run_cli("solve", "What is 2+2?", "--plan")
    assert run.code == 1 and problem in one_error_line(run.stderr)


def test_a_models_yaml_that_is_a_folder_is_not_ignored(run_cli) -> None:
    paths.user_models_file().mkdir(parents=True)
    run = run_cli("models", "list")
    assert run.code == 1 and "models.yaml is a folder" in one_error_line(run.stderr)


def test_think_home_that_is_a_file_is_one_line(run_cli, tmp_path, monkeypatch) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    monkeypatch.setenv("THINK_HOME", str(home))
    run = run_cli("solve", "What is 2+2?", "--plan")
    assert run.code == 2 and "THINK_HOME=" in one_error_line(run.stderr)
    assert home.read_text() == "not a folder"


def test_an_infinite_server_timeout_is_refused_by_profiles_validate(run_cli, tmp_path) -> None:
    data = yaml.safe_load(paths.shipped("profiles/default.yaml").read_text())
    for value in (".inf", ".nan", "1e300"):
        data["engine"] = {"url": "http://127.0.0.1:8080", "timeout_s": float(value.replace(
            ".inf", "inf").replace(".nan", "nan"))}
        profile = tmp_path / "p.yaml"
        profile.write_text(yaml.safe_dump(data))
        run = run_cli("profiles", "validate", str(profile))
        assert run.code == 1 and "field 'engine.timeout_s'" in one_error_line(run.stderr), value


def test_tests_for_a_question_that_is_not_code_are_refused(run_cli, scripted, tmp_path) -> None:
    tests = tmp_path / "t.py"
    tests.write_text("assert add(1, 2) == 3\n")
    run = run_cli("solve", "What is 2+2?", "--tests", str(tests), "-b", "2")
    assert run.code == 2 and "tests were given for a math question" in one_error_line(run.stderr)
    run = run_cli("solve", "Write add(a, b) in Python.", "--task", "code", "--tests", str(tests),
                  "-b", "auto")
    assert run.code == 2 and "--tests works with a fixed budget" in one_error_line(run.stderr)


def test_a_question_argument_that_is_not_utf8_is_one_line(tmp_path) -> None:
    """Bytes as a shell passes them: `think solve $'What is \\xff 2+2?'`."""
    env = {**os.environ, "THINK_HOME": str(tmp_path / "home")}
    run = subprocess.run([sys.executable, "-m", "think", "solve", b"What is \xff 2+2?", "--plan"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2 and "the question is not UTF-8 text" in one_error_line(run.stderr)


def without_read_permission() -> list[str]:
    """A command prefix that runs without the power to read any file (root has it)."""
    if os.geteuid() != 0:
        return []
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's file access"
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.mark.parametrize("through", ["--model", "models.yaml"])
def test_an_unreadable_model_file_is_one_line(tmp_path, models_dir, through: str) -> None:
    model = tmp_path / "locked.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    model.chmod(0)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "models.yaml").write_text(f"models:\n  locked: {{path: {model}}}\n")
    choice = str(model) if through == "--model" else "locked"
    env = {**os.environ, "THINK_HOME": str(home), "THINK_MODELS_DIR": str(models_dir)}
    run = subprocess.run([*without_read_permission(), sys.executable, "-m", "think", "solve",
                          "What is 2+2?", "-b", "1", "-q", "--model", choice],
                         capture_output=True, text=True, env=env, timeout=120)
    line = one_error_line(run.stderr)
    assert run.returncode == 1 and f"cannot read the model file {model}" in line, run.stderr
    assert "Permission denied" in line


@pytest.mark.parametrize("args", [("models", "list"), ("doctor",), ("logs",),
                                  ("profiles", "list"), ("solve", "What is 2+2?", "-b", "1")])
def test_a_think_home_the_user_may_not_read_is_one_line(tmp_path, args) -> None:
    """Another user's THINK_HOME, or one made unreadable: every command names the place and
    the fix instead of an internal error."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "models.yaml").write_text("models: {}\n")
    home.chmod(0)
    try:
        run = subprocess.run([*without_read_permission(), sys.executable, "-m", "think", *args],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "THINK_HOME": str(home)})
    finally:
        home.chmod(0o755)
    line = one_error_line(run.stderr)
    assert run.returncode == 1 and f"permission denied on {home}" in line, run.stderr
    assert "set THINK_HOME to a folder of your own" in line


def test_a_bug_is_one_line_and_thinkdebug_shows_its_traceback(run_cli, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(api, "run", broken)
    run = run_cli("solve", "What is 2+2?", "-b", "2")
    line = one_error_line(run.stderr)
    assert run.code == 1 and "internal error: ZeroDivisionError: division by zero" in line
    monkeypatch.setenv("THINK_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        run_cli("solve", "What is 2+2?", "-b", "2")
