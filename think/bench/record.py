"""`think bench record`: draw K samples per question once, for replaying stopping rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from think.bench.datasets import DatasetQuestion
from think.engine.base import Engine
from think.planning.budget import Plan
from think.strategies.cot import cot_request, record
from think.tasks.prompts import Prompts


def record_samples(engine: Engine, items: list[DatasetQuestion], plan: Plan, seed: int, out: TextIO,
                   progress: Callable[[str], None]) -> None:
    """Write one JSON line per question: its gold answer and K answers in drawing order."""
    for number, item in enumerate(items, 1):
        prompts = Prompts(engine, item.question, "math")
        request = cot_request(prompts.cot(), prompts, plan, n=plan.samples,
                              seed=seed + 1000 * number)
        result = engine.sample(request)
        answers = [record(completion, "math").answer for completion in result.completions]
        out.write(json.dumps({"id": item.id, "gold": item.gold, "answers": answers,
                              "tokens": [c.tokens for c in result.completions]}) + "\n")
        out.flush()
        right = sum(answer == item.gold for answer in answers)
        progress(f"{number}/{len(items)}: gold {item.gold}, {right}/{len(answers)} samples right")


def open_output(path: Path) -> TextIO:
    return path.open("w", encoding="utf-8")
