"""`think batch`: many questions, one JSON line each, resumable."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from think.cli.common import EngineOption, ModelOption, ProfileOption, questions_stream
from think.errors import Interrupted, UsageError


def batch(
    source: Annotated[str, typer.Argument(
        metavar="FILE|-", help="JSONL ({\"id\", \"question\", ...}) or one question a line.")],
    budget: Annotated[str, typer.Option("--budget", "-b", metavar="1..100|auto[:MAX]",
                                        help="Compute per question.")] = "8",
    out: Annotated[str | None, typer.Option(
        metavar="FILE",
        help="Output JSONL; an existing file is resumed (answered ids are skipped).",
        show_default=False)] = None,
    resume: Annotated[bool | None, typer.Option(
        "--resume/--no-resume", help="Continue the --out file (the default when it exists); "
        "--no-resume refuses an existing one.", show_default=False)] = None,
    profile: ProfileOption = None,
    model: ModelOption = None,
    engine: EngineOption = None,
    parallel: Annotated[int, typer.Option(
        min=1, max=256, help="Questions in flight at once: a server takes them as concurrent "
        "requests; the local engine batches them, decoding every question in flight in each "
        "step.")] = 1,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", metavar="S", help="Cut each question's plan to fit S seconds, and "
        "stop its samples when they are up.", show_default=False)] = None,
    task: Annotated[str, typer.Option(metavar="KIND", help="auto, math, choice, code or "
                                      "text.")] = "auto",
    seed: Annotated[int, typer.Option(metavar="N", help="Seed for every question.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr; a "
                                        "question that fails still gets a line there.")] = False,
) -> None:
    """Answer many questions: one JSON line each, in input order, resumable."""
    from pathlib import Path

    from think import api
    from think.batch import open_output, read_items, run_batch, to_answer
    from think.batch_input import question_lines
    from think.planning.budget import Budget
    from think.ui.batch_progress import batch_progress

    chosen = Budget.of(budget)  # refuse a bad budget before reading anything
    if resume and not out:
        raise UsageError("--resume needs --out FILE", "name the output file to resume")
    api.check_time_limit(max_seconds, chosen)
    with questions_stream(source) as stream:
        items = read_items(question_lines(stream))
    given = len(items)
    _tell_repeats([item.line for item in items if item.duplicate_of is not None])
    target = Path(out) if out else None
    if target is not None:
        if source != "-" and target.resolve() == Path(source).resolve():
            raise UsageError("--out is the questions file", "choose another --out path")
        if resume is False and target.exists() and target.stat().st_size:
            raise UsageError(f"{target} exists and --no-resume was given",
                             "remove it or choose another --out path")
        handle, answered = open_output(target)
        items, changed = to_answer(items, answered)
        for item in changed:
            print(f"batch: id {item.key} (line {item.line}) was answered for another question "
                  "in the --out file; answering it again", file=sys.stderr)
    else:
        handle = sys.stdout

    def solve_one(question: str) -> Any:
        return api.solve(question, budget=chosen, profile=profile, model=model,
                         task=task, seed=seed, server=engine, max_seconds=max_seconds)

    try:
        if not items:
            # Nothing to do is not an error in a pipeline, but a person should see why.
            print("batch: every question is answered already" if given
                  else "batch: no questions in the input", file=sys.stderr)
            return
        with batch_progress(len(items), quiet) as show:
            run_batch(items, handle, solve_one, show, parallel)
    except Interrupted:
        raise Interrupted(None) from None  # stdout may be the JSONL: print no answer
    finally:
        if handle is not sys.stdout:
            handle.close()  # and with it the lock that keeps other batches off the file


def _tell_repeats(lines: list[int]) -> None:
    """A word on stderr for lines whose id an earlier line has: their records say it too, but
    a person watching the run should not have to find them."""
    if not lines:
        return
    shown = ", ".join(map(str, lines[:10])) + (", ..." if len(lines) > 10 else "")
    many = len(lines) > 1
    print(f"batch: {len(lines)} line{'s' if many else ''} repeat{'' if many else 's'} an id "
          f"of an earlier line ({shown}): not answered, each is an error record; give "
          f"{'them ids' if many else 'it an id'} of {'their' if many else 'its'} own",
          file=sys.stderr)
