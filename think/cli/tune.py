"""`think tune`: measure this machine and write a profile with its fastest settings."""

from __future__ import annotations

from typing import Annotated

import typer

from think.cli.common import ModelOption


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
