"""`think solve`: one question, its plan or its answer, with the live view on stderr."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from think.cli.common import (
    EngineOption,
    ModelOption,
    ProfileOption,
    print_json,
    read_question,
    read_text_file,
)
from think.errors import Interrupted, ThinkError


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
    early_stop: Annotated[bool | None, typer.Option(
        "--early-stop/--no-early-stop", help="Stop sampling once the vote is settled. "
        "Default: the profile's early_stop.", show_default=False)] = None,
    tests: Annotated[str | None, typer.Option(
        "--tests", metavar="FILE", help="Code tasks: Python asserts each candidate must pass.",
        show_default=False)] = None,
    sandbox: Annotated[str | None, typer.Option(
        "--sandbox", metavar="MODE", help="Code tasks: auto (run candidates in the OS sandbox, "
        "else not at all), guard (the weaker in-process guard), none (never run them: code "
        "answers are voted on as text). Default: the profile's.",
        show_default=False)] = None,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", metavar="S", help="Cut the plan to fit S seconds (measured speeds from "
        "`think tune`) and answer when time is up.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show only the answer.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show every sample's text and llama.cpp's log.")] = False,
    no_log: Annotated[bool, typer.Option(
        "--no-log", help="Keep this run out of the history (`think logs`).")] = False,
) -> None:
    """Answer a question, spending about BUDGET times the compute of a direct answer."""
    from think import api
    from think.planning.budget import as_sampled
    from think.ui.describe import describe_plan, prompt_words
    from think.ui.terminal_text import printable

    started = time.monotonic()  # --max-seconds counts from here, as api.solve's does
    text = read_question(question)
    test_code = read_text_file(tests, "tests file") if tests else None
    request = api.prepare_run(text, budget, profile, model, task, engine, max_seconds,
                              early_stop, test_code, sandbox, locate_model=not plan_only)
    if plan_only:
        if request.budget.adaptive:
            print_plan_ladder(request.setup.profile, request.budget.units, as_json)
            return
        plan = api.plan_run(request)
        setup = request.setup
        if as_json:
            print_json({"budget": plan.budget, "task": setup.task, "model": setup.model.name,
                        "prompt_format": setup.model.format,
                        "chat_template": setup.model.template, "context": setup.model.context,
                        "profile": setup.profile.name, "plan": plan.to_dict(),
                        "planned_units": round(plan.planned_units, 2)})
        else:
            print(describe_plan(as_sampled(plan, setup.model.rules)))
            print(printable(f"model {setup.model.name}: "
                            f"{prompt_words(setup.model.format, setup.model.template)}, "
                            f"context {setup.model.context:,} tokens"))
            for note in plan.notes:
                print(printable(f"note: {note}"))
        return
    view = make_view(quiet, verbose)
    try:
        with view:
            result = api.run(request, started, seed=seed, on_event=view, verbose=verbose,
                             log=False if no_log else None)
    except Interrupted as stop:
        if not as_json:
            raise
        # A script reading --json gets JSON even on Ctrl-C, never a bare answer line.
        print_json({"answer": stop.best_answer, "interrupted": True})
        raise Interrupted(None) from None
    if as_json:
        print_json(result.to_dict())
    elif result.answer is not None:
        print(printable(result.answer))  # the model's text: --json keeps it as it was
    if result.answer is None:
        raise ThinkError("the model gave no answer that could be read",
                         "raise the budget or try a stronger model")
