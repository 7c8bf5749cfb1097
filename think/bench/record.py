"""`think bench record`: draw K samples per question once, for replaying stopping rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TextIO

from think.engine.base import Engine
from think.planning.budget import Plan
from think.strategies.cot import cot_request, record
from think.tasks.datasets import DatasetQuestion
from think.tasks.prompts import Prompts


def record_samples(engine: Engine, items: list[DatasetQuestion], plan: Plan, seed: int, out: TextIO,
                   progress: Callable[[str], None]) -> None:
    """Write one JSON line per question: its gold answer and K answers in drawing order,
    with each sample's tokens and confidence (null where the engine gave none)."""
    for number, item in enumerate(items, 1):
        prompts = Prompts(engine, item.question, "math")
        request = cot_request(prompts.cot(), prompts, plan, n=plan.samples,
                              seed=seed + 1000 * number)
        # Confidences too, so confidence-weighted votes can be replayed (where the engine can).
        result = engine.sample(replace(request, confidence=True))
        answers = [record(completion, "math").answer for completion in result.completions]
        confidences = [asdict(c.confidence) if c.confidence else None
                       for c in result.completions]
        # Each token's confidence too, so replay can try other windows and thresholds.
        traces = [[round(value, 3) for value in c.token_confidences]
                  for c in result.completions]
        out.write(json.dumps({"id": item.id, "gold": item.gold, "answers": answers,
                              "tokens": [c.tokens for c in result.completions],
                              "confidences": confidences, "traces": traces}) + "\n")
        out.flush()
        right = sum(answer == item.gold for answer in answers)
        progress(f"{number}/{len(items)}: gold {item.gold}, {right}/{len(answers)} samples right")


def open_output(path: Path) -> TextIO:
    return path.open("w", encoding="utf-8")
