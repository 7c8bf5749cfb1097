"""The history of runs (`think logs`): every solve is logged, listed, searched and shown;
a broken history costs a warning, never the answer; old files migrate; parallel runs all land."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.errors import one_error_line

import think
from think.engine.scripted import ScriptedEngine

Q = "Sara has 5 cookies and eats 2. How many are left?"
Q2 = "Tom has 7 apples and gives away 4. How many remain?"


@pytest.fixture
def scripted(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=lambda request, i: " 5 - 2 = 3.\nFinal answer: 3")
    use_engine(engine)
    return engine


def db_file(home: Path) -> Path:
    return home / "data" / "logs.db"


def listed(run_cli, *args: str) -> list[str]:
    run = run_cli("logs", *args)
    assert run.code == 0, run.stderr
    return run.stdout.splitlines()


def test_solves_are_logged_listed_searched_and_shown(run_cli, scripted, think_home) -> None:
    assert run_cli("solve", Q, "-b", "4", "--seed", "1").stdout == "3\n"
    assert run_cli("solve", Q2, "-b", "auto:20").code == 0
    assert run_cli("logs", "path").stdout.strip() == str(db_file(think_home))

    lines = listed(run_cli)
    assert len(lines) == 2 and lines == listed(run_cli, "list")
    assert "Tom has 7 apples" in lines[0] and "auto:20" in lines[0]  # newest first
    assert "Sara has 5 cookies" in lines[1] and "b4" in lines[1] and "  3  " in lines[1]
    assert listed(run_cli, "-n", "1") == lines[:1]
    assert len(listed(run_cli, "list", "-n", "0")) == 2
    assert listed(run_cli, "-q", "apples") == lines[:1]
    assert listed(run_cli, "list", "--query", "nothing like this") == []

    records = json.loads(run_cli("logs", "--json").stdout)
    first = records[1]
    assert first["question"] == Q and first["answer"] == "3" and first["budget"] == "4"
    assert first["task"] == "math" and first["profile"] == "default"
    assert first["engine"] == "scripted" and first["votes"] == {"3": len(first["samples"])}
    assert {"answer", "tokens", "finish", "thinking_tokens", "closed"} <= set(
        first["samples"][0])
    assert first["plan"]["samples"] >= 1 and first["units_used"] > 0
    assert first["prompt_tokens"] > 0 and first["seconds"] >= 0
    assert first["result"]["answer"] == "3" and first["result"]["seed"] == 1  # all of it

    shown = run_cli("logs", "show", str(first["id"]))
    assert shown.code == 0 and Q in shown.stdout and "answer:   3" in shown.stdout
    assert json.loads(run_cli("logs", "show", str(first["id"]), "--json").stdout) == first
    missing = run_cli("logs", "show", "999")
    assert missing.code == 2 and "no run with id 999" in one_error_line(missing.stderr)


def test_logs_off_stops_logging_on_resumes_and_no_log_skips_one(run_cli, scripted) -> None:
    run_cli("solve", Q, "-b", "2")
    assert run_cli("logs", "off").code == 0
    assert run_cli("solve", Q, "-b", "2").stdout == "3\n"
    think.solve(Q2, budget=2)  # the Python API honours the setting too
    assert len(listed(run_cli)) == 1
    assert run_cli("logs", "on").code == 0
    run_cli("solve", Q, "-b", "2")
    assert run_cli("solve", Q, "-b", "2", "--no-log").stdout == "3\n"
    think.solve(Q2, budget=2, log=False)
    assert len(listed(run_cli)) == 2
    think.solve(Q2, budget=2)
    assert len(listed(run_cli)) == 3 and "Tom has 7" in listed(run_cli)[0]


def test_batch_logs_each_question(run_cli, scripted) -> None:
    lines = "\n".join(json.dumps({"question": q}) for q in (Q, Q2)).encode()
    assert run_cli("batch", "-", "-b", "2", stdin=lines).code == 0
    assert len(listed(run_cli)) == 2


def test_a_file_that_is_not_sqlite_costs_a_warning_not_the_answer(run_cli, scripted,
                                                                   think_home) -> None:
    path = db_file(think_home)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is no database, just words " * 64)
    run = run_cli("solve", Q, "-b", "2")
    assert run.code == 0 and run.stdout == "3\n"
    warnings = [line for line in run.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("think: warning: could not log this run (")
    assert "not a database" in warnings[0]

    listing = run_cli("logs")
    assert listing.code == 1 and listing.stdout == ""
    line = one_error_line(listing.stderr)
    assert str(path) in line and "delete it" in line


def test_an_unwritable_data_folder_costs_a_warning_not_the_answer(run_cli, scripted,
                                                                   think_home) -> None:
    think_home.mkdir(parents=True, exist_ok=True)
    (think_home / "data").write_text("a file where the data folder should be")
    run = run_cli("solve", Q, "-b", "2")
    assert run.code == 0 and run.stdout == "3\n"
    assert run.stderr.count("think: warning: could not log this run") == 1


def test_an_old_version_database_is_migrated(run_cli, scripted, think_home) -> None:
    path = db_file(think_home)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:  # the unversioned prototype: five columns
        db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, time TEXT, question TEXT, "
                   "answer TEXT, model TEXT)")
        db.execute("INSERT INTO runs (time, question, answer, model) VALUES "
                   "('2024-01-02T03:04:05+00:00', 'What is 1+1?', '2', 'old-model')")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0

    assert run_cli("solve", Q, "-b", "2").stdout == "3\n"
    lines = listed(run_cli)
    assert len(lines) == 2 and "What is 1+1?" in lines[1] and "old-model" in lines[1]
    old = json.loads(run_cli("logs", "show", "1", "--json").stdout)
    assert old["answer"] == "2" and old["budget"] is None and old["votes"] is None
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert {"budget", "plan", "votes", "samples", "engine", "result", "status"} <= columns
    assert old["status"] is None and "(" not in lines[1]  # an old run: ended as usual


def test_interrupted_and_failed_runs_are_logged_with_how_they_ended(run_cli, use_engine,
                                                                     think_home) -> None:
    from think.errors import ThinkError

    calls = []

    def interrupt_on_the_second(request, index):
        calls.append(index)
        if len(calls) > 1:
            raise KeyboardInterrupt  # Ctrl-C while the vote is drawn
        return " 5 - 2 = 3.\nFinal answer: 3"

    use_engine(ScriptedEngine(respond=interrupt_on_the_second))
    assert run_cli("solve", Q, "-b", "20", "--no-early-stop").code == 130

    def broken(request, index):
        raise ThinkError("the server at http://127.0.0.1:9 is not answering", "start it")

    use_engine(ScriptedEngine(respond=broken))
    assert run_cli("solve", Q2, "-b", "2").code == 1
    failed, interrupted = json.loads(run_cli("logs", "--json").stdout)
    assert interrupted["question"] == Q and interrupted["status"] == "interrupted"
    assert interrupted["answer"] == "3" and interrupted["budget"] == "20"  # its best so far
    assert failed["question"] == Q2 and failed["answer"] is None
    assert failed["status"] == "error: the server at http://127.0.0.1:9 is not answering"
    lines = listed(run_cli)
    assert "(no answer) (error)" in lines[0] and "3 (interrupted)" in lines[1]
    shown = run_cli("logs", "show", str(interrupted["id"])).stdout
    assert "ended:    interrupted" in shown


@pytest.mark.real
def test_four_parallel_solves_on_the_real_model_are_all_logged(think_home) -> None:
    from think.models import resolve

    resolve()  # assemble the embedded model once, before four processes look for it
    executable = shutil.which("think", path=os.path.dirname(sys.executable))
    assert executable, "the venv's think is installed"
    questions = [f"What is {a} plus {b}?" for a, b in ((2, 3), (4, 4), (6, 1), (9, 5))]
    started = time.monotonic()
    processes = [subprocess.Popen([executable, "solve", q, "-b", "2", "--quiet", "--seed", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "THINK_HOME": str(think_home)})
                 for q in questions]
    outputs = [process.communicate(timeout=120) for process in processes]
    print(f"4 parallel solves: {time.monotonic() - started:.1f} s")
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert "warning" not in err, err
        assert process.returncode in (0, 1), err  # 1: no readable answer, still a run
    with sqlite3.connect(db_file(think_home)) as db:
        logged = sorted(row[0] for row in db.execute("SELECT question FROM runs"))
    assert logged == sorted(questions)
