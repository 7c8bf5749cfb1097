"""Shared fixtures: every test gets its own THINK_HOME; the embedded model is assembled once."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from think import cli


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One models directory for the session: the packaged GGUF is assembled there once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def think_home(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("THINK_HOME", str(home))
    monkeypatch.setenv("THINK_MODELS_DIR", str(models_dir))
    for name in ("THINK_PROFILE", "THINK_MODEL", "THINK_DEBUG", "HF_TOKEN", "HF_HUB_CACHE",
                 "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    # Models other tools cached on this machine stay out of the tests' sight.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama-models"))
    yield home
    # A run's history row is written on a thread after its answer: it lands (or says why
    # not) within its own test, never in the next one's output.
    writer = sys.modules.get("think.history_writer")
    if writer is not None:
        writer.drain(10)


@dataclass
class CliRun:
    """What one in-process run of the CLI printed and returned."""

    code: int
    stdout: str
    stderr: str


class _TtyStdin(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `think ARGS` in this process, with stdin bytes (or a terminal when None)."""

    def run(*args: str, stdin: bytes | None = None) -> CliRun:
        monkeypatch.setattr(sys, "argv", ["think", *args])
        if stdin is None:
            monkeypatch.setattr(sys, "stdin", _TtyStdin(""))
        else:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliRun(code, out, err)

    return run


@pytest.fixture
def use_engine():
    """Select an engine (or a loader) through the engine registry for the rest of a test."""
    from contextlib import ExitStack

    from think.engine import registry

    with ExitStack() as stack:
        yield lambda engine: stack.enter_context(registry.use(engine))
