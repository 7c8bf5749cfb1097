"""A third-party strategy, as a real installed distribution: a package that declares a
`think.strategies` entry point adds a strategy a profile can use, with no edit to think."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.plugin_package import install_plugin

import think
from think.engine.scripted import ScriptedEngine
from think.strategies import registry

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "think-twice"
version = "0.1"

[project.entry-points."think.strategies"]
twice = "think_twice:strategy"
"""

MODULE = '''\
"""Two chains of thought and a vote: a think strategy from outside think."""
from think.config import StageSettings


class TwiceStage(StageSettings):
    """A twice stage sets nothing beyond where it starts."""


class Twice:
    name, settings, words = "twice", TwiceStage, "thinking twice"

    def plan(self, stage, sizing):
        return sizing.chains(samples=2)

    def run(self, run):
        run.sample_and_vote()


strategy = Twice()
'''

PROFILE = "stages:\n  - {from_budget: 1, strategy: direct}\n  - {from_budget: 2, strategy: twice}\n"
QUESTION = "What is 2+2?"
BUILT_INS = {"direct", "cot", "refine", "vote", "program"}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin built and installed by pip into a folder of its own (the target)."""
    return install_plugin(tmp_path_factory, "think_twice", PYPROJECT, MODULE)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return path


def think_command(plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m think ARGS` in a fresh process that has the plugin on its path."""
    env = {**os.environ, "PYTHONPATH": str(plugin)}
    return subprocess.run([sys.executable, "-m", "think", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def installed(plugin: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plugin on this process's path, read afresh by the strategy registry."""
    monkeypatch.syspath_prepend(str(plugin))
    registry.forget()
    yield
    registry.forget()
    sys.modules.pop("think_twice", None)


def test_an_installed_plugin_strategy_plans_from_a_profile(plugin: Path, profile: Path) -> None:
    run = think_command(plugin, "solve", QUESTION, "--plan", "-b", "4", "--profile", str(profile))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("budget 4 -> thinking twice, 2 x ")
    # The built-ins are still there beside it, through the same entry-point group.
    run = think_command(plugin, "solve", QUESTION, "--plan", "-b", "1", "--profile", str(profile))
    assert run.stdout.startswith("budget 1 -> direct answer"), run.stderr


def test_without_the_plugin_its_name_is_an_unknown_strategy(profile: Path, run_cli) -> None:
    run = run_cli("solve", QUESTION, "--plan", "--profile", str(profile))
    assert run.code == 1 and "stages.1.strategy" in run.stderr
    assert "unknown strategy 'twice'" in run.stderr
    # The built-ins are named among the known; another installed plugin may be named too.
    known = re.search(r"known strategies: ([\w, -]+)", run.stderr)
    assert known and BUILT_INS <= {name.strip() for name in known.group(1).split(",")}


def test_a_plugin_strategy_runs_its_plan(installed: None, profile: Path) -> None:
    engine = ScriptedEngine(respond=lambda request, i: " 2 and 2 make 4.\nFinal answer: 4")
    result = think.solve(QUESTION, budget=3, profile=str(profile), engine=engine, seed=1)
    assert result.plan.strategy == "twice" and result.answer == "4"
    assert len(result.samples) == 2 and engine.history[0].n == 2


def test_a_plugin_stage_rejects_fields_it_does_not_have(installed: None, tmp_path: Path,
                                                        run_cli) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.replace("strategy: twice}", "strategy: twice, max_samples: 4}"))
    run = run_cli("solve", QUESTION, "--plan", "--profile", str(path))
    assert f"{path}, line 3: field 'stages.1.max_samples'" in run.stderr
    assert "allowed: from_budget, strategy" in run.stderr


@pytest.mark.real
def test_a_plugin_strategy_answers_on_the_embedded_model(plugin: Path, profile: Path) -> None:
    run = think_command(plugin, "solve", QUESTION, "-b", "2", "--profile", str(profile),
                        "--json", "--seed", "3", "--no-early-stop")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["plan"]["strategy"] == "twice" and result["answer"]
    assert len(result["samples"]) == 2
