"""The recording `think tune --data --recording FILE` keeps: both halves as recorded, with the
settings they were recorded under, so a later fit (other budgets, another base profile)
replays them instead of drawing for an hour again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from think.errors import UsageError
from think.fit.record import Half
from think.planning.budget import PromptCosts
from think.shared_files import write_atomically
from think.tasks.datasets import DatasetQuestion
from think.tasks.recording import Recording, confidences_of

VERSION = 1


# The setting a kept recording may lack and have added (program stages: the programs' token
# cap, 0 for none), so an hour of recorded chains is not drawn again to fit programs too.
ADDABLE = "programs"


def kept_or_recorded(path: Path | None, settings: dict[str, Any], step: Callable[[str], None],
                     record: Callable[[], list[Half]],
                     add: Callable[[list[Half]], None] | None = None) -> list[Half]:
    """The halves kept in `path` under the same settings, else recorded now (and kept in
    `path` when one is given). A kept recording without programs that are asked for gets
    them from `add`, and is kept again with them."""
    kept = load(path, settings) if path else None
    if kept is None:
        halves = record()
    else:
        halves, kept_settings = kept
        if add is None or not settings.get(ADDABLE) or kept_settings.get(ADDABLE):
            step(f"fitting from the recording kept in {path}")
            return halves
        step(f"adding programs to the recording kept in {path}")
        add(halves)
    if path:
        try:
            save(path, settings, halves)
            step(f"kept the recording in {path}")
        except OSError as exc:  # the fit goes on: an hour of drawing is not thrown away
            step(f"could not keep the recording in {path}: {exc.strerror or exc}")
    return halves


def save(path: Path, settings: dict[str, Any], halves: list[Half]) -> None:
    """Write the halves and their settings; the file appears whole or not at all."""
    document = {"version": VERSION, "settings": settings,
                "halves": [half_data(half) for half in halves]}
    write_atomically(path, json.dumps(document), durable=True)


def load(path: Path, settings: dict[str, Any]) -> tuple[list[Half], dict[str, Any]] | None:
    """The halves kept in `path` and their settings, when it holds a recording under the
    same settings (or the same but for programs it lacks); None when there is no file yet."""
    if not path.exists():
        return None
    hint = "give another --recording path, or the settings it was recorded with"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != VERSION:
            raise ValueError(f"version {document.get('version')}, not {VERSION}")
        kept = dict(document["settings"])
        halves = [half_of(data) for data in document["halves"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path} is not a recording kept by think tune --data ({exc})",
                         hint) from None
    # A recording kept before program stages, or with none, may have them added.
    differ = ", ".join(sorted(k for k in settings.keys() | kept.keys()
                              if settings.get(k) != kept.get(k)
                              and not (k == ADDABLE and not kept.get(k))))
    if differ:
        raise UsageError(f"{path} was recorded with other settings ({differ})", hint)
    return halves, kept


def questions_digest(items: list[DatasetQuestion]) -> str:
    """What identifies the questions a recording was made on (ids, texts, gold answers)."""
    text = json.dumps([[q.id, q.question, q.gold] for q in items])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def half_data(half: Half) -> dict[str, Any]:
    return {"questions": [asdict(q) for q in half.questions], "direct": half.direct,
            "direct_tokens": half.direct_tokens,
            "prompts": [asdict(p) for p in half.prompts],
            "greedy": [[cap, [list(pair) for pair in pairs]]
                       for cap, pairs in half.greedy.items()],
            "chains": [[cap, temperature, [recording_data(r) for r in recordings]]
                       for (cap, temperature), recordings in half.chains.items()],
            "program_cap": half.program_cap,
            "greedy_programs": [list(pair) for pair in half.greedy_programs],
            "programs": [[temperature, [recording_data(r) for r in recordings]]
                         for temperature, recordings in half.programs.items()]}


def recording_data(recording: Recording) -> dict[str, Any]:
    return {"id": recording.id, "gold": recording.gold, "answers": recording.answers,
            "tokens": recording.tokens,
            "confidences": [asdict(c) if c else None for c in recording.confidences]}


def recording_of(data: dict[str, Any]) -> Recording:
    return Recording(str(data["id"]), data["gold"], list(data["answers"]), confidences_of(data),
                     [int(n) for n in data["tokens"]])


def half_of(data: dict[str, Any]) -> Half:
    # A recording kept before program stages has none of their keys: no programs.
    return Half(
        [DatasetQuestion(**q) for q in data["questions"]], list(data["direct"]),
        [int(t) for t in data["direct_tokens"]],
        {(int(cap), float(t)): [recording_of(r) for r in recordings]
         for cap, t, recordings in data["chains"]},
        [PromptCosts(**p) for p in data["prompts"]],
        {int(cap): [(answer, int(tokens)) for answer, tokens in pairs]
         for cap, pairs in data["greedy"]},
        int(data.get("program_cap", 0)),
        [(answer, int(tokens)) for answer, tokens in data.get("greedy_programs", [])],
        {float(t): [recording_of(r) for r in recordings]
         for t, recordings in data.get("programs", [])})
