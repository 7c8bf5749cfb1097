"""`think models`: list, pull, add, rm, path and use models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from think.cli.common import complete_models
from think.errors import Interrupted, UsageError

ModelName = Annotated[str, typer.Argument(help="A model name.", autocompletion=complete_models)]

app = typer.Typer(no_args_is_help=True, help="Models: the registry, downloads, local files.")


@app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per model, in a list."
                                          )] = False,
) -> None:
    """Every model think knows, and every GGUF model other tools downloaded (Hugging Face
    cache, LM Studio, Ollama): where it is, size, quantization, context, chat or base."""
    from think.models.listing import list_models as rows
    from think.ui.terminal_text import printable

    found = rows()
    if as_json:
        import json

        print(json.dumps([row.to_json() for row in found], indent=2))
        return
    for row in found:
        mark = "*" if row.is_default else " "
        state = ("not downloaded" if not row.installed else
                 "not assembled" if row.path is None else "installed")
        size = f"{row.size_mb} MB" if row.size_mb else ""
        context = f"{row.context // 1024}k" if row.context and row.context >= 1024 else ""
        kind = row.format or ""
        where = f"{row.source}: {row.path}" if row.path else row.source or ""
        print(printable(f"{mark} {row.name:<30} {state:<15} {size:>8}  {row.quant or '':<7} "
                        f"{context:>5}  {kind:<5} {where}"))


@app.command("pull")
def pull(name: Annotated[str, typer.Argument(
        help="A name from `think models list`, ORG/REPO[:QUANT], hf.co/ORG/REPO[:QUANT], "
             "ORG/REPO/FILE.gguf or an Ollama name.", autocompletion=complete_models)]) -> None:
    """Find a model in the local caches, else download it (resumable, SHA-256 checked) into
    the Hugging Face cache."""
    from think.models.store import pull as fetch
    from think.ui.pull_progress import pull_progress

    got = [0]  # bytes on disk so far, for the message if the pull is stopped
    with pull_progress(name) as shown:
        def progress(done: int, total: int | None) -> None:
            got[0] = done
            shown(done, total)

        try:
            path, digest, source = fetch(name, progress, on_wait=shown.waiting)
        except KeyboardInterrupt:
            if got[0]:
                typer.echo(f"stopped with {got[0]:,} bytes kept: `think models pull {name}` "
                           "resumes from there", err=True)
            raise Interrupted(None) from None  # main() exits 130, or 143 for SIGTERM
    print(path)
    if digest:
        typer.echo(f"sha256 {digest}", err=True)
    else:
        typer.echo(f"found in {source}; nothing downloaded", err=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Name to register the model under.")],
    file: Annotated[str, typer.Argument(help="A local .gguf file.")],
    format: Annotated[str | None, typer.Option(
        "--format", help="base or chat (default: chat when the file has a chat template).",
        show_default=False)] = None,
) -> None:
    """Register a local GGUF file, reading its context and chat template from its metadata."""
    from think.engine.llama.model import read_metadata
    from think.models.store import add as register

    target = Path(file).expanduser()
    if not target.is_file():
        raise UsageError(f"model file not found: {target}", "give an existing .gguf file")
    if format not in (None, "base", "chat"):
        raise UsageError(f"unknown format '{format}'", "use base or chat")
    path = register(name, target, format, read_metadata(target))
    print(f"registered '{name}' in {path}")


@app.command("rm")
def rm(name: ModelName) -> None:
    """Delete a downloaded model file and forget a user entry."""
    from think.models.store import remove

    for line in remove(name):
        print(line)


@app.command("path")
def path(name: ModelName) -> None:
    """The model's file on disk."""
    from think.models import resolve

    print(resolve(name).path)


@app.command("use")
def use(name: Annotated[str, typer.Argument(help="Model to use by default.",
                                            autocompletion=complete_models)]) -> None:
    """Make a model the default (THINK_MODEL and --model still win)."""
    from think.config import save_setting
    from think.models import resolve

    resolve(name, locate=False)  # a registry name, or a file, hub or Ollama model found here
    print(f"default model: {name} (saved in {save_setting('model', name)})")
