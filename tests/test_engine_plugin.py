"""A third-party engine, as a real installed distribution: a package that declares a
`think.engines` entry point adds an engine a models.yaml entry names with `engine:`, so
`-m calc` runs on it, with no edit to think (think's own llama and remote are registered
the same way)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.plugin_package import install_plugin

import think
from think import paths, plugins
from think.errors import ConfigError

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "think-calc"
version = "0.1"

[project.entry-points."think.engines"]
calc = "think_calc:engine"
"""

MODULE = '''\
"""An engine that always answers 4: a think engine from outside think."""
from think.engine.scripted import ScriptedEngine


class Calc:
    name = "calc"

    def load(self, spec, profile, verbose):
        return ScriptedEngine(respond=lambda request, i: " 4")


engine = Calc()
'''

MODELS = "models:\n  calc: {engine: calc, format: chat, context: 4096}\n"
QUESTION = "What is 2+2?"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin built and installed by pip into a folder of its own (the target)."""
    return install_plugin(tmp_path_factory, "think_calc", PYPROJECT, MODULE)


@pytest.fixture
def models_entry() -> None:
    path = paths.user_models_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODELS)


@pytest.fixture
def installed(plugin: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(plugin))
    plugins.forget()
    yield
    plugins.forget()
    sys.modules.pop("think_calc", None)


def test_the_built_in_engines_are_registered_as_plugins() -> None:
    assert {"llama", "remote"} <= set(plugins.names(plugins.ENGINES))
    assert plugins.load(plugins.ENGINES, "llama").name == "llama"  # type: ignore[attr-defined]


def test_a_models_entry_runs_on_a_plugin_engine(installed: None, models_entry: None) -> None:
    result = think.solve(QUESTION, budget=1, model="calc", seed=1, log=False)
    assert result.answer == "4"  # the scripted engine the plugin made answered


def test_the_cli_names_the_plugin_engine_by_its_model(plugin: Path, models_entry: None) -> None:
    env = {**os.environ, "PYTHONPATH": str(plugin)}
    run = subprocess.run([sys.executable, "-m", "think", "solve", QUESTION, "-m", "calc",
                          "-b", "1"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "4"


def test_without_the_plugin_its_engine_is_unknown(models_entry: None) -> None:
    with pytest.raises(ConfigError, match="unknown engine 'calc'.*") as error:
        think.solve(QUESTION, budget=1, model="calc", seed=1, log=False)
    assert "llama" in error.value.hint and "remote" in error.value.hint
