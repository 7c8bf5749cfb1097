"""Prompt cache across runs: a hit skips the few-shot prefix; bad entries are rebuilt."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from think import api
from think.config import load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.llama.prompt_cache import PromptCache
from think.models import resolve
from think.tasks.prompts import Prompts

Q = "A pen costs 2 dollars. How much do 4 pens cost?"


@pytest.fixture(scope="module")
def engine() -> LlamaEngine:
    return api.load_engine(resolve(), load_profile())


def request(engine: LlamaEngine) -> SampleRequest:
    prompts = Prompts(engine, Q, "math")
    prompt = prompts.cot()
    return SampleRequest(prompt=prompt, shared_prefix=prompts.shared_prefix(prompt), n=2,
                         max_tokens=24, stop=prompts.stops(), answer_cue="Final answer:",
                         answer_tokens=8, seed=3)


def cold_run(engine: LlamaEngine):
    engine.forget_prompt()
    return engine.sample(request(engine))


@pytest.mark.real
def test_a_hit_skips_the_prefix_and_gives_the_same_samples(engine: LlamaEngine) -> None:
    miss = cold_run(engine)
    assert not engine.last_cache_hit
    assert list(engine.prompt_cache.folder.glob("*.state"))
    hit = cold_run(engine)
    assert engine.last_cache_hit
    prefix = engine.count_tokens(request(engine).shared_prefix)
    assert miss.prompt_tokens - hit.prompt_tokens == prefix
    assert [c.text for c in hit.completions] == [c.text for c in miss.completions]


@pytest.mark.real
def test_a_corrupt_entry_is_ignored_and_rebuilt(engine: LlamaEngine) -> None:
    reference = cold_run(engine)
    (state,) = engine.prompt_cache.folder.glob("*.state")
    data = bytearray(state.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = os.urandom(64)
    state.write_bytes(bytes(data))
    again = cold_run(engine)
    assert not engine.last_cache_hit
    assert [c.text for c in again.completions] == [c.text for c in reference.completions]
    cold_run(engine)
    assert engine.last_cache_hit  # the rebuilt entry is trusted again


@pytest.mark.real
def test_a_truncated_entry_is_ignored(engine: LlamaEngine) -> None:
    cold_run(engine)
    (state,) = engine.prompt_cache.folder.glob("*.state")
    state.write_bytes(state.read_bytes()[:100])
    state.with_suffix(".json").unlink()  # no record at all: still never trusted
    result = cold_run(engine)
    assert not engine.last_cache_hit and len(result.completions) == 2


def test_the_cache_is_bounded_on_disk(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    cache = PromptCache(model, "1.0", max_bytes=2500)
    for n in range(5):
        partial = tmp_path / f"{n}.partial"
        partial.write_bytes(bytes(1000))
        cache.commit([n], partial)
        time.sleep(0.01)
    kept = sorted(cache.folder.glob("*.state"))
    assert len(kept) == 2
    assert cache.lookup([4]) is not None and cache.lookup([0]) is None


def test_states_left_half_written_by_killed_runs_are_removed(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(100))
    cache = PromptCache(model, "1.0", max_bytes=10_000)
    cache.folder.mkdir(parents=True, exist_ok=True)
    stale, live = cache.folder / "111.partial", cache.folder / "222.partial"
    for partial in (stale, live):
        partial.write_bytes(bytes(1000))
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    written = tmp_path / "333.partial"
    written.write_bytes(bytes(1000))
    cache.commit([1], written)
    assert not stale.exists() and live.exists()  # another run may still be writing that one
