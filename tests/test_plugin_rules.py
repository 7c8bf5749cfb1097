"""A strategy that stops and describes itself its own way, a vote rule and an engine, each a
real installed distribution: a profile names the strategy and the rule, a models.yaml entry
the engine, and `think solve` plans, runs, shows and reports them with no edit to think."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.plugin_package import install_plugin

from think import paths


def pyproject(name: str, group: str, entry: str, module: str) -> str:
    return (f'[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
            f'[project]\nname = "{name}"\nversion = "0.1"\n\n'
            f'[project.entry-points."{group}"]\n{entry} = "{module}"\n')


BEST_OF = '''\
"""Best of n: n chains, every one drawn, and the longest chain's answer wins."""
from dataclasses import replace
from typing import Annotated

from pydantic import Field

from think.config import StageSettings
from think.strategies.base import plan_parts


class BestOfStage(StageSettings):
    """How many chains to draw."""

    n: Annotated[int, Field(ge=2, le=16)] = 3


class BestOf:
    name, settings, words = "best-of", BestOfStage, "best of n"

    def plan(self, stage, sizing):
        return sizing.chains(samples=stage.n)

    def early_stop(self, stage):
        return False  # the longest may come last: every chain is read

    def describe(self, plan):
        # think's parts after its own words: an early stop, were it planned, would show.
        return ", ".join(plan_parts(plan, f"best of {plan.samples} chains",
                                    drawn="the longest one's answer"))

    def picked(self, vote):
        return f"chain {vote.selected + 1} was the longest"

    def run(self, run):
        assert run.stage.n == run.plan.samples  # its own stage reached the run
        run.sample_and_vote()
        longest = max((s for s in run.samples if s.answer), key=lambda s: len(s.text))
        run.best = longest.answer
        run.vote = replace(run.vote, leader=longest.answer, selected=longest.index)


strategy = BestOf()
'''

MINORITY = '''\
"""The minority vote: the answer the fewest samples gave wins (first seen on a tie)."""
from dataclasses import replace

from think.strategies.counting import tally
from think.strategies.vote_rule import Rule


class Minority(Rule):
    name, examples = "minority", ("minority",)

    def count(self, votes, rule):
        plain = tally([answer for answer, _ in votes])
        if not plain.counts:
            return replace(plain, rule=self.name)
        least = min(plain.counts.values())
        leader = next(a for a, count in plain.counts.items() if count == least)
        return replace(plain, leader=leader, tied=(), rule=self.name)


rule = Minority()
'''

SCRIPT = '''\
"""An engine that thinks briefly towards 4, except one long chain (its sixth) towards 5."""
from think.engine.scripted import ScriptedEngine


def reply(request, index):
    if not request.answer_cue:
        return " 4"
    if index == 5:
        return " Let me add them slowly, one and one and one again." * 3 + "\\nFinal answer: 5"
    return " 2 and 2.\\nFinal answer: 4"


class Script:
    name = "script"

    def load(self, spec, profile, verbose):
        return ScriptedEngine(respond=reply)


engine = Script()
'''

MODELS = "models:\n  script: {engine: script, format: base, context: 4096}\n"
STAGES = "stages:\n  - {from_budget: 1, strategy: direct}\n  - {from_budget: 2, %s}\n"
QUESTION = "What is 2+2?"
VOTE = "strategy: vote, max_samples: 6, cot_tokens: 16"  # six short chains at budget 4


@pytest.fixture(scope="module")
def plugins_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The three distributions, each built and installed by pip into a folder of its own."""
    folders = [
        install_plugin(tmp_path_factory, "think_best_of",
                       pyproject("think-best-of", "think.strategies", "best-of",
                                 "think_best_of:strategy"), BEST_OF),
        install_plugin(tmp_path_factory, "think_minority",
                       pyproject("think-minority", "think.vote_rules", "minority",
                                 "think_minority:rule"), MINORITY),
        install_plugin(tmp_path_factory, "think_script",
                       pyproject("think-script", "think.engines", "script",
                                 "think_script:engine"), SCRIPT)]
    return os.pathsep.join(str(folder) for folder in folders)


@pytest.fixture
def script_model() -> None:
    path = paths.user_models_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODELS)


def profile(tmp_path: Path, stage: str, extra: str = "") -> str:
    path = tmp_path / "plugged.yaml"
    path.write_text(STAGES % stage + extra)
    return str(path)


def think_command(path: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m think ARGS` in a fresh process with the plugins (or none) on its path."""
    env = {**os.environ, "PYTHONPATH": path or ""}
    return subprocess.run([sys.executable, "-m", "think", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_a_plugin_strategy_plans_without_the_early_stop_in_its_own_words(
        plugins_path: str, tmp_path: Path) -> None:
    best = profile(tmp_path, "strategy: best-of, n: 6")
    run = think_command(plugins_path, "solve", QUESTION, "--plan", "-b", "4", "--profile", best)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("budget 4 -> best of 6 chains, the longest one's answer (")
    assert "early stop" not in run.stdout
    run = think_command(plugins_path, "solve", QUESTION, "--plan", "-b", "4", "--profile", best,
                        "--json")
    assert json.loads(run.stdout)["plan"]["early_stop"] is False, run.stderr
    # The same profile's vote stage does stop early: the profile's early stop is on.
    vote = profile(tmp_path, VOTE)
    run = think_command(plugins_path, "solve", QUESTION, "--plan", "-b", "4", "--profile", vote)
    assert "early stop at 95%" in run.stdout, run.stderr


def test_a_plugin_strategy_reads_every_chain_and_the_view_names_its_pick(
        plugins_path: str, tmp_path: Path, script_model: None) -> None:
    best = profile(tmp_path, "strategy: best-of, n: 6")
    run = think_command(plugins_path, "solve", QUESTION, "-b", "4", "-m", "script",
                        "--profile", best, "--seed", "1")
    assert run.returncode == 0, run.stderr
    # Five short chains agree on 4 (a vote would have settled after four); the sixth and
    # longest says 5, and the strategy answers with it.
    assert run.stdout.strip() == "5"
    assert "chain 6 was the longest" in run.stderr
    assert "(usc)" not in run.stderr and "most consistent" not in run.stderr
    vote = profile(tmp_path, VOTE)
    run = think_command(plugins_path, "solve", QUESTION, "-b", "4", "-m", "script",
                        "--profile", vote, "--seed", "1", "--json")
    result = json.loads(run.stdout)
    assert result["answer"] == "4" and result["vote"]["early_stopped"], run.stderr


def test_a_plugin_vote_rule_counts_a_profiles_vote(plugins_path: str, tmp_path: Path,
                                                   script_model: None) -> None:
    minority = profile(tmp_path, VOTE, "vote:\n  rule: minority\n")
    run = think_command(plugins_path, "solve", QUESTION, "-b", "4", "-m", "script",
                        "--profile", minority, "--seed", "1", "--json", "--no-early-stop")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["vote"]["rule"] == "minority"
    assert result["answer"] == "5" and result["vote"]["counts"] == {"4": 5, "5": 1}
    # An older profile's flat field names the same rule.
    flat = profile(tmp_path, VOTE, "vote_rule: minority\n")
    run = think_command(plugins_path, "solve", QUESTION, "-b", "4", "-m", "script",
                        "--profile", flat, "--seed", "1", "--json", "--no-early-stop")
    assert json.loads(run.stdout)["vote"]["rule"] == "minority", run.stderr


def test_without_the_plugin_a_profiles_rule_is_unknown_and_the_installed_are_named(
        tmp_path: Path) -> None:
    minority = profile(tmp_path, "strategy: vote", "vote_rule: minority\n")
    run = think_command(None, "solve", QUESTION, "--plan", "--profile", minority, "--quiet")
    assert run.returncode == 1
    error = run.stderr.strip()
    assert "\n" not in error and f"{minority}, line 4: field 'vote_rule': unknown vote rule " \
        "'minority'; known vote rules: cisc, deepconf, majority, usc" in error
