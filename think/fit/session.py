"""One whole fit, callable from Python: record (or reuse) both halves of the questions, fit
the stages on one half, compare with the base profile on the other, render the profile.

`think tune --data` parses its options, calls `fit_profile`, writes and prints what it
returns; nothing here prints or writes a profile (progress and notes go to `step`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from think.errors import UsageError

if TYPE_CHECKING:
    from think.config import Profile
    from think.engine.base import Engine
    from think.fit.record import Half
    from think.tasks.datasets import DatasetQuestion


@dataclass(frozen=True)
class Fitted:
    """A fitted profile, its held-out table, and the profile's YAML text with the table."""

    profile: Profile
    table: list[str]
    text: str


def fit_profile(data: Path, name: str, model: str | None = None, base: str = "default", *,
                samples: int = 16, caps: list[int], temperatures: list[float],
                budgets: list[int], limit: int | None = None, refine_check: int = 20,
                seed: int = 0, recording: Path | None = None, held_out: Path | None = None,
                min_p: float | None = None, programs: int | None = None,
                step: Callable[[str], None] = lambda text: None) -> Fitted:
    """Fit profile `name` to the questions in `data` (question/answer JSONL) on `model`,
    keeping the budget shape of profile `base`; caps and budgets sorted, without repeats."""
    from think import api
    from think.config import load_profile
    from think.fit.choice import fit, fitted_profile
    from think.fit.record import split
    from think.fit.replay import Solver
    from think.fit.report import compare, format_table, render
    from think.fit.store import kept_or_recorded, questions_digest
    from think.models import resolve
    from think.tasks.datasets import load_items

    items = load_items(data, limit, seed)
    if len(items) < 4:
        raise UsageError(f"{data} holds {len(items)} questions; a fit needs at least 4",
                         "give more questions (half fit, half held out)")
    shape = load_profile(base)
    own_min_p = shape.min_p
    if min_p is not None:
        shape = shape.model_copy(update={"min_p": min_p})
    engine = api.load_engine(resolve(model), shape)
    temperatures = recorded_temperatures(temperatures, shape, engine.rules.temperature, step)
    program_cap = program_tokens(programs, engine.prompt_format, shape.sandbox, step)

    def solve(profile: Profile, budget: int, item: DatasetQuestion) -> tuple[bool, float]:
        result = api.solve(item.question, budget, profile=profile, engine=engine, task="math",
                           seed=seed, log=False)
        return result.answer is not None and result.answer == item.gold, result.compute.used

    solver: Solver = solve
    fit_half, held_out_half = split(items, seed)
    if held_out:
        write_questions(held_out, held_out_half)
    # Everything the samples depend on: the questions, the model, and how they were drawn.
    settings = {"questions": questions_digest(items), "model": engine.name, "seed": seed,
                "samples": samples, "caps": caps, "temperatures": temperatures,
                "top_k": shape.top_k, "top_p": shape.top_p, "min_p": shape.min_p,
                "answer_tokens": shape.answer_tokens, "direct_tokens": shape.direct_tokens,
                "programs": program_cap}
    recorded = kept_or_recorded(recording, settings, step, *recorders(
        engine, [fit_half, held_out_half], caps, temperatures, samples, shape, seed,
        program_cap, step))
    step("scoring the shapes on the fit half")
    result = fit(shape, recorded[0], budgets, samples, solver, refine_check)
    fitted = fitted_profile(shape, result, samples, name)
    step("comparing on the held-out half")
    table = format_table(compare(shape, fitted, recorded[1], budgets, solver,
                                 refine_check), shape.name, result)
    if shape.min_p != own_min_p:  # the base column is not quite the base as it samples
        table.append(f"{shape.name} is replayed on the samples drawn at min-p {shape.min_p:g} "
                     f"(its own min-p is {own_min_p:g})")
    text = render(fitted, table, f"{data.name}, {len(items)} questions, {engine.name}")
    return Fitted(fitted, table, text)


def recorders(engine: Engine, halves: list[list[DatasetQuestion]], caps: list[int],
              temperatures: list[float], samples: int, shape: Profile, seed: int,
              program_cap: int, step: Callable[[str], None]
              ) -> tuple[Callable[[], list[Half]], Callable[[list[Half]], None]]:
    """What records both halves afresh, and what adds programs to halves kept without them."""
    from think.fit.record import record_half, record_programs

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


def program_tokens(asked: int | None, prompt_format: str, sandbox_setting: str,
                   step: Callable[[str], None]) -> int:
    """The token cap programs are recorded at: as asked, else 48 (one expression of a base
    model) or 256 (a chat model's fenced program); 0 where no sandbox could run them."""
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
        step(f"program stages are not recorded: {reason} ({fix} to fit them)")
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


def recorded_temperatures(asked: list[float], base: Profile, model_temperature: float | None,
                          step: Callable[[str], None]) -> list[float]:
    """The temperatures votes are recorded at: those asked for, plus the base profile's (its
    column of the report replays it as it samples). A model whose card sets its own
    temperature is sampled at that one only, whatever a profile says."""
    if model_temperature is not None:
        step(f"note: the model's own rules sample at temperature {model_temperature:g}; "
             "votes are recorded at that one only")
        return [model_temperature]
    return sorted({*asked, base.temperature})
