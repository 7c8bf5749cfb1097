"""Token confidences on the embedded model: drawn only when asked for, present and finite,
and a profile's `vote_rule: cisc` deciding a real vote from them."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

import think
from think import api, paths
from think.config import load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.models import resolve
from think.tasks.prompts import Prompts

pytestmark = pytest.mark.real

Q = "What is 17 + 25?"


@pytest.fixture(scope="module")
def engine() -> LlamaEngine:
    return api.load_engine(resolve(), load_profile())


def request(engine: LlamaEngine, **overrides) -> SampleRequest:
    prompts = Prompts(engine, Q, "math")
    fields = dict(prompt=prompts.cot(), n=3, max_tokens=96, stop=prompts.stops(),
                  answer_cue="Final answer:", answer_tokens=16, temperature=0.8, seed=5,
                  confidence=True)
    return SampleRequest(**{**fields, **overrides})


def test_samples_carry_confidences_when_asked(engine: LlamaEngine) -> None:
    for overrides in ({}, {"temperature": 0.0, "n": 1}, {"max_tokens": 8}):
        for done in engine.sample(request(engine, **overrides)).completions:
            c = done.confidence
            assert c is not None and c.tokens >= 1
            for value in (c.mean, c.lowest_window, c.tail):
                assert 0 < value < math.inf
            assert c.mean >= c.lowest_window and c.tail >= c.lowest_window
            assert c.logprob <= 0


def test_no_confidence_unless_asked(engine: LlamaEngine) -> None:
    result = engine.sample(request(engine, confidence=False))
    assert all(done.confidence is None for done in result.completions)


def test_a_cisc_profile_decides_the_vote_by_confidence() -> None:
    folder = paths.user_profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shipped = load_profile("default").model_dump(exclude={"name", "source"})
    (folder / "weighed.yaml").write_text(
        __import__("json").dumps({**shipped, "vote_rule": "cisc"}))
    result = think.solve(Q, budget=16, profile="weighed", seed=2)
    data = result.to_dict()
    assert data["vote"]["rule"] == "cisc"
    voted = [s for s in data["samples"] if s["finish"] != "cancelled"]
    assert voted and all(s["confidence"]["mean"] > 0 for s in voted)
    assert sum(data["vote"]["weights"].values()) == pytest.approx(1.0, abs=1e-3)
    assert data["answer"] == max(data["vote"]["weights"], key=data["vote"]["weights"].get)


def test_the_online_stop_cuts_samples_at_their_first_low_window(engine: LlamaEngine) -> None:
    from think.engine.base import CONFIDENCE_WINDOW

    # No cue, no stop, no end of generation: each sample runs to max_tokens unless stopped.
    ask = request(engine, n=3, max_tokens=120, ignore_eos=True, answer_cue=None, stop=())
    stopped = engine.sample(replace(ask, stop_below=1e6)).completions
    assert [c.finish for c in stopped] == ["low-confidence"] * 3
    assert all(c.confidence is not None and c.confidence.tokens == CONFIDENCE_WINDOW
               for c in stopped)
    whole = engine.sample(replace(ask, stop_below=0.0)).completions
    assert all(c.finish != "low-confidence" and c.tokens > CONFIDENCE_WINDOW for c in whole)
    # Each sample's falls say where a stop at any threshold would have cut it.
    for done in whole:
        assert done.confidence is not None and done.confidence.falls
        at, lowest = done.confidence.falls[-1]
        assert lowest == pytest.approx(done.confidence.lowest_window, abs=2e-4)
        assert done.confidence.stops_at(lowest + 1e-3) is not None
        assert done.confidence.stops_at(lowest) is None


def test_a_deepconf_online_profile_reports_its_stops() -> None:
    folder = paths.user_profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shipped = load_profile("default").model_dump(exclude={"name", "source"})
    (folder / "online.yaml").write_text(__import__("json").dumps(
        {**shipped, "vote_rule": "deepconf", "deepconf_keep": 0.5, "deepconf_warmup": 4,
         "early_stop": {"enabled": False}}))
    data = think.solve(Q, budget=20, profile="online", seed=3).to_dict()
    samples = data["samples"]
    warm = [s["confidence"]["lowest_window"] for s in samples[:4]]
    online = data["vote"]["online"]
    assert online is not None and min(warm) <= online["threshold"] <= max(warm)
    stopped = [s for s in samples if s["finish"] == "low-confidence"]
    assert online["stopped"] == len(stopped)
    assert all(s["answer"] is None and s["index"] >= 4 for s in stopped)
    assert sum(data["vote"]["counts"].values()) <= len(samples) - len(stopped)


def test_a_profile_min_p_reaches_the_llama_cpp_sampler(engine: LlamaEngine) -> None:
    from think.config import Profile

    def vote_texts(min_p: float) -> list[str]:
        data = load_profile("default").model_dump(exclude={"name", "source"})
        data.update(temperature=1.5, min_p=min_p, stages=[
            {"from_budget": 1, "strategy": "vote", "cot_tokens": 40, "max_cot_tokens": 40,
             "max_samples": 4}])
        result = think.solve(Q, budget=4, profile=Profile.model_validate(data),
                             engine=engine, seed=3, early_stop=False, log=False)
        return [sample.text for sample in result.samples]

    # Hot samples differ; at min-p 0.99 only tokens nearly as likely as the best survive,
    # so every seed draws the same text.
    assert len(set(vote_texts(0.0))) > 1
    same = vote_texts(0.99)
    assert len(same) == 4 and len(set(same)) == 1
