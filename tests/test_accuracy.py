"""`think bench accuracy` and `compare`: the fit, the intervals, the table, real small runs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from support.errors import one_error_line

from think.bench.accuracy import docstring_tests, paired_lines
from think.stats import fit_power_law, paired_difference, wilson
from think.strategies.verify import CodeCheck


def test_alpha_is_recovered_exactly_from_synthetic_points() -> None:
    compute = [1.0, 2.0, 4.0, 8.0, 20.0]
    accuracy = [0.3 * c ** 0.25 for c in compute]
    fit = fit_power_law(compute, accuracy)
    assert fit is not None
    assert fit["alpha"] == pytest.approx(0.25) and fit["a"] == pytest.approx(0.3)
    assert fit["alpha_se"] == pytest.approx(0.0, abs=1e-9)


def test_fit_skips_zero_accuracy_and_needs_two_points() -> None:
    assert fit_power_law([1, 2], [0.0, 0.5]) is None
    two = fit_power_law([1, 2, 4], [0.0, 0.2, 0.4])
    assert two is not None and two["alpha"] == pytest.approx(1.0) and "alpha_se" not in two


def test_points_at_one_compute_are_no_fit() -> None:
    assert fit_power_law([3.0, 3.0, 3.0], [0.2, 0.3, 0.4]) is None


def test_budgets_are_compared_paired_on_the_same_questions() -> None:
    # Budget 16 wins 3 questions budget 2 lost and loses none; 5 questions either way.
    first = [False, False, False, True, True, False, True, False, True, True]
    second = [True, True, True, True, True, False, True, False, True, True]
    mean, low, high = paired_difference(first, second)
    assert mean == pytest.approx(0.3) and low < 0.3 < high and low > 0
    report = {"rows": [{"budget": 2}, {"budget": 16}], "results": [
        {"budget": b, "id": i, "correct": ok}
        for b, answers in ((2, first), (16, second)) for i, ok in enumerate(answers)]}
    assert paired_lines(report) == [
        f"budget 16 vs 2, paired on 10 questions: +30.0% (95% CI {low:+.1%} to {high:+.1%})"]


def test_wilson_interval() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert wilson(0, 0) == (0.0, 0.0)


def test_docstring_examples_become_tests() -> None:
    prompt = 'def add(a, b):\n    """ Sum.\n    >>> add(1, 2)\n    3\n    """\n'
    tests = docstring_tests(prompt)
    assert "add(1, 2)" in tests
    check = CodeCheck(tests, prefix=prompt)
    assert check.run("    return a + b").passed  # type: ignore[union-attr]
    assert not check.run("    return a - b").passed  # type: ignore[union-attr]


def test_compare_two_reports(run_cli, tmp_path: Path) -> None:
    rows = [{"budget": 1, "accuracy": 0.1, "units": 1.0}, {"budget": 4, "accuracy": 0.3,
                                                            "units": 3.9}]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"rows": rows, "fit": {"alpha": 0.8}}))
    b.write_text(json.dumps({"rows": [dict(rows[0], accuracy=0.2)], "fit": None}))
    run = run_cli("bench", "compare", str(a), str(b))
    assert run.code == 0 and "+10.0%" in run.stdout and "alpha = 0.800" in run.stdout
    bad = run_cli("bench", "compare", str(a), str(tmp_path / "missing.json"))
    assert bad.code == 2 and "not a report" in bad.stderr


@pytest.mark.real
def test_accuracy_on_a_small_gsm8k_slice(run_cli, tmp_path: Path) -> None:
    data = tmp_path / "gsm.jsonl"
    data.write_text("\n".join(json.dumps(q) for q in [
        {"question": "Tom has 2 apples and buys 3 more. How many apples?", "answer": "#### 5"},
        {"question": "A pen costs $2. How much do 3 pens cost?", "answer": "... #### 6"},
    ]) + "\n")
    out, plot = tmp_path / "acc.json", tmp_path / "acc.png"
    run = run_cli("bench", "accuracy", str(data), "--budgets", "1,2", "--limit", "2",
                  "--out", str(out), "--plot", str(plot))
    assert run.code == 0, run.stderr
    assert "budget" in run.stdout and "95% CI" in run.stdout and "accuracy vs compute" in run.stdout
    report = json.loads(out.read_text())
    assert [row["budget"] for row in report["rows"]] == [1, 2]
    assert all(row["questions"] == 2 for row in report["rows"])
    assert report["rows"][0]["strategy"] == "direct" and report["rows"][1]["strategy"] == "cot"
    assert len(report["results"]) == 4 and {r["gold"] for r in report["results"]} == {"5", "6"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.real
def test_accuracy_on_humaneval_runs_the_tests(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "he.json"
    run = run_cli("bench", "accuracy", "humaneval", "--budgets", "1", "--limit", "1",
                  "--out", str(out))
    assert run.code == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["rows"][0]["questions"] == 1
    assert report["results"][0]["id"].startswith("HumanEval/")


def test_bad_output_paths_are_refused_before_any_model_loads(run_cli, tmp_path: Path,
                                                              monkeypatch, use_engine) -> None:

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded before the output paths were checked")

    use_engine(no_model)
    data = tmp_path / "gsm.jsonl"
    data.write_text(json.dumps({"question": "1+1?", "answer": "#### 2"}) + "\n")
    recording = tmp_path / "rec.jsonl"
    recording.write_text('{"id": "1", "gold": "2", "answers": ["2"]}\n')
    kept = {path: path.read_bytes() for path in (data, recording)}
    cases = [
        (("accuracy", str(data), "--out", str(tmp_path)), "is a folder"),
        (("accuracy", str(data), "--out", str(data)), "is the input file"),
        (("accuracy", str(data), "--plot", str(data)), "is the input file"),
        (("speed", "--out", str(tmp_path)), "is a folder"),
        (("record", str(data), "--out", str(recording)), "exists"),
        (("record", str(data), "--out", str(data)), "is the input file"),
    ]
    for args, problem in cases:
        run = run_cli("bench", *args)
        assert run.code == 2 and problem in one_error_line(run.stderr), (args, run.stderr)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # not installed
    run = run_cli("bench", "accuracy", str(data), "--plot", str(tmp_path / "c.png"))
    assert run.code == 2 and "pip install 'think[plot]'" in one_error_line(run.stderr)
    assert {path: path.read_bytes() for path in kept} == kept


def test_an_interrupted_accuracy_run_keeps_the_budgets_it_finished(run_cli, use_engine,
                                                                   tmp_path: Path) -> None:
    from think.engine.base import SampleRequest
    from think.engine.scripted import ScriptedEngine

    asked: list[str] = []

    def respond(request: SampleRequest, index: int) -> str:
        asked.append(request.prompt.rsplit("What is ", 1)[1].split("?")[0])
        # Ctrl-C on the second budget's third question; the fourth, solved beside it (the
        # default --parallel) and done first, is no part of the report: the third never
        # finished.
        if asked[-1] == "2 + 3" and asked.count(asked[-1]) == 2:
            time.sleep(0.2)
            raise KeyboardInterrupt
        return " 5\n" if request.answer_cue == "" else " Add.\nFinal answer: 5\n"

    use_engine(ScriptedEngine(respond=respond))
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {n} + {5 - n}?",
                                        "answer": "#### 5"}) + "\n" for n in range(4)))
    out = tmp_path / "acc.json"
    run = run_cli("bench", "accuracy", str(data), "--budgets", "1,2,4", "--limit", "4",
                  "--out", str(out))
    assert run.code == 130  # an interrupted run's status, once what finished is out
    report = json.loads(out.read_text())
    # Budget 1 whole, budget 2 on the two questions it answered, budget 4 never started.
    assert [(row["budget"], row["questions"]) for row in report["rows"]] == [(1, 4), (2, 2)]
    assert report["interrupted"] == "interrupted at budget 2 after 2 of 4 questions"
    assert "interrupted at budget 2 after 2 of 4 questions" in run.stdout
    assert "budget 2 vs 1, paired on 2 questions" in run.stdout


def test_parallel_questions_give_the_report_one_at_a_time_gives(run_cli, use_engine,
                                                                 tmp_path: Path) -> None:
    from think.engine.base import SampleRequest
    from think.engine.scripted import ScriptedEngine

    def respond(request: SampleRequest, index: int) -> str:
        first = int(request.prompt.rsplit("What is ", 1)[1].split(" ")[0])
        time.sleep(0.002 * (8 - first))  # the later questions finish first
        # Question 3 is answered wrong, so the report has something to get out of order.
        answer = 7 if first == 3 else 8
        return f" {answer}\n" if request.answer_cue == "" else f" Add.\nFinal answer: {answer}\n"

    use_engine(ScriptedEngine(respond=respond))
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {n} + {8 - n}?",
                                        "answer": "#### 8"}) + "\n" for n in range(8)))

    def report(parallel: str) -> dict:
        out = tmp_path / f"acc-{parallel}.json"
        run = run_cli("bench", "accuracy", str(data), "--budgets", "1,2,4", "--limit", "8",
                      "--parallel", parallel, "--out", str(out))
        assert run.code == 0, run.stderr
        found = json.loads(out.read_text())
        for item in [*found["rows"], *found["results"]]:
            item.pop("seconds")  # the one thing that may differ
        return found

    one, four = report("1"), report("4")
    assert four["results"] == one["results"] and four["rows"] == one["rows"]
    assert [item["id"] for item in one["results"]][:8] == [
        item["id"] for item in one["results"]][8:16]
    assert [item["correct"] for item in four["results"]][:8] == [True] * 3 + [False] + [True] * 4
