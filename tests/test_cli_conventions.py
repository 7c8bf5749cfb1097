"""The conventions of other command-line tools, as a user meets them: `-h` is `--help`."""

from __future__ import annotations

import pytest
import typer

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
