"""`think profiles`: list, show, path, validate, new and use profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from think.cli.common import complete_profiles, print_json
from think.errors import ConfigError, UsageError

app = typer.Typer(no_args_is_help=True, help="Profiles: how budgets are spent on a machine.")

SHOW_BUDGETS = (1, 2, 4, 8, 12, 20, 100)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _description(file: Path) -> str:
    """A profile file's description, read without validating it (a list shows broken ones)."""
    import yaml

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    return str(data.get("description") or "") if isinstance(data, dict) else ""


@app.command("list")
def list_profiles(json: JsonOption = False) -> None:
    """Shipped and user profiles, where each lives, and which one is active."""
    from think import paths
    from think.config import active_profile_name, profile_dirs

    active = active_profile_name()
    user_dir = paths.user_profiles_dir()
    rows: dict[str, list[tuple[str, Path]]] = {}
    for directory in profile_dirs():
        if directory.is_dir():
            for file in sorted(directory.glob("*.yaml")):
                kind = "user" if directory == user_dir else "shipped"
                rows.setdefault(file.stem, []).append((kind, file))
    if json:
        print_json([{"name": name, "source": str(rows[name][-1][1]),
                     "description": _description(rows[name][-1][1]), "active": name == active}
                    for name in sorted(rows)])
        return
    for name in sorted(rows):
        mark = "*" if name == active else " "
        kind, file = rows[name][-1]
        where = f"{kind}: {file}" + (" (overrides the shipped one)" if len(rows[name]) > 1
                                     else "")
        print(f"{mark} {name:<16} {where}")
    print(f"active: {active} (--profile, THINK_PROFILE or `think profiles use`); "
          f"user profiles go in {user_dir}")


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Profile name or YAML file.",
                                            autocompletion=complete_profiles)],
         json: JsonOption = False) -> None:
    """The profile's YAML and the plans it gives for a few budgets (--json: the profile as
    think reads it, every default filled in)."""
    from think.config import load_profile
    from think.planning.budget import make_plan
    from think.tune import TYPICAL_PROMPTS
    from think.ui.describe import describe_plan

    profile = load_profile(name)
    if json:
        print_json(profile.model_dump(mode="json"))
        return
    print(f"# {profile.source}")
    print(Path(profile.source).read_text().rstrip())
    print("\n# plans on a GSM8K-size question:")
    for budget in SHOW_BUDGETS:
        print(f"#   {describe_plan(make_plan(profile, budget, TYPICAL_PROMPTS, 32768))}")


@app.command("path")
def path(name: Annotated[str | None, typer.Argument(
        help="A profile name.", autocompletion=complete_profiles)] = None) -> None:
    """The file of a profile, or the folder for user profiles."""
    from think import paths
    from think.config import load_profile

    print(load_profile(name).source if name else paths.user_profiles_dir())


@app.command("validate")
def validate(file: Annotated[str, typer.Argument(help="A profile YAML file.")]) -> None:
    """Check a profile file; errors name the field and the line."""
    from think.config import load_profile_file

    target = Path(file)
    if not target.is_file():
        raise UsageError(f"profile file not found: {target}", "give an existing YAML file")
    profile = load_profile_file(target)
    print(f"{target}: valid profile '{profile.name}' with {len(profile.stages)} stages")


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="Name of the new user profile.")],
    source: Annotated[str, typer.Option("--from", help="Profile to copy.",
                                        autocompletion=complete_profiles)] = "default",
    force: Annotated[bool, typer.Option(help="Replace an existing profile (kept as .bak).")]
    = False,
) -> None:
    """Copy a profile into the user config directory, to edit."""
    from think.config import load_profile
    from think.tune import write_profile

    original = load_profile(source)
    text = Path(original.source).read_text()
    written, backup = write_profile(name, f"# Copied from {original.source}\n{text}", force)
    if backup:
        print(f"kept the old one as {backup}")
    print(written)


@app.command("use")
def use(name: Annotated[str, typer.Argument(help="Profile to use by default.",
                                           autocompletion=complete_profiles)]) -> None:
    """Make a profile the default (THINK_PROFILE and --profile still win)."""
    from think.config import load_profile, save_setting

    profile = load_profile(name)
    if "/" in name or name.endswith((".yaml", ".yml")):
        raise ConfigError("`use` takes a profile name, not a file",
                          "copy the file into the profiles folder first (`think profiles path`)")
    print(f"default profile: {profile.name} (saved in {save_setting('profile', name)})")
