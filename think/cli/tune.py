"""`think tune`: measure this machine and write a profile with its fastest settings; with
--data, parse the options, fit with think.fit and write what it returns."""

from __future__ import annotations

from typing import Annotated

import typer

from think.cli.common import ModelOption
from think.errors import UsageError


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
    """`think tune --data`: check the options, fit (think.fit), write the profile, print."""
    import sys
    from pathlib import Path

    from think.cli.common import float_list, int_list
    from think.fit import fit_profile
    from think.tune import profile_target, write_profile

    profile_target(name, force)  # refuse before the long recording, not after
    check_fit_options(data, min_p, recording, held_out_file)
    cap_list = sorted(set(int_list(caps, "--caps")))
    budget_list = sorted(set(int_list(budgets, "--budgets", most=100)))
    temperature_list = float_list(temperatures, "--temperatures")

    def step(text: str) -> None:
        print(f"tune: {text}", file=sys.stderr, flush=True)

    fitted = fit_profile(Path(data), name, model, base, samples=samples, caps=cap_list,
                         temperatures=temperature_list, budgets=budget_list, limit=limit,
                         refine_check=refine_check, seed=seed,
                         recording=Path(recording) if recording else None,
                         held_out=Path(held_out_file) if held_out_file else None,
                         min_p=min_p, programs=programs, step=step)
    path, backup = write_profile(name, fitted.text, force)
    print("\n".join(fitted.table))
    if backup:
        print(f"kept the old profile as {backup}")
    print(f"wrote {path}; use it with --profile {name} or `think profiles use {name}`")
    if held_out_file:
        print(f"check it with real solves on the held-out questions: think bench accuracy "
              f"{held_out_file} --budgets {budget_list[0]},{budget_list[-1]} -p {name}")


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
