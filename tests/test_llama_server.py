"""llama.cpp's own llama-server as think's engine, on loopback (built from the llama.cpp that
llama-cpp-python vendors): the embedded model through its completions API, and the tiny
reasoning model through its chat API, whose thinking arrives in `reasoning_content`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from support.servers import bodies_sent, start_llama_server

import think
from think.config import ServerSettings
from think.engine.remote import RemoteEngine
from think.models import resolve

pytestmark = pytest.mark.real

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"


@pytest.fixture(scope="module")
def gemma_server(models_dir) -> Iterator[str]:
    server = start_llama_server(resolve().path, "gemma3-270m")
    yield server.url
    server.close()


def test_a_vote_through_llama_server_asks_for_n_at_once_and_counts_its_usage(
        gemma_server: str, run_cli) -> None:
    run = run_cli("solve", Q, "--engine", gemma_server, "--model", "gemma3-270m", "-b", "20",
                  "--no-early-stop", "--json", "-q")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    samples = result["samples"]
    assert result["plan"]["samples"] > 1 and len(samples) >= result["plan"]["samples"]
    assert all(s["finish"] in ("stop", "budget-forced") for s in samples)
    assert result["answer"] is not None and sum(result["vote"]["counts"].values()) > 1
    # The server's usage, not think's count of what it read: a choice of a request for n goes
    # on decoding past the line where think stopped reading it, and the server says so.
    assert result["compute"]["generated_tokens"] >= sum(s["tokens"] for s in samples)
    assert result["compute"]["used"] <= result["plan"]["planned_units"] * 1.05


def test_llama_server_takes_n_in_one_request(gemma_server: str) -> None:
    engine = RemoteEngine(ServerSettings(url=gemma_server, model="gemma3-270m"), "base")
    from think.engine.base import SampleRequest

    result = engine.sample(SampleRequest(prompt=f"Question: {Q}\nReasoning:", n=3,
                                         max_tokens=8, answer_cue="Final answer:",
                                         answer_tokens=4, seed=2))
    assert engine.supports_n is True and len(result.completions) == 3


def test_deepconf_online_stops_samples_on_llama_server(gemma_server: str) -> None:
    """The server's log-probabilities feed the same online stop: at a threshold no window
    reaches, each sample stops at its first full window; at 0, none does."""
    from think.engine.base import CONFIDENCE_WINDOW, SampleRequest

    engine = RemoteEngine(ServerSettings(url=gemma_server, model="gemma3-270m"), "base")
    # No cue, no stop, no end of generation: each sample runs to max_tokens unless stopped.
    ask = SampleRequest(prompt=f"Question: {Q}\nReasoning:", n=2, max_tokens=120, seed=4,
                        ignore_eos=True, confidence=True, stop_below=1e6)
    stopped = engine.sample(ask).completions
    assert [c.finish for c in stopped] == ["low-confidence"] * 2
    for done in stopped:
        assert done.confidence is not None and done.confidence.tokens == CONFIDENCE_WINDOW
    kept = engine.sample(replace(ask, stop_below=0.0)).completions
    assert all(c.finish != "low-confidence" for c in kept)
    assert all(c.confidence is not None and c.confidence.tokens > CONFIDENCE_WINDOW
               for c in kept)


def test_a_chat_on_a_model_that_does_not_reason_gets_the_cap_and_ignores_it(
        gemma_server: str) -> None:
    # llama-server keeps thinking caps itself, so a chat chain's first request carries one
    # whether or not the model reasons; the embedded model does not, and answers as it would.
    engine = RemoteEngine(ServerSettings(url=gemma_server, model="gemma3-270m", timeout_s=600),
                          "chat")  # a busy machine decodes slowly: the cap is what is tested
    with bodies_sent() as sent:
        result = think.solve(Q, budget=4, engine=engine, seed=1, early_stop=False, log=False)
    chains = [b for b in sent if b.get("messages") and b.get("max_tokens", 0) > 40]
    assert chains and all("thinking_budget_tokens" in b for b in chains)
    assert all(s.thinking_tokens in (None, 0) for s in result.samples)  # it never thought
    assert sum(s.answer is not None for s in result.samples) >= len(result.samples) // 2
    # A chain that answered is closed at once (the server stops decoding it), so its usage
    # may be think's own count: llama-server's /tokenize makes that count exact.
    usage = result.compute.server_usage
    assert usage is not None and usage["total_tokens"] <= 1.25 * result.plan.planned_tokens
