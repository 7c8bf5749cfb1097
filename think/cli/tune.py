"""`think tune`: measure this machine and write a profile with its fastest settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from think.cli.common import ModelOption
from think.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from think.config import Profile
    from think.engine.base import Engine
    from think.fit_record import Half
    from think.tasks.datasets import DatasetQuestion


def tune(
    name: Annotated[str | None, typer.Option(
        help="Name of the profile to write (default: this machine's name).",
        show_default=False)] = None,
    model: ModelOption = None,
    base: Annotated[str, typer.Option(
        "--from", help="Profile whose budget shape the new one keeps.")] = "default",
    force: Annotated[bool, typer.Option(help="Replace an existing profile (kept as .bak).")]
    = False,
    data: Annotated[str | None, typer.Option(
        "--data", metavar="FILE.jsonl", help="Fit the profile's stages to these questions "
        "(question/answer JSONL, GSM8K format) instead of measuring speeds.",
        show_default=False)] = None,
    samples: Annotated[int, typer.Option(min=2, max=64, help="--data: samples recorded per "
                                         "question at each cap.")] = 16,
    caps: Annotated[str, typer.Option(help="--data: thinking caps to record at.")] = "64,256",
    temperatures: Annotated[str, typer.Option(help="--data: temperatures to record votes "
                                              "at.")] = "0.3,0.7",
    min_p: Annotated[float | None, typer.Option(
        "--min-p", min=0.0, max=1.0, help="--data: record the votes with this "
        "min-p, and write it into the profile (default: the --from profile's).",
        show_default=False)] = None,
    programs: Annotated[int | None, typer.Option(
        min=0, max=4096, metavar="TOKENS", help="--data: also record programs of up to "
        "TOKENS tokens, run in the OS sandbox, so the fit may choose program stages (0: "
        "none; default 48, 256 for a chat model, none without a sandbox).",
        show_default=False)] = None,
    budgets: Annotated[str, typer.Option(help="--data: budgets to fit.")] = "1,2,4,8,16,32",
    limit: Annotated[int | None, typer.Option(min=2, help="--data: a seeded slice of this "
                                              "many questions.", show_default=False)] = None,
    refine_check: Annotated[int, typer.Option(min=0, help="--data: questions solved for "
                                              "real to test refinement (0: never refine).")]
    = 20,
    seed: Annotated[int, typer.Option(help="--data: seed of the split and the samples.")] = 0,
    recording: Annotated[str | None, typer.Option(
        metavar="FILE", help="--data: keep what is recorded in FILE; when FILE holds a "
        "recording under the same settings, fit from it without recording again.",
        show_default=False)] = None,
    held_out: Annotated[str | None, typer.Option(
        "--held-out", metavar="FILE", help="--data: write the held-out questions to FILE "
        "(JSONL), to check the fitted profile with real solves (think bench accuracy).",
        show_default=False)] = None,
) -> None:
    """Measure this machine on a model and write a profile with the fastest settings; with
    --data, fit the profile's stages to your questions instead."""
    if data is not None:
        fit_to_data(data, name or "fitted", model, base, force, samples, caps, temperatures,
                    budgets, limit, refine_check, seed, recording, held_out, min_p, programs)
        return
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


def fit_to_data(data: str, name: str, model: str | None, base: str, force: bool,
                samples: int, caps: str, temperatures: str, budgets: str, limit: int | None,
                refine_check: int, seed: int, recording: str | None,
                held_out_file: str | None = None, min_p: float | None = None,
                programs: int | None = None) -> None:
    """`think tune --data`: record on a fit half and a held-out half, fit, write, compare."""
    import sys
    from pathlib import Path

    from think import api
    from think.cli.common import float_list, int_list
    from think.config import load_profile
    from think.fit import fit, fitted_profile
    from think.fit_record import split as split_items
    from think.fit_replay import Solver
    from think.fit_report import compare, format_table, render
    from think.fit_store import kept_or_recorded, questions_digest
    from think.models import resolve
    from think.tasks.datasets import load_items
    from think.tune import profile_target, write_profile

    profile_target(name, force)  # refuse before the long recording, not after
    check_fit_options(data, min_p, recording, held_out_file)
    cap_list = sorted(set(int_list(caps, "--caps")))
    budget_list = sorted(set(int_list(budgets, "--budgets", most=100)))
    temperature_list = float_list(temperatures, "--temperatures")
    items = load_items(Path(data), limit, seed)
    if len(items) < 4:
        raise UsageError(f"{data} holds {len(items)} questions; a fit needs at least 4",
                         "give more questions (half fit, half held out)")
    shape = load_profile(base)
    own_min_p = shape.min_p
    if min_p is not None:
        shape = shape.model_copy(update={"min_p": min_p})
    engine = api.load_engine(resolve(model), shape)
    temperature_list = recorded_temperatures(temperature_list, shape, engine.rules.temperature)
    program_cap = program_tokens(programs, engine.prompt_format, shape.sandbox)

    def step(text: str) -> None:
        print(f"tune: {text}", file=sys.stderr, flush=True)

    def solve(profile: Profile, budget: int, item: DatasetQuestion) -> tuple[bool, float]:
        result = api.solve(item.question, budget, profile=profile, engine=engine, task="math",
                           seed=seed, log=False)
        return result.answer is not None and result.answer == item.gold, result.compute.used

    solver: Solver = solve
    fit_half, held_out = split_items(items, seed)
    if held_out_file:
        write_questions(Path(held_out_file), held_out)
    kept = Path(recording) if recording else None
    # Everything the samples depend on: the questions, the model, and how they were drawn.
    settings = {"questions": questions_digest(items), "model": engine.name, "seed": seed,
                "samples": samples, "caps": cap_list, "temperatures": temperature_list,
                "top_k": shape.top_k, "top_p": shape.top_p, "min_p": shape.min_p,
                "answer_tokens": shape.answer_tokens, "direct_tokens": shape.direct_tokens,
                "programs": program_cap}
    recorded = kept_or_recorded(kept, settings, step, *recorders(
        engine, [fit_half, held_out], cap_list, temperature_list, samples, shape, seed,
        program_cap, step))
    step("scoring the shapes on the fit half")
    result = fit(shape, recorded[0], budget_list, samples, solver, refine_check)
    fitted = fitted_profile(shape, result, samples, name)
    step("comparing on the held-out half")
    table = format_table(compare(shape, fitted, recorded[1], budget_list, solver,
                                 refine_check), shape.name, result)
    if shape.min_p != own_min_p:  # the base column is not quite the base as it samples
        table.append(f"{shape.name} is replayed on the samples drawn at min-p {shape.min_p:g} "
                     f"(its own min-p is {own_min_p:g})")
    path, backup = write_profile(name, render(fitted, table, f"{Path(data).name}, "
                                              f"{len(items)} questions, {engine.name}"), force)
    print("\n".join(table))
    if backup:
        print(f"kept the old profile as {backup}")
    print(f"wrote {path}; use it with --profile {name} or `think profiles use {name}`")
    if held_out_file:
        print(f"check it with real solves on the held-out questions: think bench accuracy "
              f"{held_out_file} --budgets {budget_list[0]},{budget_list[-1]} -p {name}")


def recorders(engine: Engine, halves: list[list[DatasetQuestion]], caps: list[int],
              temperatures: list[float], samples: int, shape: Profile, seed: int,
              program_cap: int, step: Callable[[str], None]
              ) -> tuple[Callable[[], list[Half]], Callable[[list[Half]], None]]:
    """What records both halves afresh, and what adds programs to halves kept without them."""
    from think.fit_record import record_half, record_programs

    offsets = ((0, "fit half"), (50_000, "held-out half"))

    def add_programs(recorded: list[Half]) -> None:
        for half, (offset, label) in zip(recorded, offsets, strict=True):
            record_programs(engine, half, program_cap, temperatures, samples, shape,
                            seed + offset, shape.sandbox, step, label)

    def record() -> list[Half]:
        recorded = [record_half(engine, half, caps, temperatures, samples, shape,
                                seed + offset, step, label)
                    for half, (offset, label) in zip(halves, offsets, strict=True)]
        if program_cap:
            add_programs(recorded)
        return recorded

    return record, add_programs


def check_fit_options(data: str, min_p: float | None, recording: str | None,
                      held_out_file: str | None) -> None:
    """Refuse a --data run's bad options before anything is loaded or drawn."""
    from pathlib import Path

    from think.cli.common import check_out_path

    if min_p is not None and min_p >= 1:  # typer's bound is inclusive; a profile's is not
        raise UsageError(f"--min-p {min_p:g} would drop every token but the likeliest",
                         "give a min-p under 1, such as 0.1")
    check_out_path("--recording", recording, (data,), keep_existing=False)
    check_out_path("--held-out", held_out_file, (data,), keep_existing=True)
    for option, out in (("--recording", recording), ("--held-out", held_out_file)):
        if out and not Path(out).parent.is_dir():
            raise UsageError(f"{option} {out}: its folder does not exist",
                             "create the folder or choose another path")


def program_tokens(asked: int | None, prompt_format: str, sandbox_setting: str) -> int:
    """The token cap programs are recorded at: as asked, else 48 (one expression of a base
    model) or 256 (a chat model's fenced program); 0 where no sandbox could run them."""
    import sys

    from think import sandbox

    if asked == 0:
        return 0
    if sandbox_setting == "none":  # tune has no --sandbox: this is the profile's setting
        why: tuple[str, str] | None = ("the profile sets `sandbox: none`",
                                       "set `sandbox: auto` in it")
    else:
        why = None if sandbox_setting == "guard" else sandbox.why_no_os_sandbox()
    if why is not None:
        reason, fix = why
        print(f"tune: program stages are not recorded: {reason} ({fix} to fit them)",
              file=sys.stderr)
        return 0
    return asked or (256 if prompt_format == "chat" else 48)


def write_questions(path: Path, items: list[DatasetQuestion]) -> None:
    """The questions as JSONL that --data and think bench accuracy read back."""
    import json

    from think.shared_files import write_atomically

    lines = [json.dumps({"id": item.id, "question": item.question,
                         "answer": f"#### {item.gold}" if item.gold is not None else None})
             for item in items]
    try:
        write_atomically(path, "".join(f"{line}\n" for line in lines))
    except OSError as exc:
        raise UsageError(f"cannot write --held-out {path}: {exc.strerror}",
                         "choose another --held-out path") from None


def recorded_temperatures(asked: list[float], base: Profile, model_temperature: float | None
                          ) -> list[float]:
    """The temperatures votes are recorded at: those asked for, plus the base profile's (its
    column of the report replays it as it samples). A model whose card sets its own
    temperature is sampled at that one only, whatever a profile says."""
    import sys

    if model_temperature is not None:
        print(f"tune: note: the model's own rules sample at temperature {model_temperature:g}; "
              "votes are recorded at that one only", file=sys.stderr)
        return [model_temperature]
    return sorted({*asked, base.temperature})
