"""The history of runs (`think logs`): every solve as one row of an SQLite file in the data folder.

Parallel runs (`xargs -P 4 think solve ...`) share the file: WAL lets readers and one writer
work at once, and a writer that meets a lock waits (busy timeout) and retries. A run's row is
written by history_writer's thread, after the answer: one that meets a lock held past WAIT_S
(another process in a long write) is skipped with a note, so a run never waits on its log
for long. The schema's version is the file's `PRAGMA user_version`; `MIGRATIONS` holds one step
per version, so a later version adds a step rather than a rewrite. Logging never fails a
solve: `log_run` turns any failure into one warning line on stderr.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from think import history_read, history_writer, paths
from think.errors import ThinkError
from think.result import Result

SCHEMA_VERSION = 2
FILE_NAME = "logs.db"
BUSY_MS = 10_000  # how long one statement of a read waits for another process's write lock
WAIT_S = 2.0  # how long a run's row waits, all tries together, before it is skipped
SAMPLE_FIELDS = ("index", "answer", "tokens", "finish", "thinking_tokens", "closed", "tests",
                 "confidence")
JSON_COLUMNS = ("plan", "votes", "samples", "result")
# Version 1's columns after the id. Version 0 is a file with no version: an empty file, or the
# first prototype's table (time, question, answer, model); step 0 -> 1 adds what it lacks.
COLUMNS = (("time", "TEXT"), ("question", "TEXT"), ("task", "TEXT"), ("model", "TEXT"),
           ("profile", "TEXT"), ("budget", "TEXT"), ("plan", "TEXT"), ("answer", "TEXT"),
           ("votes", "TEXT"), ("samples", "TEXT"), ("prompt_tokens", "INTEGER"),
           ("generated_tokens", "INTEGER"), ("units_used", "REAL"), ("seconds", "REAL"),
           ("engine", "TEXT"), ("result", "TEXT"))
# Version 2 adds how a run ended: "ok", "interrupted" (Ctrl-C, SIGTERM) or "error: ...".
NAMES = (*(name for name, _ in COLUMNS), "status")
SELECT = f"SELECT rowid AS id, {', '.join(NAMES)} FROM runs"


def db_path() -> Path:
    """The history's file, in the data folder."""
    return paths.data_dir() / FILE_NAME


def _to_v1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, kind in COLUMNS:
        if name not in have:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS runs_time ON runs (time)")


def _to_v2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE runs ADD COLUMN status TEXT")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _to_v1, 1: _to_v2}


def migrate(db: sqlite3.Connection, where: Path | str = FILE_NAME) -> int:
    """Bring the file to SCHEMA_VERSION, one step per version, in one write transaction
    (two processes that open an old file at once migrate it once); returns the old version.
    `where` names the file in messages."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found == SCHEMA_VERSION:
        return found
    db.execute("BEGIN IMMEDIATE")
    try:
        version = old = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ThinkError(f"the run history {where} has schema version {version}, newer "
                             f"than this think's {SCHEMA_VERSION}", "upgrade think")
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](db)
            version += 1
        db.execute(f"PRAGMA user_version = {version}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return old


def connect(path: Path | None = None, busy_ms: int = BUSY_MS) -> sqlite3.Connection:
    """An open, migrated history in WAL mode, whose statements wait `busy_ms` for another
    process's lock; the caller closes it."""
    target = path or db_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(target, timeout=busy_ms / 1000, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")  # kept in the file: once is enough
        migrate(db, target)
    except BaseException:
        db.close()
        raise
    return db


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def opened(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    """The history for one read, with its failures worded for the user (one line, a fix)."""
    target = path or db_path()
    try:
        with closing(connect(target)) as db:
            yield db
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise ThinkError(f"the run history {target} is not a readable SQLite database "
                             f"({exc})", "move it aside or delete it; a new history starts "
                             "with the next run") from None
        raise ThinkError(f"cannot read the run history {target}: {exc}",
                         "check the file and its folder, or delete the file") from None
    except OSError as exc:
        raise ThinkError(f"cannot open the run history {target}: {exc.strerror or exc}",
                         "check that the data folder can be written") from None


def row_of(result: Result, budget: str, engine: str, seconds: float) -> dict[str, Any]:
    """One run as the history's columns; JSON columns as text."""
    full = result.to_dict()
    samples = [{key: value for key, value in asdict(sample).items() if key in SAMPLE_FIELDS}
               for sample in result.samples]
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "question": result.question, "task": result.task, "model": result.model,
            "profile": result.profile, "budget": budget, "plan": json.dumps(full["plan"]),
            "answer": result.answer, "votes": json.dumps(full["votes"]),
            "samples": json.dumps(samples), "prompt_tokens": result.compute.prompt_tokens,
            "generated_tokens": result.compute.generated_tokens,
            "units_used": round(result.compute.used, 3), "seconds": round(seconds, 3),
            "engine": engine, "result": json.dumps(full), "status": "ok"}


def unfinished_row(question: str, task: str, model: str, profile: str, budget: str,
                   engine: str, seconds: float, status: str, answer: str | None = None
                   ) -> dict[str, Any]:
    """A run that did not finish (interrupted, or failed): what it was asked, how it ended,
    and the best answer it had."""
    row: dict[str, Any] = dict.fromkeys(NAMES)
    row.update(time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               question=question, task=task, model=model, profile=profile, budget=budget,
               answer=answer, seconds=round(seconds, 3), engine=engine, status=status)
    return row


def record(row: dict[str, Any], path: Path | None = None, wait_s: float = WAIT_S) -> int:
    """Append one run; waits out and retries other processes' writes for `wait_s` in all,
    then raises the lock's error. Returns its id."""
    insert = (f"INSERT INTO runs ({', '.join(NAMES)}) "
              f"VALUES ({', '.join(':' + name for name in NAMES)})")
    deadline = time.monotonic() + wait_s
    pause = 0.05
    while True:
        left = deadline - time.monotonic()
        try:
            with closing(connect(path, busy_ms=max(1, int(left * 1000)))) as db:
                return int(db.execute(insert, row).lastrowid or 0)
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() + pause >= deadline:
                raise
            time.sleep(pause)
            pause *= 2


def enabled() -> bool:
    """Whether runs are logged: `think logs off` turns it off, `think logs on` back on."""
    from think.config.settings import load_settings

    return load_settings().get("logs", "on") != "off"


def log_run(result: Result, budget: str, engine: str, seconds: float,
            log: bool | None = None) -> None:
    """Log a finished run unless `log` is False (None: as the setting says)."""
    log_row(lambda: row_of(result, budget, engine, seconds), log)


def log_row(row: Callable[[], dict[str, Any]], log: bool | None = None) -> None:
    """Log a run's row unless `log` is False, on the writer thread: the caller goes on (its
    answer prints) while it is written. Any failure is one line on stderr: the answer
    matters more than its record."""
    try:
        if log is False or (log is None and not enabled()):
            return
        values, target = row(), db_path()
    except Exception as exc:  # noqa: BLE001 - a broken history must not cost the answer
        _warn(exc)
        return
    history_writer.submit(partial(_write, values, target))


def _write(values: dict[str, Any], target: Path) -> None:
    try:
        record(values, target)
    except sqlite3.OperationalError as exc:
        if not _locked(exc):
            _warn(exc)
            return
        print(f"think: note: the run history {target} stayed locked for {WAIT_S:g} s (another "
              "think is writing it): this run is not logged", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - a broken history must not cost the answer
        _warn(exc)


def _warn(exc: Exception) -> None:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"think: warning: could not log this run ({_where()}: {reason})",
          file=sys.stderr, flush=True)


def _where() -> str:
    try:
        return str(db_path())
    except ThinkError:
        return FILE_NAME


def as_record(row: sqlite3.Row) -> dict[str, Any]:
    """A stored run as plain data, its JSON columns parsed."""
    return history_read.clean(dict(row))


def runs(limit: int = 10, query: str | None = None, path: Path | None = None
         ) -> list[dict[str, Any]]:
    """The last runs, newest first; `limit` 0 is all; `query` is found in question or answer."""
    history_writer.drain(WAIT_S + 1)  # this process's own last runs are listed too
    target = path or db_path()
    if not target.exists():
        return []
    where, params = "", []
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = " WHERE question LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\'"
        params = [pattern, pattern]
    if not history_read.bindable(limit):
        limit = 0  # more than SQLite can count: every run
    sql = f"{SELECT}{where} ORDER BY rowid DESC" + (" LIMIT ?" if limit else "")
    with opened(target) as db:
        db.row_factory = sqlite3.Row
        return [as_record(row) for row in db.execute(sql, params + ([limit] if limit else []))]


def run_by_id(run_id: int, path: Path | None = None) -> dict[str, Any] | None:
    """One stored run, or None when there is none with that id."""
    target = path or db_path()
    if not target.exists() or not history_read.bindable(run_id):
        return None
    with opened(target) as db:
        db.row_factory = sqlite3.Row
        row = db.execute(f"{SELECT} WHERE rowid = ?", (run_id,)).fetchone()
    return as_record(row) if row else None
