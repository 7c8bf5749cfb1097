"""Lookup decoding: n-gram drafts, how long they are, the rows that check them, and that a
sample draws the same tokens with drafts as without on the real llama.cpp."""

from __future__ import annotations

import ctypes
from dataclasses import replace
from pathlib import Path

import pytest
from support.tiny_reasoner import build_tiny_reasoner

from think.bench.lookup_speed import CRITIQUE, QUESTION, SOLUTION
from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine, lookup
from think.engine.llama.batch_rows import Slot, group_rows
from think.engine.llama.batch_shape import fit_batch
from think.engine.llama.lookup import (
    CPU_ROW_COST,
    DRAFT_SIZES,
    GPU_ROW_COST,
    PAUSE,
    DraftPace,
    NgramIndex,
)
from think.engine.prompt import Chat
from think.engine.tracker import SampleTracker
from think.models import resolve
from think.tasks.prompts import Prompts


def test_a_draft_is_what_followed_the_longest_matching_ngram() -> None:
    index = NgramIndex()
    text = [1, 2, 3, 4, 5, 6, 9, 3, 4, 7, 8]
    index.add(text, 0)
    # "3 4" was last followed by 7 8; "2 3 4" by 5 6 9 ...: the longer match wins.
    assert index.draft([0, 3, 4], 3, frozenset()) == [7, 8]
    assert index.draft([0, 2, 3, 4], 3, frozenset()) == [5, 6, 9]
    assert index.draft([0, 2, 3, 4], 3, frozenset({6})) == [5]  # never drafts an end token
    assert index.draft([42, 43], 3, frozenset()) == []  # nothing seen
    assert index.draft([2, 3, 4], 0, frozenset()) == []


def test_a_growing_list_is_indexed_from_where_it_left_off() -> None:
    index = NgramIndex()
    tokens = [1, 2, 3]
    at = index.add(tokens, 0)
    tokens += [4, 1, 2]
    index.add(tokens, at)
    assert index.draft(tokens, 4, frozenset()) == [3, 4, 1, 2]


def test_drafts_grow_while_drawn_and_stop_when_not() -> None:
    pace = DraftPace(CPU_ROW_COST)
    assert pace.most(0) == DRAFT_SIZES[0]
    for _ in range(6):
        pace.checked(pace.most(0), pace.most(0))  # every drafted token drawn
    assert pace.most(0) == DRAFT_SIZES[-1]
    misses = 0
    while pace.most(100):
        pace.checked(3, 0)  # none drawn: the rows cost more than they yield
        misses += 1
    assert misses <= 4
    assert pace.most(100 + PAUSE - 1) == 0
    assert pace.most(100 + PAUSE) == DRAFT_SIZES[0]  # tries again after a pause
    pace.checked(3, 0)  # in vain: the next pause is twice as long
    while pace.most(200):
        pace.checked(3, 0)
    assert pace.most(200 + 2 * PAUSE - 1) == 0 and pace.most(200 + 2 * PAUSE) > 0


def slot(pending: list[int], drafts: list[int], pos: int) -> Slot:
    tracker = SampleTracker(SampleRequest(prompt="q"))
    tracker.thinking_tokens = 5
    return Slot(index=0, tracker=tracker, sampler=ctypes.c_void_p(0), pos=pos,
                pending=pending + drafts, drafts=drafts, history=3)


def test_each_drafted_token_has_a_row_with_logits() -> None:
    entries, groups, prompt_side = group_rows({1: slot([5], [6, 7], 20),
                                               2: slot([5], [], 30)}, 3)
    assert entries == [(5, 20, [1], True), (6, 21, [1], True), (7, 22, [1], True),
                       (5, 30, [2], True)]
    assert [row for _, row, _ in groups] == [0, 3]  # each draws from its first row on
    assert prompt_side == 0  # drafts are not prompt tokens


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_reasoner(tmp_path_factory.mktemp("lookup") / "tiny.gguf")


def texts(engine: LlamaEngine, mode: str, request: SampleRequest) -> tuple[list[str], int, int]:
    engine.load = engine.load.model_copy(update={"lookup": mode})
    result = engine.sample(request)
    assert len(result.completions) == request.n
    return [c.text for c in result.completions], result.drafted_tokens, result.accepted_tokens


@pytest.mark.real
@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_drafts_change_no_token_drawn(tiny: Path, temperature: float,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # An F32 model: llama.cpp's rows agree to rounding however many a step has, so a sample
    # drawn with drafts must be the very one drawn without, seed for seed. Its thinking block
    # is forced shut at the cap, and closes before a minimum of 24 tokens are rolled back.
    # Drafts are paced as on a GPU, where rows are cheap, so that many are checked.
    monkeypatch.setattr(lookup, "CPU_ROW_COST", GPU_ROW_COST)
    engine = LlamaEngine(tiny, "tiny", "chat", LoadSettings(n_ctx=4096, prompt_cache_mb=0))
    assert engine.rules.reasoning is not None
    reasoning = replace(engine.rules.reasoning, min_tokens=24)
    prompt = Chat.of(("user", "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0"))
    drafted = accepted = 0
    try:
        for seed in range(24):
            request = SampleRequest(prompt=prompt, n=1, max_tokens=64, answer_cue="Final answer:",
                                    temperature=temperature, seed=seed, reasoning=reasoning)
            plain, none, _ = texts(engine, "off", request)
            drafts, made, kept = texts(engine, "auto", request)
            assert drafts == plain, seed
            assert none == 0
            drafted, accepted = drafted + made, accepted + kept
        # A vote with drafts on every sample: the same samples again.
        vote = replace(request, n=3, seed=5)
        assert texts(engine, "on", vote)[0] == texts(engine, "off", vote)[0]
    finally:
        engine.close()
    assert drafted > 100 and accepted > 5, (drafted, accepted)


@pytest.mark.real
def test_a_greedy_refine_round_is_the_same_with_lookup() -> None:
    # The embedded model, quantized: its rows round differently with the count of rows in a
    # step, so only a confident greedy text (a revision copying its solution) is sure to match.
    spec = resolve(None)
    engine = LlamaEngine(spec.path, spec.name, spec.format, LoadSettings(prompt_cache_mb=0),
                         context=spec.context)
    try:
        prompt = Prompts(engine, QUESTION, "math").revise(SOLUTION, CRITIQUE)
        request = SampleRequest(prompt=prompt, max_tokens=48, temperature=0.0, ignore_eos=True)
        plain, _, _ = texts(engine, "off", request)
        drafts, drafted, accepted = texts(engine, "auto", request)
    finally:
        engine.close()
    assert drafts == plain
    assert drafted > 0 and accepted > 0


def test_drafts_take_only_cells_the_samples_leave() -> None:
    request = SampleRequest(prompt="q", n=4, max_tokens=100)  # no cue: 100 tokens a sample
    roomy = fit_batch(request, prompt=50, cue=0, context=4096, max_cells=4096, batch_width=4,
                      draft=15)
    assert (roomy.width, roomy.draft) == (4, 15)
    assert roomy.rows >= 4 * 16  # every sample may read a draft of 15 in one step
    # 53 held cells and 4 samples of 101 leave 7 spare cells: a draft of 1, not a refusal.
    tight = fit_batch(request, prompt=50, cue=0, context=4096, max_cells=53 + 4 * 101 + 7,
                      batch_width=4, draft=15)
    assert (tight.width, tight.draft) == (4, 1)
    assert tight.cells <= 53 + 4 * 101 + 7
