"""Question files for benchmarks: GSM8K-format JSONL (`#### answer`) or any JSONL with
`question` and `answer` fields; a seeded sample of them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from think.errors import UsageError
from think.tasks.grading import gold_answer


@dataclass(frozen=True)
class DatasetQuestion:
    """One question with its normalised gold answer."""

    id: str
    question: str
    gold: str | None


def load_items(path: Path, limit: int | None = None, seed: int = 0) -> list[DatasetQuestion]:
    """Read a JSONL file of questions; with a limit, a seeded random sample of that size."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}",
                         "give an existing JSONL file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text", "give a JSONL file") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"]
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{path} line {number} is not a JSON object with a 'question'",
                             "one JSON object per line, with 'question' and 'answer'") from None
        items.append(DatasetQuestion(str(record.get("id", number)), question, gold_answer(
            record.get("answer"))))
    if not items:
        raise UsageError(f"{path} holds no questions",
                         "one JSON object per line, with 'question' and 'answer'")
    if limit is not None and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    return items
