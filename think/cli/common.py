"""Pieces every command shares: option types, reading input, writing reports."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from think.errors import ThinkError, UsageError
from think.json_text import json_line
from think.numbers import decimal_number, shown, whole_number


def complete_profiles(incomplete: str) -> list[str]:
    """Profile names for shell completion: the shipped and the user's profile files."""
    from think import paths

    try:
        folders = [paths.shipped("profiles"), paths.user_profiles_dir()]
        names = {file.stem for folder in folders if folder.is_dir()
                 for file in folder.glob("*.yaml")}
    except (OSError, UsageError):  # completion offers nothing rather than fail in the shell
        return []
    return sorted(name for name in names if name.startswith(incomplete))


def complete_models(incomplete: str) -> list[str]:
    """Model names for shell completion: models.yaml's, shipped and the user's. Read as
    plain YAML, since a keypress should not pay for the registry's validation."""
    import yaml

    from think import paths

    names: set[str] = set()
    try:
        for file in (paths.shipped("models.yaml"), paths.user_models_file()):
            data = yaml.safe_load(file.read_text(encoding="utf-8")) if file.is_file() else None
            models = data.get("models") if isinstance(data, dict) else None
            names.update(str(name) for name in models or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, UsageError):
        pass  # a broken file is for `think doctor` to report; completion offers what it has
    return sorted(name for name in names if name.startswith(incomplete))


ModelOption = Annotated[str | None, typer.Option(
    "--model", "-m", metavar="NAME|FILE", help="Model name from models.yaml or a .gguf file.",
    show_default=False, autocompletion=complete_models)]
EngineOption = Annotated[str | None, typer.Option(
    "--engine", metavar="URL", help="An OpenAI-compatible server to decode on (llama-server, "
    "vLLM, SGLang, Ollama); --model names the model it serves.", show_default=False)]
ProfileOption = Annotated[str | None, typer.Option(
    "--profile", "-p", metavar="NAME|FILE",
    help="Profile name or YAML file (default: THINK_PROFILE or 'default').",
    show_default=False, autocompletion=complete_profiles)]


def read_text_file(name: str, what: str) -> str:
    """A UTF-8 text file named on the command line."""
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}", "give an existing file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}",
                         "give a UTF-8 text file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not UTF-8 text", "give a UTF-8 text file") from None


@contextmanager
def questions_stream(name: str) -> Iterator[BinaryIO]:
    """The bytes of a questions file named on the command line, or of stdin for '-' (read
    to its end, a terminal's too, as other tools read '-')."""
    shown_name = "stdin" if name == "-" else f"questions file {name}"
    try:
        if name == "-":
            if sys.stdin is None:
                raise UsageError("stdin is closed", "name the questions file instead of -")
            yield sys.stdin.buffer
            return
        with Path(name).open("rb") as handle:
            yield handle
    except FileNotFoundError:
        raise UsageError(f"{shown_name} not found", "give an existing file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {shown_name}: {exc.strerror}",
                         "give a UTF-8 text file") from None


def print_json(data: object) -> None:
    print(json_line(data))


def int_list(value: str, name: str, most: int | None = None) -> list[int]:
    """A comma-separated list of whole numbers of 1 or more (and at most `most`)."""
    read = [whole_number(part) for part in value.split(",") if part.strip()]
    numbers = [n for n in read if n is not None]
    if len(numbers) < len(read):
        raise UsageError(f"{name} '{shown(value)}' is not a list of whole numbers",
                         "e.g. 1,4,8,16")
    if not numbers or min(numbers) < 1:
        raise UsageError(f"{name} '{value}' must list numbers of 1 or more", "e.g. 1,4,8,16")
    if most is not None and max(numbers) > most:
        raise UsageError(f"{name} '{value}' goes past {most}", f"use numbers from 1 to {most}")
    return numbers


def float_list(value: str, name: str, low: float = 0.0, high: float = 2.0) -> list[float]:
    """A comma-separated list of numbers above `low` and at most `high` (temperatures)."""
    read = [decimal_number(part) for part in value.split(",") if part.strip()]
    numbers = sorted({round(n, 3) for n in read if n is not None})
    if None in read:
        raise UsageError(f"{name} '{shown(value)}' is not a list of numbers", "e.g. 0.3,0.7")
    if not numbers or numbers[0] <= low or numbers[-1] > high:
        raise UsageError(f"{name} '{value}' must list numbers above {low:g} and at most "
                         f"{high:g}", "e.g. 0.3,0.7")
    return numbers


def check_out_path(option: str, out: str | None, inputs: tuple[str, ...] = (),
                   keep_existing: bool = False) -> None:
    """Refuse an output path before a long run rather than after it: a folder, one of the
    run's input files, or (keep_existing) a file that already holds something."""
    if not out:
        return
    path = Path(out)
    hint = f"choose another {option} path"
    if path.is_dir():
        raise UsageError(f"{option} {out} is a folder", f"{hint}, a file name")
    if any(Path(given).exists() and path.resolve() == Path(given).resolve() for given in inputs):
        raise UsageError(f"{option} {out} is the input file", hint)
    if keep_existing and path.exists() and path.stat().st_size:
        raise UsageError(f"{option} {out} exists", f"remove it or {hint}")


def write_json(data: object, out: str | None, kind: str) -> str:
    """Write a report's JSON where asked, else into the cache directory; returns the path."""
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
