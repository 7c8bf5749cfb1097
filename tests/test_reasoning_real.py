"""Reasoning on the real llama.cpp, with the embedded model taught a thinking block by its
prompt: `</think>` is several tokens in its vocabulary (the tiny reasoner covers a single-token
tag). The block is closed at the cap with the stop message, a model's own close reads the cue,
an early close becomes "Wait" with the tag's tokens rolled back, and the answer is read after
the block."""

from __future__ import annotations

import pytest

from think import api
from think.config import LoadSettings, load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.thinking import STOP_MESSAGE, Reasoning
from think.models import resolve
from think.strategies.cot import record

pytestmark = pytest.mark.real

CUE = "Final answer:"
FEW_SHOT = ("Question: What is 1 + 1?\n<think>one plus one is two</think>\nFinal answer: 2\n\n"
            "Question: What is 2 + 3?\n<think>two plus three is five</think>\nFinal answer: 5\n\n"
            "Question: What is 4 + 4?\n<think>")


@pytest.fixture(scope="module")
def engine() -> LlamaEngine:
    spec = resolve()
    return api.load_engine(spec, load_profile())


def thinking(n: int, cap: int, minimum: int = 0, seed: int = 5) -> SampleRequest:
    return SampleRequest(prompt=FEW_SHOT, n=n, max_tokens=cap, stop=("\nQuestion:",),
                         answer_cue=CUE, answer_tokens=8, temperature=0.8, seed=seed,
                         reasoning=Reasoning(min_tokens=minimum))


def test_the_tag_takes_several_tokens_here(engine: LlamaEngine) -> None:
    assert len(engine.model.tokenize_inserted("</think>")) > 1


def test_samples_close_their_own_block_and_answer_after_it(engine: LlamaEngine) -> None:
    result = engine.sample(thinking(6, cap=64))
    closed = [c for c in result.completions if c.closed == "model"]
    assert closed, [c.text for c in result.completions]
    for completion in closed:
        assert STOP_MESSAGE not in completion.text
        assert completion.text[completion.answer_from:].startswith(f"\n\n{CUE}")
        assert completion.thinking_tokens is not None and completion.thinking_tokens < 64
        answer = record(completion, "math").answer
        assert answer is None or answer in completion.text[completion.answer_from:]


def test_the_cap_closes_the_block_with_the_stop_message(engine: LlamaEngine) -> None:
    result = engine.sample(thinking(4, cap=3))
    for completion in result.completions:
        assert completion.closed == "forced" and completion.thinking_tokens <= 3
        assert f"{STOP_MESSAGE}\n</think>\n\n{CUE}" in completion.text
        assert completion.finish == "budget-forced"


def test_an_early_close_becomes_wait_and_its_tag_is_rolled_back(engine: LlamaEngine) -> None:
    minimum = 24
    result = engine.sample(thinking(6, cap=96, minimum=minimum))
    waited = [c for c in result.completions if "\nWait" in c.text]
    assert waited, [c.text for c in result.completions]
    for completion in waited:
        before_wait = completion.text.split("\nWait")[0]
        # No part of the suppressed tag is left where "Wait" replaced it.
        assert not any(before_wait.endswith("</think>"[:k]) for k in range(1, 9))
        assert completion.closed in ("model", "forced")
        assert completion.thinking_tokens is not None and completion.thinking_tokens >= minimum
    # The same seeds give the same samples: the rolled-back cells left nothing behind.
    again = engine.sample(thinking(6, cap=96, minimum=minimum))
    assert [c.text for c in again.completions] == [c.text for c in result.completions]


def test_a_template_that_opens_the_block_is_followed_and_costs_what_it_said(
        engine: LlamaEngine) -> None:
    narrow = LlamaEngine(engine.path, engine.name, "base", LoadSettings(batch_width=2,
                                                                       prompt_cache_mb=0))
    request = thinking(3, cap=16)
    result = narrow.sample(request)
    assert all(c.thinking_tokens is not None for c in result.completions)
    assert result.prompt_tokens + result.generated_tokens <= narrow.draw_cost(request)
    narrow.close()
