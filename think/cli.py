"""The `think` command line. Commands only wire: parse, load config, run the API, render.

Heavy imports (the API, llama.cpp, pydantic) happen inside commands so `think --help` is fast.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated, Any, NoReturn

import typer

from think import __version__
from think.cli_bench import app as bench_app
from think.cli_common import EngineOption, ModelOption, ProfileOption, print_json, read_text_file
from think.cli_models import app as models_app
from think.cli_profiles import app as profiles_app
from think.errors import Interrupted, ThinkError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Budgeted solving on a local model: spend N times the compute of one "
                       "direct answer on a question.")
app.add_typer(bench_app, name="bench")
app.add_typer(profiles_app, name="profiles")
app.add_typer(models_app, name="models")


def _version(value: bool) -> None:
    if value:
        print(f"think {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False
         ) -> None:
    """Budgeted solving on consumer hardware."""


def read_question(argument: str | None) -> str:
    """The question from the argument, from '-', or from stdin when it is not a terminal."""
    if argument is not None and argument != "-":
        return argument
    stdin = sys.stdin
    try:
        interactive = stdin is None or stdin.isatty()
    except ValueError:  # stdin was closed
        interactive = True
    if argument is None and interactive:
        raise UsageError("no question given", "pass it as an argument, or pipe it on stdin")
    if stdin is None:
        raise UsageError("stdin is closed", "pass the question as an argument")
    try:
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    except (OSError, ValueError):
        raise UsageError("stdin could not be read", "pass the question as an argument") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("stdin is not UTF-8 text", "pipe a text question") from None
    if "\x00" in text:
        raise UsageError("stdin holds binary data, not a question", "pipe a text question")
    return text


def print_plan_ladder(profile: Any, budget: int, as_json: bool) -> None:
    """--plan with --budget auto: the ladder the run may climb, within MAX units."""
    from think.ui.describe import refinement_rounds

    steps = [step.model_dump() for step in profile.auto.steps]
    models = profile.auto.models or ["(the chosen model)"]
    if as_json:
        print_json({"budget": f"auto:{budget}", "profile": profile.name, "steps": steps,
                    "models": models, "threshold": profile.auto.threshold})
        return
    print(f"budget auto:{budget} -> start with step 1, escalate while P(leader) < "
          f"{profile.auto.threshold}, never past {budget} units; models: {', '.join(models)}")
    for number, step in enumerate(steps, 1):
        print(f"  step {number}: {step['samples']} x {step['cot_tokens']} thinking tokens"
              + (f", {refinement_rounds(step['refine_rounds'])}" if step["refine_rounds"] else ""))


def make_view(quiet: bool, verbose: bool) -> Any:
    """The live view on an interactive stderr, plain lines elsewhere, nothing when quiet."""
    from rich.console import Console

    from think.ui.plain import PlainView, SilentView

    if quiet:
        return SilentView()
    console = Console(stderr=True)
    if console.is_terminal and not console.is_dumb_terminal:
        from think.ui.live import LiveView

        return LiveView(console, verbose=verbose)
    return PlainView(verbose=verbose)


@app.command()
def solve(
    question: Annotated[str | None, typer.Argument(
        help="The question; '-' or a pipe reads it from stdin.", show_default=False)] = None,
    budget: Annotated[str, typer.Option(
        "--budget", "-b", metavar="1..100|auto[:MAX]",
        help="Compute to spend, 1..100 times one direct answer; auto[:MAX] escalates only "
        "while the answer is unsettled.")] = "8",
    profile: ProfileOption = None,
    model: ModelOption = None,
    engine: EngineOption = None,
    task: Annotated[str, typer.Option(
        metavar="KIND", help="auto, math, choice, code or text.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int | None, typer.Option(
        metavar="N", help="Seed for a reproducible run.",
                                                show_default=False)] = None,
    plan_only: Annotated[bool, typer.Option(
        "--plan", help="Show the plan the budget maps to and exit (no model is loaded).")] = False,
    early_stop: Annotated[bool, typer.Option(
        "--early-stop/--no-early-stop", help="Stop sampling once the vote is settled.")] = True,
    tests: Annotated[str | None, typer.Option(
        "--tests", metavar="FILE", help="Code tasks: Python asserts each candidate must pass.",
        show_default=False)] = None,
    sandbox: Annotated[str | None, typer.Option(
        "--sandbox", metavar="MODE", help="Code tasks: auto (run candidates in the OS sandbox, "
        "else not at all), guard (the weaker in-process guard), none. Default: the profile's.",
        show_default=False)] = None,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", metavar="S", help="Cut the plan to fit S seconds (measured speeds from "
        "`think tune`) and answer when time is up.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show only the answer.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show every sample's text and llama.cpp's log.")] = False,
) -> None:
    """Answer a question, spending about BUDGET times the compute of a direct answer."""
    from think import api
    from think.budget import parse_budget_spec
    from think.ui.describe import describe_plan

    text = read_question(question)
    test_code = read_text_file(tests, "tests file") if tests else None
    adaptive, chosen_budget = parse_budget_spec(budget)
    api.check_time_limit(max_seconds, adaptive)
    if plan_only:
        setup = api.prepare(text, profile, model, task, locate_model=False, server=engine)
        if adaptive:
            print_plan_ladder(setup.profile, chosen_budget, as_json)
            return
        if max_seconds is not None:
            plan = api.fit_to_time(setup, chosen_budget, max_seconds, early_stop=early_stop)
        else:
            plan = api.plan_for(setup, chosen_budget, early_stop=early_stop)
        if as_json:
            print_json({"budget": chosen_budget, "task": setup.task, "model": setup.model.name,
                         "profile": setup.profile.name, "plan": plan.to_dict(),
                         "planned_units": round(plan.planned_units, 2)})
        else:
            print(describe_plan(plan))
            for note in plan.notes:
                print(f"note: {note}")
        return
    view = make_view(quiet, verbose)
    try:
        with view:
            result = api.solve(text, budget=budget, profile=profile, model=model,
                               task=task, seed=seed, on_event=view, early_stop=early_stop,
                               verbose=verbose, max_seconds=max_seconds, tests=test_code,
                               server=engine, sandbox=sandbox)
    except Interrupted as stop:
        if not as_json:
            raise
        # A script reading --json gets JSON even on Ctrl-C, never a bare answer line.
        print_json({"answer": stop.best_answer, "interrupted": True})
        raise Interrupted(None) from None
    if as_json:
        print_json(result.to_dict())
    elif result.answer is not None:
        print(result.answer)
    if result.answer is None:
        raise ThinkError("the model gave no answer that could be read",
                         "raise the budget or try a stronger model")


@app.command()
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
        min=1, max=256, help="Questions in flight at once (a server engine only).")] = 1,
    task: Annotated[str, typer.Option(metavar="KIND", help="auto, math, choice, code or "
                                      "text.")] = "auto",
    seed: Annotated[int, typer.Option(metavar="N", help="Seed for every question.")] = 0,
) -> None:
    """Answer many questions: one JSON line each, in input order, resumable."""
    from pathlib import Path

    from think import api
    from think.batch import open_output, read_items, run_batch, to_answer
    from think.budget import parse_budget_spec
    from think.ui.batch_progress import batch_progress

    parse_budget_spec(budget)  # refuse a bad budget before reading anything
    if resume and not out:
        raise UsageError("--resume needs --out FILE", "name the output file to resume")
    if parallel > 1 and not api.uses_server(profile, engine):
        raise UsageError("--parallel needs a server engine",
                         "give --engine URL; one local model decodes one question at a time")
    lines = read_question("-") if source == "-" else read_text_file(source, "questions file")
    items = read_items(lines.splitlines())
    given = len(items)
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
        return api.solve(question, budget=budget, profile=profile, model=model,
                         task=task, seed=seed, server=engine)

    try:
        if not items:
            # Nothing to do is not an error in a pipeline, but a person should see why.
            print("batch: every question is answered already" if given
                  else "batch: no questions in the input", file=sys.stderr)
            return
        with batch_progress(len(items)) as show:
            run_batch(items, handle, solve_one, show, parallel)
    except Interrupted:
        raise Interrupted(None) from None  # stdout may be the JSONL: print no answer
    finally:
        if handle is not sys.stdout:
            handle.close()  # and with it the lock that keeps other batches off the file


@app.command()
def tune(
    name: Annotated[str | None, typer.Option(
        help="Name of the profile to write (default: this machine's name).",
        show_default=False)] = None,
    model: ModelOption = None,
    base: Annotated[str, typer.Option(
        "--from", help="Profile whose budget shape the new one keeps.")] = "default",
    force: Annotated[bool, typer.Option(help="Replace an existing profile (kept as .bak).")]
    = False,
) -> None:
    """Measure this machine on a model and write a profile with the fastest settings."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

    from think.config import load_profile
    from think.models import resolve
    from think.tune import (
        WIDTHS,
        default_name,
        measure,
        profile_target,
        render_profile,
        write_profile,
    )

    chosen = name or default_name()
    profile_target(chosen, force)  # refuse before minutes of measuring, not after
    spec = resolve(model)
    shape = load_profile(base)
    with Progress(SpinnerColumn(), "[progress.description]{task.description}",
                  TimeElapsedColumn(), transient=True,
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("probing this machine", total=None)
        tuning = measure(spec, shape, lambda text: bar.update(task, description=text))
    path, backup = write_profile(chosen, render_profile(shape, tuning, chosen, spec), force)
    speeds = tuning.speeds
    print(f"threads {tuning.threads}, GPU layers {tuning.gpu_layers}, batch width "
          f"{tuning.batch_width}; prompt {speeds.prompt_tps} tok/s, one stream "
          f"{speeds.decode_tps} tok/s, batched "
          + ", ".join(f"{w}: {speeds.batch_tps[w]}" for w in WIDTHS) + " tok/s")
    if backup:
        print(f"kept the old profile as {backup}")
    print(f"wrote {path}; use it with --profile {chosen} or `think profiles use {chosen}`")


class _Stop:
    """Which signal stopped the run: SIGTERM (`timeout 60 think solve ...`, a service manager)
    ends it the way Ctrl-C does, best answer first, but with SIGTERM's own exit status."""

    terminated = False

    @classmethod
    def on_sigterm(cls, signum: int, frame: object) -> None:
        cls.terminated = True
        raise KeyboardInterrupt

    @classmethod
    def exit(cls) -> NoReturn:
        print("Terminated." if cls.terminated else "Interrupted.", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM if cls.terminated else Interrupted.exit_code)


def main() -> None:
    """Console entry point: run the app, turning ThinkErrors into one-line messages."""
    previous = signal.signal(signal.SIGTERM, _Stop.on_sigterm)
    _Stop.terminated = False
    try:
        app(prog_name="think")
    except Interrupted as exc:
        if exc.best_answer is not None:
            print(exc.best_answer, flush=True)
        _Stop.exit()
    except ThinkError as exc:
        if os.environ.get("THINK_DEBUG"):
            raise
        hint = f" ({exc.hint})" if exc.hint else ""
        print(f"Error: {exc.message}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _Stop.exit()
    except Exception as exc:  # noqa: BLE001 - a bug still ends in one line, not a traceback
        if os.environ.get("THINK_DEBUG"):
            raise
        print(f"Error: internal error: {type(exc).__name__}: {exc} (a bug in think; "
              "THINK_DEBUG=1 shows the traceback)", file=sys.stderr)
        sys.exit(1)
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    main()
