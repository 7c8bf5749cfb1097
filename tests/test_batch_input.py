"""`think batch` input that used to lose questions or answer nothing in silence: a byte-order
mark, ids that repeat, a copy of the questions file given as --out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.errors import one_error_line
from support.sums import answer_the_sum

from think.engine.scripted import ScriptedEngine

BOM = "\ufeff".encode()


@pytest.fixture
def scripted(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=answer_the_sum)
    use_engine(engine)
    return engine


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


QUESTIONS = [{"id": "a", "question": "What is 2+3?"}, {"id": "b", "question": "What is 4*4?"}]


def test_a_jsonl_file_with_a_byte_order_mark_keeps_its_ids(run_cli, scripted, tmp_path) -> None:
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_bytes(BOM + jsonl(*QUESTIONS).encode())
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    assert [(row["id"], row["answer"]) for row in rows_of(out)] == [("a", "5"), ("b", "16")]


def test_jsonl_on_stdin_with_a_byte_order_mark_keeps_its_ids(run_cli, scripted) -> None:
    run = run_cli("batch", "-", "-b", "2", stdin=BOM + jsonl(*QUESTIONS).encode())
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(row["id"], row["answer"]) for row in rows] == [("a", "5"), ("b", "16")]
    plain = run_cli("batch", "-", "-b", "2", stdin=BOM + b"What is 1+1?\n")
    assert json.loads(plain.stdout)["question"] == "What is 1+1?"


def eleven_lines_with_repeats() -> list[dict]:
    """11 questions, ids x and y each given twice more after their first line."""
    ids = ["x", "y", "c", "x", "d", "e", "y", "f", "g", "x", "h"]
    return [{"id": ident, "question": f"What is {n}+1?"} for n, ident in enumerate(ids, 1)]


def test_repeated_ids_answer_every_unique_id_and_report_each_repeat(
        run_cli, scripted, tmp_path) -> None:
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text(jsonl(*eleven_lines_with_repeats()))
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    rows = rows_of(out)
    assert len(rows) == 11
    answered = [(row["id"], row["answer"]) for row in rows if "answer" in row]
    assert answered == [("x", "2"), ("y", "3"), ("c", "4"), ("d", "6"), ("e", "7"),
                        ("f", "9"), ("g", "10"), ("h", "12")]
    repeats = [row for row in rows if "error" in row]
    assert [(row["id"], row["line"], row["duplicate_of"]) for row in repeats] == [
        ("x", 4, 1), ("y", 7, 2), ("x", 10, 1)]
    assert 'line 4 repeats id "x" of line 1' in repeats[0]["error"]
    assert repeats[0]["question"] == "What is 4+1?"
    assert "3 lines repeat an id" in run.stderr and "4, 7, 10" in run.stderr
    # A rerun answers nothing again and writes no repeat twice.
    again = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert again.code == 0 and "every question is answered already" in again.stderr
    assert len(rows_of(out)) == 11


def test_a_repeat_given_an_id_of_its_own_is_answered_on_the_next_run(
        run_cli, scripted, tmp_path) -> None:
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    lines = [{"id": "x", "question": "What is 1+1?"}, {"id": "x", "question": "What is 2+2?"}]
    source.write_text(jsonl(*lines))
    assert run_cli("batch", str(source), "-b", "2", "--out", str(out)).code == 0
    lines[1]["id"] = "z"
    source.write_text(jsonl(*lines))
    assert run_cli("batch", str(source), "-b", "2", "--out", str(out)).code == 0
    rows = rows_of(out)
    assert [(row["id"], row.get("answer")) for row in rows] == [("x", "2"), ("x", None),
                                                                ("z", "4")]


def test_a_copy_of_the_questions_file_as_out_is_refused_untouched(
        run_cli, scripted, tmp_path) -> None:
    """A questions file with gold answers has ids and answers, as think's records do."""
    source, copy = tmp_path / "q.jsonl", tmp_path / "copy.jsonl"
    text = jsonl({"id": "a", "question": "What is 2+3?", "answer": "5"},
                 {"id": "b", "question": "What is 4*4?", "answer": "16"})
    source.write_text(text)
    copy.write_text(text)
    run = run_cli("batch", str(source), "-b", "2", "--out", str(copy))
    assert run.code == 2 and "is not think's output (line 1" in one_error_line(run.stderr)
    assert copy.read_text() == text


@pytest.mark.parametrize("line", [
    {"id": "a", "error": "down"},  # no input
    {"id": "a", "answer": "5", "input": {}},  # an answer with no plan
    {"id": "a", "error": 3, "input": {}},  # an error that is no message
])
def test_an_out_file_of_lines_shaped_almost_like_records_is_refused(
        run_cli, scripted, tmp_path, line: dict) -> None:
    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_text("What is 1+1?\n")
    out.write_text(jsonl(line))
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 2 and "is not think's output" in one_error_line(run.stderr)
    assert out.read_text() == jsonl(line)


def test_lines_that_cannot_be_questions_cost_only_themselves(run_cli, scripted, tmp_path) -> None:
    """A 3 MB line, a line that is not UTF-8 and one with a NUL byte: each is an error record
    naming its line, and the questions around them are answered."""
    source, out = tmp_path / "q.txt", tmp_path / "out.jsonl"
    source.write_bytes(b"What is 2+2?\n" + b"x" * 3_000_000 + b"\n\xff\xfe bad\n"
                       + b"What\x00 is\n" + b"What is 3+3?\n")
    run = run_cli("batch", str(source), "-b", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    rows = rows_of(out)
    assert [(row["id"], row.get("answer")) for row in rows] == [
        ("1", "4"), ("2", None), ("3", None), ("4", None), ("5", "6")]
    assert "line 2 is 3,000,001 bytes long, over the 1 MiB" in rows[1]["error"]
    assert "line 3 is not UTF-8 text" in rows[2]["error"]
    assert "line 4 holds binary data" in rows[3]["error"]


def test_a_line_far_larger_than_a_question_is_never_held_in_memory() -> None:
    """Reading a 64 MiB line with no break (a binary file given by mistake) holds a few MiB
    at most, so a file larger than memory cannot end in MemoryError."""
    import io
    import tracemalloc

    from think.batch_input import question_lines

    stream = io.BytesIO(b"What is 1+1?\n" + b"y" * (64 << 20) + b"\nWhat is 2+2?")
    tracemalloc.start()
    lines = list(question_lines(stream))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert lines[0] == "What is 1+1?\n" and lines[2] == "What is 2+2?"
    assert "67,108,865 bytes long" in lines[1].problem
    assert peak < 4 << 20, f"{peak:,} bytes held"
