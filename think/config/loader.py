"""Reading YAML config files strictly: safe_load, then validation whose errors name the file,
the line and the field, and list the allowed fields for an unknown key.

A file is parsed once a process while it stays as it was: `think batch` prepares every
question alike, and parsing the profile and the model registry again for each was most of
the time it spent before the engine.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import ValidationError

from think.config.schema import Strict
from think.config.vote import as_written
from think.errors import ConfigError
from think.shared_files import write_atomically

# What each file held when last parsed, under what its stat said then.
_parsed: dict[Path, tuple[tuple[int, int, int], Any]] = {}


def read_yaml(path: Path) -> Any:
    """The YAML data of a file: a copy of what was parsed before when its modification time,
    size and inode are unchanged (the caller may change it), else parsed afresh."""
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a YAML file", "remove or rename the folder")
    try:
        # Stat, then read: a change made between the two is seen by the next call.
        seen = os.stat(path)
        stamp = (seen.st_mtime_ns, seen.st_size, seen.st_ino)  # an atomic replace: a new inode
        cached = _parsed.get(path)
        if cached is not None and cached[0] == stamp:
            return copy.deepcopy(cached[1])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}",
                          "check the path and permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "save the file as UTF-8 YAML") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read", "fix the YAML") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{line}: {problem}", "fix the YAML syntax") from None
    _parsed[path] = (stamp, data)
    return copy.deepcopy(data)


def _allowed_fields(model: type[Strict], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The field names allowed where an unknown key was found."""
    keyed = False  # the part is a key of a dict field (an entry's name), not a field name
    for part in loc[:-1]:
        data = _child(data, part)
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        annotation = model.model_fields[str(part)].annotation
        keyed = get_origin(annotation) is dict
        model = _model_in(annotation) or model
    # A stage's fields are those of its strategy's settings, picked by the data.
    return [name for name in model.variant_for(data).model_fields if name != "source"]


def _model_in(annotation: Any) -> type[Strict] | None:
    """The config model a field holds: itself, or inside a list, dict, Optional or Annotated."""
    if get_origin(annotation) is None and isinstance(annotation, type) \
            and issubclass(annotation, Strict):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _child(data: Any, part: Any) -> Any:
    """The value at one step of an error's location in the data read (None if not there)."""
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None


def _line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The line of the YAML file where the field at `loc` is written, when it is there."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _validation_message(model: type[Strict], path: Path, data: Any,
                        exc: ValidationError) -> str:
    first = exc.errors()[0]
    first["loc"] = as_written(tuple(first["loc"]), data)
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        allowed = _allowed_fields(model, tuple(first["loc"]), data)
        message = f"unknown field; allowed: {', '.join(allowed)}"
    line = _line_of(path, tuple(first["loc"]))
    where = f"{path}, line {line}" if line else str(path)
    return f"{where}: field '{field}': {message}{more}"


def validate(model: type[Strict], path: Path, data: Any, **extra: Any) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level",
                          "see the shipped files for the format")
    data = {**data, **extra}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_validation_message(model, path, data, exc),
                          "see the shipped files for the format") from None


def write_yaml(path: Path, data: dict[str, Any], sort_keys: bool = True) -> Path:
    """Write a user config file atomically (parallel runs read it); a failure says where."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, yaml.safe_dump(data, sort_keys=sort_keys))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}",
                          "check that the config directory is writable") from None
    return path
