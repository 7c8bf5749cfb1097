"""The Python API under the CLI: `think.solve(question, budget=20, ...)` -> Result.

Scripts and other frameworks call this directly; the CLI only parses and renders.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from think import history
from think.config import Profile, load_profile
from think.engine import registry
from think.engine.base import Engine, PromptFormat, TextEstimator, prompted
from think.engine.remote_call import bill_of, server_usage
from think.errors import Interrupted, ThinkError, UsageError, option
from think.events import EventHandler
from think.models import ModelSpec, on_server, resolve
from think.planning.budget import Budget, Plan, PromptCosts
from think.planning.predict import timed_plan
from think.result import Result
from think.strategies import registry as strategies
from think.strategies.adaptive import Adaptive
from think.strategies.confidence import VoteRule
from think.strategies.solver import Run
from think.strategies.verify import CodeCheck
from think.tasks.extract import FINAL_CUE, TASKS, detect_task
from think.tasks.prompts import Prompts

DEFAULT_BUDGET = 8
MIN_ANSWER_ROOM = 64  # tokens a question must leave free in the context for any answer



@dataclass(frozen=True)
class Setup:
    """Everything a run needs before the first token: question, task, profile, model."""

    question: str
    task: str
    task_detected: bool
    profile: Profile
    model: ModelSpec


def prepare(question: str, profile: str | Profile | None = None, model: str | None = None,
            task: str = "auto", locate_model: bool = True, server: str | None = None) -> Setup:
    """Validate the question and task, load the profile and find the model.

    With a server URL (or a profile `engine:`), the model is the name the server serves.
    """
    text = question.strip()
    if not text:
        raise UsageError("the question is empty", "give a question as an argument or on stdin")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, as a shell passes them through
        raise UsageError("the question is not UTF-8 text", "give the question as UTF-8 text"
                         ) from None
    if task not in ("auto", *TASKS):
        raise UsageError(f"unknown task '{task}'", f"use one of: auto, {', '.join(TASKS)}")
    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    detected = task == "auto"
    url = server or (chosen.engine.url if chosen.engine else None)
    if url:
        spec = on_server(url, model or (chosen.engine.model if chosen.engine else None) or None,
                         chosen.engine)
    else:
        spec = resolve(model, locate=locate_model)
    return Setup(text, detect_task(text) if detected else task, detected, chosen, spec)


def uses_server(profile: str | None, server: str | None) -> bool:
    """Whether runs decode on a server (which can take several questions at once)."""
    return bool(server) or load_profile(profile).engine is not None


def estimator(setup: Setup) -> TextEstimator:
    """Token counts from text length, for planning without loading the model."""
    context = setup.profile.load.sequence_context(setup.model.context)
    return TextEstimator(setup.model.name, context, setup.model.format, setup.model.rules)


def prompt_costs(setup: Setup, engine: PromptFormat | None = None) -> tuple[PromptCosts, int]:
    """Token counts of the prompts and the model's context; refuses a question that cannot fit.

    With no engine, prompt sizes are estimated from their text.
    """
    counter = engine or estimator(setup)
    prompts = Prompts(counter, setup.question, setup.task)
    # What a forced sample reads beyond its cap: the cue, and for a reasoning model the
    # block's closing before it (a BOS counted only adds room).
    reasoning = counter.rules.reasoning
    forced = reasoning.closing(FINAL_CUE, forced=True) if reasoning else f"\n{FINAL_CUE}"
    costs = PromptCosts(counter.count_tokens(prompts.direct()), counter.count_tokens(prompts.cot()),
                        counter.count_tokens(prompts.round_overhead()),
                        cue=counter.count_tokens(forced),
                        program=counter.count_tokens(prompts.program()))
    if costs.cot + MIN_ANSWER_ROOM > counter.context:
        raise UsageError(f"the question takes about {costs.cot} tokens with its prompt, more than "
                         f"the model's context of {counter.context}",
                         "shorten the question or use a model with a longer context")
    return costs, counter.context


def plan_for(setup: Setup, budget: int, engine: PromptFormat | None = None,
             early_stop: bool | None = None) -> Plan:
    """The plan a budget maps to, with predicted seconds when the profile has speeds."""
    costs, context = prompt_costs(setup, engine)
    return timed_plan(setup.profile, budget, costs, context, early_stop)


def check_time_limit(max_seconds: float | None, budget: Budget) -> None:
    """Refuse a --max-seconds no run can keep: not a finite time above 0, or with auto."""
    if max_seconds is None:
        return
    if not math.isfinite(max_seconds) or max_seconds <= 0:
        raise UsageError(f"{option('max_seconds')} {max_seconds:g} is not a positive time",
                         "give a number of seconds above 0")
    if budget.adaptive:
        raise UsageError(f"{option('max_seconds')} works with a fixed budget",
                         f"give {option('budget')} 1..100")


@dataclass(frozen=True)
class RunRequest:
    """A solve checked before any model loads: its setup, budget and limits. `--plan` and
    the run both start from one, so they plan alike and refuse alike."""

    setup: Setup
    budget: Budget
    max_seconds: float | None = None
    early_stop: bool | None = None
    tests: str | None = None
    sandbox: str = "auto"


def prepare_run(question: str, budget: Budget | int | str = DEFAULT_BUDGET,
                profile: str | Profile | None = None, model: str | None = None,
                task: str = "auto", server: str | None = None,
                max_seconds: float | None = None, early_stop: bool | None = None,
                tests: str | None = None, sandbox: str | None = None,
                locate_model: bool = True) -> RunRequest:
    """Check everything about a solve that needs no model: the one path into a run."""
    chosen = Budget.of(budget)
    check_time_limit(max_seconds, chosen)
    if sandbox not in (None, "auto", "guard", "none"):
        raise UsageError(f"unknown sandbox '{sandbox}'", "use one of: auto, guard, none")
    setup = prepare(question, profile, model, task, locate_model=locate_model, server=server)
    if tests and chosen.adaptive:
        raise UsageError(f"{option('tests')} works with a fixed budget",
                         f"give {option('budget')} 1..100")
    if tests and setup.task != "code":
        raise UsageError(f"tests were given for a {setup.task} question, and only code is "
                         "tested", f"pass {option('task')} code, or leave out {option('tests')}")
    setting = sandbox or setup.profile.sandbox
    stage = None if chosen.adaptive else setup.profile.stage_for(chosen.units)
    if stage is not None:  # the stage's strategy refuses what it cannot do, before a load
        strategies.before_load(stage, task=setup.task, sandbox=setting,
                               profile=setup.profile.name, model=setup.model.name,
                               prompt_format=setup.model.format)
    return RunRequest(setup, chosen, max_seconds, early_stop, tests, setting)


def plan_run(request: RunRequest, engine: PromptFormat | None = None) -> Plan:
    """The plan of a fixed-budget run: cut to --max-seconds when one is given. With no
    engine, prompt sizes are estimated from their text (`--plan` loads no model)."""
    setup, units = request.setup, request.budget.units
    if request.max_seconds is not None:
        return fit_to_time(setup, units, request.max_seconds, engine, request.early_stop)
    return plan_for(setup, units, engine, request.early_stop)


def fit_to_time(setup: Setup, budget: int, max_seconds: float, engine: PromptFormat | None = None,
                early_stop: bool | None = None) -> Plan:
    """The largest budget up to `budget` whose predicted time fits; the plan says if it was cut."""
    costs, context = prompt_costs(setup, engine)
    plan = timed_plan(setup.profile, budget, costs, context, early_stop)
    if plan.predicted_seconds is None:
        note = (f"no measured speeds in this profile (run `think tune`): the plan is not cut, "
                f"the run stops drawing samples after {max_seconds:g} s")
        return replace(plan, notes=plan.notes + (note,))
    fitted = plan
    while fitted.budget > 1 and (fitted.predicted_seconds or 0) > max_seconds:
        fitted = timed_plan(setup.profile, fitted.budget - 1, costs, context, early_stop)
    if fitted.budget < budget:
        note = f"cut from budget {budget} to {fitted.budget} to fit {max_seconds:g} s"
        fitted = replace(fitted, notes=fitted.notes + (note,))
    return fitted


def load_engine(spec: ModelSpec, profile: Profile, verbose: bool = False) -> Engine:
    """The engine for a model, through the engine registry (loaded once per process)."""
    return registry.load(spec, profile, verbose)


def solve_adaptive(setup: Setup, budget: int, engine: Engine | None, seed: int | None,
                   on_event: EventHandler | None, verbose: bool) -> Result:
    """--budget auto[:MAX]: the profile's ladder, escalating while the answer is unsettled."""
    if engine is not None:
        ladder: list[tuple[str, Callable[[], Engine]]] = [(engine.name, lambda: engine)]
    else:
        names = setup.profile.auto.models or [setup.model.name]
        specs = [setup.model if name == setup.model.name else resolve(name) for name in names]
        ladder = [(spec.name, partial(load_engine, spec, setup.profile, verbose))
                  for spec in specs]

    def prompt_tokens(runner: Engine) -> tuple[int, int]:
        costs, _ = prompt_costs(setup, runner)
        return costs.cot, costs.round_overhead

    return Adaptive(question=setup.question, task=setup.task, task_detected=setup.task_detected,
                    profile=setup.profile, budget=budget, engines=ladder,
                    prompt_tokens=prompt_tokens,
                    seed=secrets.randbelow(2**31) if seed is None else seed,
                    emit=on_event or (lambda event: None)).solve()


def solve(question: str, budget: Budget | int | str = DEFAULT_BUDGET, *,
          profile: str | Profile | None = None, model: str | None = None, task: str = "auto",
          seed: int | None = None, on_event: EventHandler | None = None,
          early_stop: bool | None = None, engine: Engine | None = None, verbose: bool = False,
          max_seconds: float | None = None, tests: str | None = None,
          code_prefix: str = "", server: str | None = None,
          sandbox: str | None = None, log: bool | None = None) -> Result:
    """Spend about `budget` times the compute of a direct answer on a question.

    `engine` replaces the model (tests and other back ends); `on_event` hears every event;
    `max_seconds` cuts the plan to the predicted time and stops the run when time is up;
    `tests` (code tasks) are run against each candidate program, after `code_prefix`;
    `sandbox` (auto, guard, none; default the profile's) says how code may run;
    `log` False keeps the run out of the history (`think logs`), None does as the setting says.
    """
    started = time.monotonic()
    request = prepare_run(question, budget, profile, model, task, server, max_seconds,
                          early_stop, tests, sandbox, locate_model=engine is None)
    return run(request, started, engine, seed, on_event, verbose, code_prefix, log)


def run(request: RunRequest, started: float, engine: Engine | None = None,
        seed: int | None = None, on_event: EventHandler | None = None, verbose: bool = False,
        code_prefix: str = "", log: bool | None = None) -> Result:
    """Carry out a prepared request; `started` is when its --max-seconds began to count.
    The run goes into the history unless `log` is False (None: as `think logs on/off` says);
    a history that cannot be written is a warning on stderr, never a failed run."""
    kind = type(engine).__name__ if engine is not None else registry.kind_for(request.setup.model)
    try:
        result = carry_out(request, started, engine, seed, on_event, verbose, code_prefix)
    except ThinkError as exc:  # Ctrl-C, SIGTERM or a failure: the question is kept all the same
        setup = request.setup
        status = "interrupted" if isinstance(exc, Interrupted) else f"error: {exc.message}"
        best = exc.best_answer if isinstance(exc, Interrupted) else None
        row = history.unfinished_row(setup.question, setup.task, setup.model.name,
                                     setup.profile.name, str(request.budget), kind,
                                     time.monotonic() - started, status, best)
        history.log_row(lambda: row, log)
        raise
    history.log_run(result, str(request.budget), kind, time.monotonic() - started, log)
    return result


def carry_out(request: RunRequest, started: float, engine: Engine | None, seed: int | None,
              on_event: EventHandler | None, verbose: bool, code_prefix: str) -> Result:
    """The run itself: adaptive, or the fixed plan through the solver."""
    setup = request.setup
    if request.budget.adaptive:
        done = solve_adaptive(setup, request.budget.units, engine, seed, on_event, verbose)
        done.prompt_format, done.chat_template = setup.model.format, setup.model.template
        return done
    runner = engine or load_engine(setup.model, setup.profile, verbose)
    verifier = runner
    if setup.profile.verifier and engine is None:
        verifier = load_engine(resolve(setup.profile.verifier), setup.profile, verbose)
    limit = request.max_seconds
    before = bill_of(runner)
    result = Run(question=setup.question, task=setup.task, task_detected=setup.task_detected,
               plan=plan_run(request, runner), engine=runner, verifier=verifier,
               seed=secrets.randbelow(2**31) if seed is None else seed,
               emit=on_event or (lambda event: None), profile=setup.profile.name,
               deadline=started + limit if limit is not None else None,
               check=CodeCheck(request.tests, "given", code_prefix, sandbox=request.sandbox)
               if request.tests else None, sandbox=request.sandbox,
               rule=VoteRule.of(setup.profile),
               stage=setup.profile.stage_for(request.budget.units)).solve()
    result.prompt_format, result.chat_template = prompted(runner)
    result.compute.server_usage = server_usage(runner, before)  # the server's, beside think's
    return result
