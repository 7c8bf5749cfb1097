"""think.solve is the public entry: typed, keyword-only options, the same as think.api.solve's
(it forwards to it lazily, so `think --help` does not import the engines)."""

from __future__ import annotations

import inspect

import pytest

import think
from think import api
from think.engine.scripted import ScriptedEngine


def test_think_solve_has_the_api_parameters_and_defaults() -> None:
    ours, theirs = inspect.signature(think.solve), inspect.signature(api.solve)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
    assert ours.parameters["budget"].default == api.DEFAULT_BUDGET


def test_options_after_the_budget_are_keyword_only() -> None:
    engine = ScriptedEngine(respond=lambda request, i: " 4")
    with pytest.raises(TypeError):
        think.solve("What is 2+2?", 1, None)  # type: ignore[misc]
    assert think.solve("What is 2+2?", 1, engine=engine, log=False).answer == "4"
