"""`think bench speed`'s lookup rows: one sequence decoding with lookup drafts and without, on a
refine round revising a 300-token solution and on a chain of thought for a GSM8K question.

Each row runs both ways with the same seed, alternated (and the order swapped each round) so a
busy moment lands on both; the fastest round of each is kept. Greedy rows also say whether
both wrote the same tokens, since drafts change only how many tokens a step yields.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from think.engine.base import SampleRequest
from think.tasks.prompts import Prompts

# A GSM8K test question (MIT licence) whose reference solution runs to about 300 tokens on
# Gemma 3, with its last sum made wrong, and a critique that says so: the refine round
# revises that solution.
QUESTION = ("A company's HR hires 20 new employees every month to add to its total workforce. "
            "If the company's initial employee number is 200, and each employee is paid a $4000 "
            "salary per month, calculate the total amount of money the company pays for the "
            "employees after three months?")
SOLUTION = """\
If each month the company hire 20 new employees, the total number of employees in the company \
in the first month is 200 employees + 20 employees = 220 employees
If each employee is paid $4000 per month, the total amount of money paid by the employee to its \
workers in the first month is 220 employees * $4000/employee = $880000
In the second month, 20 more workers are hired, bringing the total number of employees to 220 \
employees + 20 employees = 240 employees
The company pays a total of 240 employees * $4000/employee = $960000 in wages for its employees \
in the second month.
When an additional 20 workers are hired in the third month, the total number of workers become \
240 employees + 20 employees = 260 employees
In total, the company 260 employees * $4000/employee = $1040000 in wages on the third month.
The total amount of money the company pays to all its employees in the three months is \
$1040000 + $960000 + $880000 = 2980000
Final answer: 2980000"""
CRITIQUE = (" The steps are right until the last sum: $1040000 + $960000 + $880000 is 2880000, "
            "not 2980000.\nVerdict: wrong")

# One chain, refined or not, is drawn greedily; 0.7 is what a stage set to sample would use.
TEMPERATURES = (0.0, 0.7)


@dataclass
class LookupRow:
    """One stage at one temperature, without drafts and with them."""

    stage: str
    temperature: float
    tokens: int
    off_seconds: float
    on_seconds: float
    drafted: int
    accepted: int
    same_tokens: bool | None  # greedy rows: both ways wrote the same text

    @property
    def ratio(self) -> float:
        return self.off_seconds / self.on_seconds

    @property
    def acceptance(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "off_tps": round(self.tokens / self.off_seconds, 2),
                "on_tps": round(self.tokens / self.on_seconds, 2),
                "ratio": round(self.ratio, 3), "acceptance": round(self.acceptance, 3)}


def time_lookup(engine: Any, tokens: int, repeats: int) -> list[LookupRow]:
    """Both stages at both temperatures, lookup off against on, on one loaded engine."""
    prompts = Prompts(engine, QUESTION, "math")
    stages = {"refine": prompts.revise(SOLUTION, CRITIQUE), "cot": prompts.cot()}
    base = engine.load
    rows = []
    try:
        for stage, prompt in stages.items():
            engine.sample(SampleRequest(prompt=prompt, max_tokens=1))  # the prompt, held
            for temperature in TEMPERATURES:
                request = SampleRequest(prompt=prompt, max_tokens=tokens,
                                        temperature=temperature, seed=0, ignore_eos=True)
                runs: dict[str, list[tuple[float, Any]]] = {"off": [], "on": []}
                for round_no in range(repeats):
                    modes = ("off", "on") if round_no % 2 == 0 else ("on", "off")
                    for mode in modes:
                        engine.load = base.model_copy(update={"lookup": mode})
                        start = time.perf_counter()
                        result = engine.sample(request)
                        runs[mode].append((time.perf_counter() - start, result))
                off, on = (min(runs[mode], key=lambda run: run[0]) for mode in ("off", "on"))
                same = on[1].completions[0].text == off[1].completions[0].text \
                    if temperature == 0 else None
                rows.append(LookupRow(stage, temperature, tokens, off[0], on[0],
                                      on[1].drafted_tokens, on[1].accepted_tokens, same))
    finally:
        engine.load = base
    return rows


def format_lookup(rows: list[LookupRow]) -> list[str]:
    """The lookup lines of the speed table."""
    if not rows:
        return []
    lines = [f"lookup decoding, one sequence of {rows[0].tokens} tokens, off against on:",
             f"{'stage':>6}  {'temp':>4}  {'off tok/s':>9}  {'on tok/s':>8}  {'on/off':>6}  "
             f"{'drafted':>7}  {'drawn':>5}  {'same tokens':>11}"]
    for row in rows:
        same = "-" if row.same_tokens is None else "yes" if row.same_tokens else "no"
        lines.append(f"{row.stage:>6}  {row.temperature:>4.1f}  "
                     f"{row.tokens / row.off_seconds:>9.1f}  {row.tokens / row.on_seconds:>8.1f}  "
                     f"{row.ratio:>5.2f}x  {row.drafted:>7}  {row.acceptance:>5.0%}  {same:>11}")
    lines.append("(a solve decodes one chain and its refine rounds at temperature 0 unless its "
                 "profile's stage sets one)")
    return lines
