"""`think batch`: many questions, one result line each, in input order, resumable.

Input is JSONL (`{"id", "question", ...}`; other fields are passed through under "input")
or plain text, one question a line; a byte-order mark before the first line is no part of
it. A line whose id an earlier line has is not answered: its record is an error naming both
lines, and every other question is answered. Each result is written and flushed as soon as it
and every line before it are known, so an interrupted batch loses at most the questions in
flight (with --parallel, those waiting on one in flight too); a later run with the same output
file skips the questions answered there and appends the rest, never touching existing lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from think.batch_input import UnreadableLine
from think.errors import Interrupted, ThinkError, UsageError, option
from think.in_order import InOrder
from think.json_text import json_line
from think.result import Result
from think.shared_files import try_lock
from think.tasks.grading import gold_answer

OUT = option("out")  # the results file option, named in its errors

Id = str | int  # ids are kept as the JSON gave them: 7 stays 7, "7" stays "7"
BOM = "\ufeff"  # what some editors (Notepad, Excel's "UTF-8 CSV") write before the text


@dataclass(frozen=True)
class BatchQuestion:
    """One input line."""

    id: Id
    question: str | None
    line: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # why the line could not be read
    duplicate_of: int | None = None  # the earlier line that has this id

    @property
    def gold(self) -> str | None:
        return gold_answer(self.extra["answer"]) if "answer" in self.extra else None

    @property
    def key(self) -> str:
        """The id as resume compares it: 7 and "7" are different ids. A repeat is known by
        its line too, so its error record never stands for the answer of the id's first line."""
        return id_key(self.id, self.line if self.duplicate_of is not None else None)


def id_key(value: Any, repeat_line: int | None = None) -> str:
    key = json.dumps(value)
    return key if repeat_line is None else f"{key}@{repeat_line}"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # json.loads would take NaN, Infinity


def read_items(lines: Iterable[str | UnreadableLine]) -> list[BatchQuestion]:
    """Parse input lines; a malformed line becomes an item carrying its error.

    A line with no id (or "id": null) is known by its line number. A line whose id an
    earlier line has becomes an error item: resume could only ever answer one of them, and
    one slip in a long file should not cost the rest of it.
    """
    items: list[BatchQuestion] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, UnreadableLine):
            items.append(BatchQuestion(str(number), None, number,
                                       error=f"line {number} {raw.problem}"))
            continue
        line = (raw.removeprefix(BOM) if number == 1 else raw).strip()
        if not line:
            continue
        item = _read_line(number, line)
        first = first_line.setdefault(item.key, number)
        if first != number:
            item = replace(item, duplicate_of=first, error=f"line {number} repeats id "
                           f"{item.key} of line {first}; give it an id of its own")
        items.append(item)
    return items


def _read_line(number: int, line: str) -> BatchQuestion:
    if not line.startswith("{"):
        return BatchQuestion(str(number), line, number)
    try:
        record = json.loads(line, parse_constant=_no_constants)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        return BatchQuestion(str(number), None, number,
                             error=f"line {number} is not valid JSON: {reason}")
    question = record.pop("question", None)
    item_id = record.pop("id", None)
    if item_id is None:
        item_id = str(number)
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
        return BatchQuestion(str(number), None, number, record,
                    f"line {number}: 'id' must be a string or a whole number")
    if not isinstance(question, str) or not question.strip():
        return BatchQuestion(item_id, None, number, record, f"line {number} has no 'question' text")
    return BatchQuestion(item_id, question, number, record)


def answered_records(path: Path) -> dict[str, dict[str, Any]]:
    """The last record of each id already in an output file; a torn line (a killed run)
    does not count.

    A file that is not think's output (a questions file given by mistake, say, even one
    whose lines have ids and gold answers, or any other JSON lines) is refused, so results
    are never appended to it.
    """
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise UsageError(f"cannot read {OUT} file {path}: {reason}",
                         f"choose another {OUT} path") from None
    found: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
            if line.startswith('{"id": '):
                continue  # torn by a killed run; it stays as it was
        if not is_record(record):
            raise UsageError(f"{OUT} file {path} is not think's output (line {number} is "
                             "not a think record)", f"choose another {OUT} path")
        repeat = record.get("line") if "duplicate_of" in record else None
        found[id_key(record["id"], repeat if isinstance(repeat, int) else None)] = record
    return found


def is_record(record: Any) -> bool:
    """Whether a parsed line is one think writes: every record has the id and the input's
    other fields (`input`); an answer has its plan, an error its message. A questions line
    has an id and perhaps a gold `answer`, never these."""
    if not (isinstance(record, dict) and "id" in record and isinstance(record.get("input"), dict)):
        return False
    return isinstance(record.get("error"), str) or (
        "answer" in record and isinstance(record.get("plan"), dict))


def to_answer(items: list[BatchQuestion], answered: dict[str, dict[str, Any]]
              ) -> tuple[list[BatchQuestion], list[BatchQuestion]]:
    """The items a resumed batch must answer, and those among them whose id was answered
    for another question (answered again, and worth a word to the user).

    An id counts as answered when its record has an answer for the same question (records
    from before questions were recorded are taken on their id), or is an input error again
    (a line that cannot be read, a repeated id: written once); a question that failed (a
    server error, say) is tried again.
    """
    todo, changed = [], []
    for item in items:
        record = answered.get(item.key)
        if record is None:
            todo.append(item)
        elif item.error is not None:
            if "error" not in record:
                todo.append(item)
        elif "answer" in record and item.question is not None:
            if record.get("question", item.question.strip()) != item.question.strip():
                todo.append(item)
                changed.append(item)
        else:
            todo.append(item)
    return todo, changed


def open_output(path: Path) -> tuple[TextIO, dict[str, dict[str, Any]]]:
    """The output file opened so new lines follow the old ones, and the records in it.

    The file stays locked while the batch runs: a second batch on the same file would answer
    the same questions again and write each of them twice.
    """
    try:
        handle = path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ThinkError(f"cannot write {path}: {exc.strerror}",
                         f"choose another {OUT} path") from None
    try:
        if not try_lock(handle):
            raise ThinkError(f"another think batch is writing {path}",
                             f"wait for it to finish, or choose another {OUT} path")
        done = answered_records(path)
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
class BatchCounts:
    """Running counts for the progress display."""

    total: int
    done: int = 0
    errors: int = 0
    graded: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.graded if self.graded else None


def record_for(item: BatchQuestion, result: Result | None, error: str | None) -> dict[str, Any]:
    """The output line of one item."""
    if result is None:
        failed: dict[str, Any] = {"id": item.id, "error": error, "input": item.extra}
        if item.duplicate_of is not None:  # resume knows a repeat by its line
            failed.update(line=item.line, duplicate_of=item.duplicate_of)
        return {**failed, "question": item.question} if item.question is not None else failed
    data: dict[str, Any] = {"id": item.id, **result.to_dict(), "input": item.extra}
    if item.gold is not None:
        data["gold"] = item.gold
        data["correct"] = result.answer == item.gold
    return data


def run_batch(items: list[BatchQuestion], out: TextIO, solve: Callable[[str], Result],
              on_record: Callable[[dict[str, Any], BatchCounts], None],
              parallel: int = 1) -> BatchCounts:
    """Answer the items, `parallel` at a time, writing each line in input order as soon as
    it and every line before it are known, and flushing it."""
    tally = BatchCounts(total=len(items))

    def write(records: list[dict[str, Any]]) -> None:
        for data in records:
            out.write(json_line(data) + "\n")
            out.flush()
            tally.done += 1
            tally.errors += "error" in data
            if "correct" in data:
                tally.graded += 1
                tally.correct += bool(data["correct"])
            on_record(data, tally)

    answers = InOrder(items, lambda item: list(_answer(item, solve)), parallel)
    try:
        for records in answers:
            write(records)
    finally:
        # Stopped (Ctrl-C, SIGTERM): start nothing new, and keep every record that finished
        # while this thread waited, as far as the file can take them in input order; resume
        # answers the rest.
        answers.stop()
        for records in answers.finished():
            write(records)
    return tally


def _answer(item: BatchQuestion, solve: Callable[[str], Result]) -> Iterator[dict[str, Any]]:
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
    except Exception as exc:  # noqa: BLE001 - one question's bug must not end the batch
        if os.environ.get("THINK_DEBUG"):
            raise
        yield record_for(item, None, f"internal error: {type(exc).__name__}: {exc}")
        return
    yield record_for(item, result, None)
