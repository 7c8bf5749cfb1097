"""Program-aided stages on the embedded model: it writes the expression, bubblewrap runs it,
and the value is the answer (greedy at budget 1, a vote above)."""

from __future__ import annotations

import pytest
from test_program import program_profile

import think
from think import api
from think.config import load_profile
from think.engine.llama import LlamaEngine
from think.models import resolve

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def engine() -> LlamaEngine:
    return api.load_engine(resolve(), load_profile())


def test_the_embedded_model_answers_by_a_program_run_in_the_sandbox(engine: LlamaEngine) -> None:
    result = think.solve("A box has 4 rows of 8 eggs. How many eggs are in the box?", budget=1,
                         engine=engine, seed=1, profile=program_profile())
    sample = result.samples[0]
    assert result.answer == "32" and result.sandbox == "bwrap"
    assert sample.ran == "passed" and "8" in sample.text and "4" in sample.text


def test_a_vote_of_the_embedded_models_programs(engine: LlamaEngine) -> None:
    result = think.solve("Mia had 17 shells and gave away 9. How many shells does she have?",
                         budget=8, engine=engine, seed=2, profile=program_profile())
    assert result.plan.samples > 1 and len(result.samples) > 1
    assert result.answer == "8" and result.vote.counts["8"] >= 2
    assert all(s.ran is not None for s in result.samples if s.answer is not None)
