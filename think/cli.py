"""The `think` command line. Commands only wire: parse, load config, run the API, render.

Heavy imports (the API, llama.cpp, pydantic) happen inside commands so `think --help` is fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer

from think import __version__
from think.errors import Interrupted, ThinkError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Budgeted solving on a local model: spend N times the compute of one "
                       "direct answer on a question.")


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


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None))


@app.command()
def solve(
    question: Annotated[str | None, typer.Argument(
        help="The question; '-' or a pipe reads it from stdin.", show_default=False)] = None,
    budget: Annotated[str, typer.Option(
        "--budget", "-b", metavar="1..100",
        help="Compute to spend, 1..100 times one direct answer.")] = "8",
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", metavar="NAME|FILE",
        help="Profile name or YAML file (default: THINK_PROFILE or 'default').",
        show_default=False)] = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", metavar="NAME|FILE", help="Model name from models.yaml or a .gguf file.",
        show_default=False)] = None,
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show only the answer.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show every sample's text and llama.cpp's log.")] = False,
) -> None:
    """Answer a question, spending about BUDGET times the compute of a direct answer."""
    from think import api
    from think.ui.describe import describe_plan

    text = read_question(question)
    chosen_profile = profile or os.environ.get("THINK_PROFILE")
    chosen_budget = api.parse_budget(budget)
    if plan_only:
        setup = api.prepare(text, chosen_profile, model, task, locate_model=False)
        plan = api.plan_for(setup, chosen_budget, early_stop=early_stop)
        if as_json:
            _print_json({"budget": chosen_budget, "task": setup.task, "model": setup.model.name,
                         "profile": setup.profile.name, "plan": plan.to_dict(),
                         "planned_units": round(plan.planned_units, 2)})
        else:
            print(describe_plan(plan))
            for note in plan.notes:
                print(f"note: {note}")
        return
    view = make_view(quiet, verbose)
    with view:
        result = api.solve(text, budget=chosen_budget, profile=chosen_profile, model=model,
                           task=task, seed=seed, on_event=view, early_stop=early_stop,
                           verbose=verbose)
    if as_json:
        _print_json(result.to_dict())
    elif result.answer is not None:
        print(result.answer)
    if result.answer is None:
        raise ThinkError("the model gave no answer that could be read",
                         "raise the budget or try a stronger model")


bench_app = typer.Typer(no_args_is_help=True, help="Measure think on this machine.")
app.add_typer(bench_app, name="bench")


def _int_list(value: str, name: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{name} '{value}' is not a list of whole numbers",
                         "e.g. 1,4,8,16") from None
    if not numbers or min(numbers) < 1:
        raise UsageError(f"{name} '{value}' must list numbers of 1 or more", "e.g. 1,4,8,16")
    return numbers


def _write_json(data: object, out: str | None, kind: str) -> str:
    """Write a benchmark's JSON where asked, else into the cache directory; returns the path."""
    import time
    from pathlib import Path

    from think import paths

    path = Path(out) if out else paths.cache_dir() / "bench" / (
        f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
    except OSError as exc:
        raise ThinkError(f"cannot write {path}: {exc.strerror}",
                         "choose another --out path") from None
    return str(path)


@bench_app.command("speed")
def bench_speed(
    model: Annotated[str | None, typer.Option(
        "--model", "-m", metavar="NAME|FILE", help="Model name or .gguf file.",
        show_default=False)] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", metavar="NAME|FILE", help="Profile whose load settings to use.",
        show_default=False)] = None,
    widths: Annotated[str, typer.Option(help="Sample counts N to measure.")] = "1,4,8,16",
    tokens: Annotated[int, typer.Option(min=1, max=4096, help="Tokens per sample.")] = 64,
    repeats: Annotated[int, typer.Option(min=1, max=20, help="Rounds per row (best kept).")] = 2,
    out: Annotated[str | None, typer.Option(help="Where to write the JSON report.",
                                               show_default=False)] = None,
) -> None:
    """Tokens/s of N sequential completions against think's batched sampler; prompt cache."""
    from think.bench.speed import format_report, run_speed
    from think.config import load_profile
    from think.models import resolve

    sizes = _int_list(widths, "--widths")
    spec = resolve(model)
    report = run_speed(spec, load_profile(profile or os.environ.get("THINK_PROFILE")), sizes,
                       tokens, repeats, lambda text: print(f"bench: {text}", file=sys.stderr))
    print(format_report(report))
    print(f"JSON: {_write_json(report.to_dict(), out, 'speed')}", file=sys.stderr)


@bench_app.command("record")
def bench_record(
    dataset: Annotated[str, typer.Argument(help="JSONL questions (GSM8K format or "
                                           "question/answer fields).")],
    out: Annotated[str, typer.Option(help="The recording to write (JSONL).")],
    samples: Annotated[int, typer.Option(min=2, max=256, help="Samples per question.")] = 40,
    limit: Annotated[int, typer.Option(min=1, help="Questions, a seeded random slice.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed for the slice and the samples.")] = 0,
    cot_tokens: Annotated[int, typer.Option(min=16, help="Thinking cap per sample.")] = 256,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", metavar="NAME|FILE", help="Model name or .gguf file.",
        show_default=False)] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", metavar="NAME|FILE", help="Profile for temperature and load.",
        show_default=False)] = None,
) -> None:
    """Draw SAMPLES answers per question once, for `think bench replay`."""
    from pathlib import Path

    from think import api
    from think.bench.datasets import load_items
    from think.bench.record import open_output, record_samples
    from think.budget import Plan
    from think.config import load_profile
    from think.models import resolve

    items = load_items(Path(dataset), limit, seed)
    chosen = load_profile(profile or os.environ.get("THINK_PROFILE"))
    plan = Plan(budget=100, strategy="vote", cot_tokens=cot_tokens, samples=samples,
                refine_rounds=0, temperature=chosen.temperature,
                answer_tokens=chosen.answer_tokens, critique_tokens=chosen.critique_tokens,
                unit_tokens=chosen.unit_tokens, planned_tokens=0)
    engine = api.load_engine(resolve(model), chosen)
    try:
        handle = open_output(Path(out))
    except OSError as exc:
        raise ThinkError(f"cannot write {out}: {exc.strerror}",
                         "choose another --out path") from None
    with handle:
        record_samples(engine, items, plan, seed, handle,
                       lambda text: print(f"record: {text}", file=sys.stderr))


@bench_app.command("replay")
def bench_replay(
    recording: Annotated[str, typer.Argument(help="A file written by `think bench record`.")],
    rules: Annotated[str, typer.Option(help="Rules: full, beta:THRESHOLD, esc:WINDOW.")] = (
        "full,beta:0.8,beta:0.9,beta:0.95,beta:0.99,esc:4,esc:8"),
    min_samples: Annotated[int, typer.Option(min=1, help="Fewest samples before the Beta "
                                             "rule may stop.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay stopping rules on recorded samples: samples used, agreement, accuracy."""
    from dataclasses import asdict
    from pathlib import Path

    from think.bench.replay import format_scores, load_recordings, replay

    recordings = load_recordings(Path(recording))
    scores = [replay(recordings, rule.strip(), min_samples) for rule in rules.split(",")
              if rule.strip()]
    k = max((len(r.answers) for r in recordings), default=0)
    if as_json:
        _print_json({"questions": len(recordings), "samples": k,
                     "rules": [asdict(score) for score in scores]})
    else:
        print(format_scores(scores, len(recordings), k))


def main() -> None:
    """Console entry point: run the app, turning ThinkErrors into one-line messages."""
    try:
        app(prog_name="think")
    except Interrupted as exc:
        if exc.best_answer is not None:
            print(exc.best_answer, flush=True)
        print("Interrupted.", file=sys.stderr)
        sys.exit(exc.exit_code)
    except ThinkError as exc:
        if os.environ.get("THINK_DEBUG"):
            raise
        hint = f" ({exc.hint})" if exc.hint else ""
        print(f"Error: {exc.message}{hint}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
