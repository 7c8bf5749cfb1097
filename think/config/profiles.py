"""Profiles by name or path: shipped profiles first, the user's override them by name."""

from __future__ import annotations

from pathlib import Path

from think import paths
from think.config.loader import read_yaml, validate
from think.config.schema import Profile
from think.config.settings import active_profile_name
from think.errors import UsageError, unknown_name


def profile_dirs() -> list[Path]:
    """Profile directories, lowest priority first."""
    return [paths.shipped("profiles"), paths.user_profiles_dir()]


def profile_files() -> dict[str, Path]:
    """Known profile names and the file that wins for each."""
    found: dict[str, Path] = {}
    for directory in profile_dirs():
        if directory.is_dir():
            for file in sorted(directory.glob("*.yaml")):
                found[file.stem] = file
    return found


def load_profile_file(path: Path) -> Profile:
    """Load and validate one profile file."""
    data = read_yaml(path)
    name = data.get("name", path.stem) if isinstance(data, dict) else path.stem
    return validate(Profile, path, data, name=name, source=str(path))


def load_profile(name_or_file: str | None = None) -> Profile:
    """A profile by name (user first, then shipped) or by path to a YAML file."""
    choice = active_profile_name(name_or_file)
    if choice.endswith((".yaml", ".yml")) or "/" in choice:
        path = Path(choice).expanduser()
        if not path.is_file():
            raise UsageError(f"profile file not found: {path}", "give an existing YAML file")
        return load_profile_file(path)
    known = profile_files()
    if choice not in known:
        raise unknown_name("profile", choice, known,
                           "see `think profiles list`, or give a YAML file")
    return load_profile_file(known[choice])
