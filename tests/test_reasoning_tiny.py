"""The tiny reasoning model (random weights, `<think>`/`</think>` single tokens, a Qwen3-style
template) through the real llama.cpp and through llama-server: think knows it reasons from its
template, closes its block at the cap, lets it close it itself, makes it think longer with
"Wait", reads answers after the block, and on llama-server reads `reasoning_content`, sends
`thinking_budget_tokens` and still votes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.servers import bodies_sent, start_llama_server
from support.tiny_reasoner import build_tiny_reasoner

from think.config import LoadSettings, ServerSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.prompt import Chat
from think.engine.remote import RemoteEngine
from think.engine.rules import ModelRules
from think.engine.thinking import STOP_MESSAGE, Reasoning
from think.strategies.cot import record

pytestmark = pytest.mark.real

CUE = "Final answer:"
QUESTION = Chat.of(("user", "What is 3 + 4?"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_reasoner(tmp_path_factory.mktemp("tiny") / "tiny-reasoner.gguf")


@pytest.fixture(scope="module")
def engine(tiny: Path) -> Iterator[LlamaEngine]:
    loaded = LlamaEngine(tiny, "tiny", "chat",
                         LoadSettings(n_ctx=8192, batch_width=8, prompt_cache_mb=0))
    yield loaded
    loaded.close()


def chains(n: int, cap: int, minimum: int = 0, seed: int = 1) -> SampleRequest:
    return SampleRequest(prompt=QUESTION, n=n, max_tokens=cap, answer_cue=CUE, answer_tokens=6,
                         temperature=0.8, seed=seed, reasoning=Reasoning(min_tokens=minimum))


def test_its_template_says_it_reasons(engine: LlamaEngine) -> None:
    assert engine.rules.reasoning is not None
    assert len(engine.model.tokenize_inserted("</think>")) == 1


def test_blocks_close_at_the_cap_or_by_the_model_and_answers_follow_them(
        engine: LlamaEngine) -> None:
    result = engine.sample(chains(16, cap=24))
    reasoned = [c for c in result.completions if c.thinking_tokens is not None]
    by = {c.closed for c in reasoned}
    assert {"model", "forced"} <= by, [c.text for c in result.completions]
    for completion in reasoned:
        assert completion.thinking_tokens <= 24
        after = completion.text[completion.answer_from:]
        assert after.startswith(f"\n\n{CUE}")
        if completion.closed == "forced":
            assert f"{STOP_MESSAGE}\n</think>" in completion.text
        answer = record(completion, "math").answer
        assert answer is None or answer in after  # never a number from inside the block


def test_the_minimum_turns_early_closes_into_wait(engine: LlamaEngine) -> None:
    result = engine.sample(chains(16, cap=48, minimum=24))
    waited = [c for c in result.completions if "\nWait" in c.text]
    assert waited, [c.text for c in result.completions]
    for completion in result.completions:
        if completion.thinking_tokens is not None and completion.closed == "model":
            assert completion.thinking_tokens >= 24
    plain = engine.sample(chains(16, cap=48))
    assert not any("\nWait" in c.text for c in plain.completions)  # only with a minimum


@pytest.fixture(scope="module")
def tiny_server(tiny: Path) -> Iterator[str]:
    server = start_llama_server(tiny, "tiny-reasoner")
    yield server.url
    server.close()


def test_llama_server_thinking_is_read_capped_and_counted(tiny_server: str) -> None:
    engine = RemoteEngine(ServerSettings(url=tiny_server), "chat",
                          rules=ModelRules(reasoning=Reasoning()))
    # The server's own close at the cap (its stop message, a token a byte here) is paid from
    # the cap, so the plan's cap covers it: the server is sent 12 of the plan's 12 + room.
    room = engine.close_room(chains(4, cap=12))
    request = chains(4, cap=12 + room)
    with bodies_sent() as sent:
        result = engine.sample(request)
    assert engine.supports_n is True and engine.counts.tokenizes is True  # /tokenize answered
    first, *answers = sent
    assert first["n"] == 4 and first["thinking_budget_tokens"] == 12
    assert first["reasoning_budget_message"] == STOP_MESSAGE
    # Samples that thought up to the cap: the server closed their blocks itself, writing its
    # stop message in reasoning_content (no blank line before it, unlike think's own close),
    # counted apart from the 12 thinking tokens; none of them needed a second request.
    capped = [c for c in result.completions if c.thinking_tokens == 12]
    assert capped, [c.text for c in result.completions]
    for completion in capped:
        assert completion.closed == "forced" and completion.text.startswith("<think>")
        assert f"{STOP_MESSAGE}</think>" in completion.text
    assert len(answers) <= len(result.completions) - len(capped)
    for completion in result.completions:
        assert completion.thinking_tokens is None or completion.thinking_tokens <= 12
    # The server's usage: every sample within its cap, the stop message, and its answer.
    assert room > len(STOP_MESSAGE)  # one token a byte in this vocabulary, as /tokenize says
    assert result.generated_tokens <= 4 * (request.max_tokens + request.answer_tokens)


def test_a_vote_through_llama_server_on_a_reasoning_model(tiny: Path, tiny_server: str,
                                                         run_cli, think_home) -> None:
    config = think_home / "config"
    config.mkdir(parents=True)
    (config / "models.yaml").write_text(
        f"models:\n  tiny-reasoner:\n    base_url: {tiny_server}\n    format: chat\n"
        "    context: 4096\n    reasoning: {}\n")
    run = run_cli("solve", "What is 3 + 4?", "--model", "tiny-reasoner", "-b", "16", "--json",
                  "-q", "--no-early-stop")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    plan, samples = result["plan"], result["samples"]
    assert plan["strategy"] == "vote" and len(samples) >= plan["samples"] > 1
    assert sum(result["vote"]["counts"].values()) > 1
    assert all(s["thinking_tokens"] is None or s["thinking_tokens"] <= plan["cot_tokens"]
               for s in samples)


def test_llama_server_a_model_no_models_yaml_names_gets_the_cap_and_its_bill(
        tiny: Path, tiny_server: str, run_cli) -> None:
    # Nothing says the model reasons; llama-server (owned_by llamacpp) keeps caps itself, so
    # every chain's first request carries the cap, and its usage is the run's bill.
    from think import solve

    with bodies_sent() as sent:
        result = solve("What is 3 + 4?", budget=8, model="tiny-reasoner", server=tiny_server,
                       seed=1, early_stop=False, log=False)
    chains = [b for b in sent if b.get("messages") and b.get("max_tokens", 0) > 40]
    assert chains and all("thinking_budget_tokens" in b for b in chains)
    usage = result.compute.server_usage
    assert usage is not None and not usage["estimated"]
    assert usage["total_tokens"] <= 1.25 * result.plan.planned_tokens
    assert result.compute.prompt_tokens + result.compute.generated_tokens == \
        usage["total_tokens"]
