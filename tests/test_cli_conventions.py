"""The conventions of other command-line tools, as a user meets them: `-h` is `--help`, and a
mistyped name gets a suggestion."""

from __future__ import annotations

import pytest
import typer
from support.errors import one_error_line

Q = "Sara has 5 cookies and eats 2. How many are left?"


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of `think`, as the words that name it (the root as ())."""
    import click

    from think.cli import app

    found: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, child in getattr(command, "commands", {}).items():
            walk(child, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("path", command_paths(), ids=lambda path: " ".join(path) or "think")
def test_dash_h_shows_the_same_help_as_dash_dash_help(run_cli, path) -> None:
    short, long = run_cli(*path, "-h"), run_cli(*path, "--help")
    assert long.code == 0 and "Usage: think" in long.stdout
    assert (short.code, short.stdout, short.stderr) == (0, long.stdout, long.stderr)


@pytest.mark.parametrize("args, expected", [
    (("--model", "gemma3-207m"), "Error: unknown model 'gemma3-207m'; did you mean gemma3-270m?"),
    (("--model", "Gemma3-270M"), "Error: unknown model 'Gemma3-270M'; did you mean gemma3-270m?"),
    (("--profile", "critque"), "Error: unknown profile 'critque'; did you mean critique?"),
])
def test_a_mistyped_name_gets_one_suggestion(run_cli, args, expected) -> None:
    run = run_cli("solve", Q, "--plan", *args)
    assert run.code == 2 and one_error_line(run.stderr) == expected


@pytest.mark.parametrize("args, fix", [
    (("--model", "zzzz"), "see `think models list`"),
    (("--profile", "zzzz"), "see `think profiles list`"),
])
def test_a_name_like_none_known_gets_where_to_look_not_a_list(run_cli, args, fix) -> None:
    line = one_error_line(run_cli("solve", Q, "--plan", *args).stderr)
    assert fix in line
    assert "qwen" not in line and "cpu-laptop" not in line  # no list of every known name

