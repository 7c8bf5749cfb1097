"""`think logs`: the history of runs (list, search, show), turning it off and on, its path.

The store is think.history; it is imported inside each command so `think --help` stays fast.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from think.errors import UsageError

app = typer.Typer(invoke_without_command=True, help="The history of runs: every solve, newest "
                  "first (`think logs off` stops it).")

CountOption = Annotated[int, typer.Option(
    "--count", "-n", min=0, metavar="N", help="How many runs to list; 0 lists all.")]
QueryOption = Annotated[str | None, typer.Option(
    "--query", "-q", metavar="TEXT", help="Only runs whose question or answer holds TEXT.",
    show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON: every field of each run.")]


def shorten(text: str | None, width: int) -> str:
    """Text on one line, cut to `width` characters with an ellipsis, safe on a terminal."""
    from think.ui.terminal_text import printable

    flat = " ".join(printable(text or "").split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def local_time(stamp: str | None) -> str:
    """A stored UTC time as the reader's local time, to the second."""
    if not stamp:
        return "-"
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp


def one_line(run: dict[str, Any]) -> str:
    """A run as `think logs` lists it: id, time, model, budget, answer, question."""
    from think.ui.terminal_text import NO_ANSWER

    answer = shorten(run.get("answer"), 24) if run.get("answer") is not None else NO_ANSWER
    ended = run.get("status") or "ok"
    if ended != "ok":  # interrupted, or an error: the question is kept all the same
        answer += f" ({ended.split(':')[0]})"
    model = shorten(run.get("model"), 40) or "-"
    return (f"{run['id']:>5}  {local_time(run.get('time'))}  {model}  "
            f"b{run.get('budget') or '-'}  {answer}  {shorten(run.get('question'), 60)}")


def list_runs(count: int, query: str | None, as_json: bool) -> None:
    """The listing `think logs` and `think logs list` share."""
    from think import history
    from think.cli.common import print_json

    found = history.runs(count, query)
    if as_json:
        print_json(found)
        return
    for run in found:
        print(one_line(run))
    if not found:
        why = f"no logged run matches '{query}'" if query else "no runs logged yet"
        off = "" if history.enabled() else " (logging is off: `think logs on` resumes it)"
        print(f"think logs: {why}{off}", file=sys.stderr)


@app.callback()
def logs(ctx: typer.Context, count: CountOption = 10, query: QueryOption = None,
         as_json: JsonOption = False) -> None:
    """The history of runs; with no command, the last runs as `think logs list` shows them."""
    if ctx.invoked_subcommand is None:
        list_runs(count, query, as_json)


@app.command("list")
def list_command(count: CountOption = 10, query: QueryOption = None,
                 as_json: JsonOption = False) -> None:
    """The last runs, newest first, one line each: id, time, model, budget, answer, question."""
    list_runs(count, query, as_json)


@app.command("show")
def show(run_id: Annotated[int, typer.Argument(metavar="ID", help="A run's id from `think logs`.")],
         as_json: JsonOption = False) -> None:
    """One run: its question, plan, votes, compute and answer (--json: every field)."""
    from think import history
    from think.cli.common import print_json
    from think.ui.terminal_text import printable, shown_answer

    run = history.run_by_id(run_id)
    if run is None:
        raise UsageError(f"no run with id {run_id} in the history",
                         "`think logs` lists the runs with their ids")
    if as_json:
        print_json(run)
        return
    votes = ", ".join(f"{answer} x{n}" for answer, n in (run.get("votes") or {}).items())
    plan = run.get("plan") or {}
    fields = [("run", run["id"]), ("time", local_time(run.get("time"))),
              ("question", run.get("question")), ("task", run.get("task")),
              ("model", run.get("model")),
              ("prompted", (run.get("result") or {}).get("prompt_format") or "-"),
              ("profile", run.get("profile")),
              ("engine", run.get("engine")), ("budget", run.get("budget")),
              ("plan", ", ".join(f"{key} {value}" for key, value in plan.items()
                                 if key in ("strategy", "samples", "cot_tokens",
                                            "refine_rounds"))),
              ("votes", votes or "-"), ("samples", len(run.get("samples") or [])),
              ("compute", compute_words(run)), ("answer", shown_answer(run.get("answer"))),
              ("ended", run.get("status") or "ok")]
    for name, value in fields:  # the question, answer and names are model or user text
        shown = "-" if value is None or value == "" else value  # a field this run never had
        print(printable(f"{name + ':':<10}{shown}"))


def compute_words(run: dict[str, Any]) -> str:
    """What a run spent, as far as it is known: a run that did not finish (interrupted, or
    failed) has its seconds in the history and no counts."""
    parts = []
    if run.get("prompt_tokens") is not None and run.get("generated_tokens") is not None:
        parts.append(f"{run['prompt_tokens']} prompt + {run['generated_tokens']} generated tokens")
    if run.get("units_used") is not None:
        parts.append(f"{run['units_used']} units")
    if run.get("seconds") is not None:
        parts.append(f"{run['seconds']} s")
    return ", ".join(parts) or "-"


@app.command("off")
def off() -> None:
    """Stop logging runs (the history is kept)."""
    from think.config.settings import save_setting

    save_setting("logs", "off")
    print("logging is off: runs are not recorded (`think logs on` resumes it)")


@app.command("on")
def on() -> None:
    """Log every run again (the default)."""
    from think.config.settings import save_setting

    save_setting("logs", None)
    print("logging is on: every run is recorded")


@app.command("path")
def path() -> None:
    """The history's database file."""
    from think import history

    print(history.db_path())
