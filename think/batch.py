"""`think batch`: many questions, one result line each, in input order, resumable.

Input is JSONL (`{"id", "question", ...}`; other fields are passed through under "input")
or plain text, one question a line. Each result is written and flushed as it completes, so
an interrupted batch loses at most the question in flight; a later run with the same output
file skips the ids already there and appends the rest, never touching existing lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from think.bench.datasets import gold_answer
from think.errors import Interrupted, ThinkError
from think.result import Result
from think.shared_files import try_lock


@dataclass(frozen=True)
class Item:
    """One input line."""

    id: str
    question: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # why the line could not be read

    @property
    def gold(self) -> str | None:
        return gold_answer(self.extra["answer"]) if "answer" in self.extra else None


def read_items(lines: Iterable[str]) -> list[Item]:
    """Parse input lines; a malformed line becomes an item carrying its error."""
    items = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("{"):
            items.append(Item(str(number), line))
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            items.append(Item(str(number), None, error=f"line {number} is not valid JSON: {exc}"))
            continue
        question = record.pop("question", None)
        item_id = str(record.pop("id", number))
        if not isinstance(question, str) or not question.strip():
            items.append(Item(item_id, None, record, f"line {number} has no 'question' text"))
        else:
            items.append(Item(item_id, question, record))
    return items


def answered_ids(path: Path) -> set[str]:
    """Ids already in an output file; a torn line (a killed run) does not count.

    A file that is not think's output (a questions file given by mistake, say) is refused,
    so results are never appended to it.
    """
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ThinkError(f"cannot read --out file {path}: {reason}",
                         "choose another --out path") from None
    done = set()
    for number, line in enumerate(text.splitlines(), 1):
        try:
            done.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            if line.strip() and not line.startswith("{"):
                raise ThinkError(f"--out file {path} is not think's output (line {number} is "
                                 "not a JSON record)", "choose another --out path") from None
    return done


def open_output(path: Path) -> tuple[TextIO, set[str]]:
    """The output file opened so new lines follow the old ones, and the ids already in it.

    The file stays locked while the batch runs: a second batch on the same file would answer
    the same questions again and write each of them twice.
    """
    try:
        handle = path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ThinkError(f"cannot write {path}: {exc.strerror}",
                         "choose another --out path") from None
    try:
        if not try_lock(handle):
            raise ThinkError(f"another think batch is writing {path}",
                             "wait for it to finish, or choose another --out path")
        done = answered_ids(path)
        if path.stat().st_size:
            with path.open("rb") as existing:
                existing.seek(-1, 2)
                if existing.read(1) != b"\n":
                    handle.write("\n")  # close a torn line from a killed run; it stays as it was
    except BaseException:
        handle.close()
        raise
    return handle, done


@dataclass
class Tally:
    """Running counts for the progress display."""

    total: int
    done: int = 0
    errors: int = 0
    graded: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.graded if self.graded else None


def record_for(item: Item, result: Result | None, error: str | None) -> dict[str, Any]:
    """The output line of one item."""
    if result is None:
        return {"id": item.id, "error": error, "input": item.extra}
    data: dict[str, Any] = {"id": item.id, **result.to_dict(), "input": item.extra}
    if item.gold is not None:
        data["gold"] = item.gold
        data["correct"] = result.answer == item.gold
    return data


def run_batch(items: list[Item], out: TextIO, solve: Callable[[str], Result],
              on_record: Callable[[dict[str, Any], Tally], None], parallel: int = 1) -> Tally:
    """Answer the items, `parallel` at a time, writing each line in input order as soon as
    it and every line before it are known, and flushing it."""
    tally = Tally(total=len(items))

    def write(records: list[dict[str, Any]]) -> None:
        for data in records:
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            out.flush()
            tally.done += 1
            tally.errors += "error" in data
            if "correct" in data:
                tally.graded += 1
                tally.correct += bool(data["correct"])
            on_record(data, tally)

    if parallel == 1:  # in this thread, so Ctrl-C stops the question in flight
        for item in items:
            write(list(_answer(item, solve)))
        return tally
    pool = ThreadPoolExecutor(max_workers=parallel)
    try:
        for records in pool.map(lambda item: list(_answer(item, solve)), items):
            write(records)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # on Ctrl-C, start nothing new
    return tally


def _answer(item: Item, solve: Callable[[str], Result]) -> Iterator[dict[str, Any]]:
    if item.error or item.question is None:
        yield record_for(item, None, item.error)
        return
    try:
        result = solve(item.question)
    except Interrupted:
        raise
    except ThinkError as exc:
        yield record_for(item, None, str(exc))
        return
    yield record_for(item, result, None)
