"""`think batch`: order, pass-through, error records, and resume after a SIGKILL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.errors import one_error_line
from support.sums import answer_the_sum

from think.engine.scripted import ScriptedEngine


@pytest.fixture
def scripted(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=answer_the_sum)
    use_engine(engine)
    return engine


def question_and_out_files(tmp_path: Path, questions: str, out_text: str) -> tuple[Path, Path]:
    """A questions file and an --out file that already holds out_text."""
    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_text(questions)
    out.write_text(out_text)
    return source, out


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_in_order_with_pass_through_and_errors(run_cli, scripted, tmp_path) -> None:
    source = tmp_path / "q.jsonl"
    source.write_text("\n".join([
        json.dumps({"id": "a", "question": "What is 2+3?", "answer": "#### 5", "topic": "sum"}),
        "{not json",
        json.dumps({"id": "c", "question": "What is 4*4?", "answer": "17"}),
        json.dumps({"id": "d", "nothing": 1}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(source), "--budget", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    rows = lines_of(out)
    assert [row["id"] for row in rows] == ["a", "2", "c", "d"]
    assert rows[0]["answer"] == "5" and rows[0]["correct"] is True
    assert rows[0]["input"] == {"answer": "#### 5", "topic": "sum"}
    assert rows[0]["plan"]["cot_tokens"] and rows[0]["compute"]["used"] > 0
    assert "not valid JSON" in rows[1]["error"] and "no 'question'" in rows[3]["error"]
    assert rows[2]["correct"] is False
    assert "accuracy 50% of 2" in run.stderr


def test_plain_text_from_stdin_to_stdout(run_cli, scripted) -> None:
    run = run_cli("batch", "-", "-b", "2", stdin=b"What is 1+1?\n\nWhat is 2+2?\n")
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(r["id"], r["answer"]) for r in rows] == [("1", "2"), ("3", "4")]


def test_rerun_skips_answered_ids_and_keeps_a_torn_line(run_cli, scripted, tmp_path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("What is 1+1?\nWhat is 2+2?\nWhat is 3+3?\n")
    out = tmp_path / "out.jsonl"
    first = json.dumps({"id": "1", "answer": "2", "plan": {}, "input": {}})
    out.write_text(first + "\n" + '{"id": "2", "answ')  # killed mid-line
    assert run_cli("batch", str(source), "-b", "2", "--out", str(out), "--resume").code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == first and lines[1] == '{"id": "2", "answ'
    assert [json.loads(line)["id"] for line in lines[2:]] == ["2", "3"]


@pytest.mark.parametrize("content, problem", [
    (b"hello\nworld\n", "is not think's output (line 1"),
    (b"\xff\xfe\x00junk", "it is not UTF-8 text"),
])
def test_an_out_file_that_is_not_think_output_is_refused_untouched(
        run_cli, scripted, tmp_path, content: bytes, problem: str) -> None:
    source = tmp_path / "q.txt"
    source.write_text("What is 1+1?\n")
    out = tmp_path / "notes.txt"
    out.write_bytes(content)
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 2 and problem in one_error_line(run.stderr)
    assert out.read_bytes() == content


def test_out_must_not_be_a_folder_or_the_questions_file(run_cli, scripted, tmp_path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("What is 1+1?\n")
    folder = run_cli("batch", str(source), "-b", "2", "--out", str(tmp_path))
    assert folder.code == 1 and "Is a directory" in one_error_line(folder.stderr)
    same = run_cli("batch", str(source), "-b", "2", "--out", str(source))
    assert same.code == 2 and "--out is the questions file" in one_error_line(same.stderr)
    assert source.read_text() == "What is 1+1?\n"


def test_no_resume_refuses_an_existing_out_file(run_cli, scripted, tmp_path) -> None:
    kept = json.dumps({"id": "1", "answer": "2", "plan": {}, "input": {}}) + "\n"
    source, out = question_and_out_files(tmp_path, "What is 1+1?\nWhat is 2+2?\n", kept)
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out), "--no-resume")
    assert run.code == 2 and "--no-resume" in one_error_line(run.stderr)
    assert out.read_text() == kept
    fresh = tmp_path / "fresh.jsonl"
    assert run_cli("batch", str(source), "-b", "2", "--out", str(fresh), "--no-resume").code == 0
    assert [row["id"] for row in lines_of(fresh)] == ["1", "2"]


def test_a_second_batch_on_the_same_out_file_is_refused(run_cli, scripted, tmp_path) -> None:
    from think.shared_files import try_lock

    kept = json.dumps({"id": "0", "answer": "5", "plan": {}, "input": {}}) + "\n"
    source, out = question_and_out_files(tmp_path, "What is 1+1?\n", kept)
    with out.open("a") as first_batch:  # holds the file as a running batch does
        assert try_lock(first_batch)
        run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
        assert run.code == 1 and "another think batch is writing" in one_error_line(run.stderr)
        assert out.read_text() == kept
    assert run_cli("batch", str(source), "-b", "2", "--out", str(out)).code == 0
    assert [row["id"] for row in lines_of(out)] == ["0", "1"]


def test_nothing_to_answer_says_so_and_succeeds(run_cli, scripted, tmp_path) -> None:
    empty = run_cli("batch", "-", "-b", "2", stdin=b"")
    assert empty.code == 0 and empty.stdout == "" and "no questions" in empty.stderr
    source = tmp_path / "q.txt"
    source.write_text("What is 1+1?\n")
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", str(source), "-b", "2", "--out", str(out)).code == 0
    again = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert again.code == 0 and "answered already" in again.stderr
    assert len(out.read_text().splitlines()) == 1


PROGRESS = re.compile(r"batch: (\d+)/3 id (\S+): answer (\d+) \((\d+\.\d) q/(s|min), "
                      r"\d+ s, ~\d+ s left\)")


def test_each_finished_question_shows_questions_a_second_and_time_left(
        run_cli, scripted, tmp_path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("What is 1+1?\nWhat is 2+2?\nWhat is 3+3?\n")
    run = run_cli("batch", str(source), "-b", "2", "--out", str(tmp_path / "out.jsonl"))
    assert run.code == 0, run.stderr
    shown = [PROGRESS.fullmatch(line) for line in run.stderr.splitlines()]
    assert all(shown), run.stderr
    assert [match.group(1, 2, 3) for match in shown] == [  # type: ignore[union-attr]
        ("1", "1", "2"), ("2", "2", "4"), ("3", "3", "6")]


def test_rates_and_times_read_at_a_glance() -> None:
    from think.ui.batch_progress import duration, rate

    assert (rate(14, 10), rate(3, 60), rate(0, 5)) == ("1.4 q/s", "3.0 q/min", "0.0 q/min")
    assert [duration(s) for s in (0.4, 37, 99.4, 720, 7330)] == [
        "0 s", "37 s", "99 s", "12 min", "2 h 02 min"]


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_quiet_shows_no_progress_only_the_questions_that_failed(
        run_cli, scripted, tmp_path, flag: str) -> None:
    source = tmp_path / "q.jsonl"
    source.write_text(json.dumps({"id": "a", "question": "What is 2+3?"}) + "\n{oops\n"
                      + json.dumps({"id": "c", "question": "What is 4*4?"}) + "\n")
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(source), "-b", "2", flag, "--out", str(out))
    assert run.code == 0, run.stderr
    assert run.stderr.splitlines() == [
        "batch: id 2: error: line 2 is not valid JSON: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1)"]
    assert [row.get("answer") for row in lines_of(out)] == ["5", None, "16"]


@pytest.mark.real
def test_resume_after_sigkill_loses_at_most_the_question_in_flight(tmp_path: Path) -> None:
    source = tmp_path / "q.txt"
    source.write_text("".join(f"What is {n} + {n}?\n" for n in range(1, 9)))
    out = tmp_path / "out.jsonl"
    think = shutil.which("think", path=os.path.dirname(sys.executable)) or "think"
    command = [think, "batch", str(source), "-b", "2", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = out.read_text().splitlines()
    assert 3 <= len(before) < 8
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = out.read_text().splitlines()
    assert after[:len(before)] == before  # nothing rewritten or truncated
    ids = [json.loads(line)["id"] for line in after if line.startswith("{") and
           line.endswith("}")]
    assert ids == [str(n) for n in range(1, 9)]  # each id once, in input order
