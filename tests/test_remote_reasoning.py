"""Reasoning servers on loopback, in vLLM's dialect (`reasoning`, `thinking_token_budget`)
and llama-server's (`reasoning_content`, `thinking_budget_tokens`): think reads the thinking,
sends the cap, keeps it where the server does not, never records an empty answer, and counts
what the server says it spent."""

from __future__ import annotations

import json

from support.reasoning_server import Behaviour, reasoning_server

from think.config import ServerSettings
from think.engine.base import SampleRequest
from think.engine.prompt import Chat
from think.engine.remote import RemoteEngine
from think.engine.rules import PLAIN, ModelRules
from think.engine.thinking import Reasoning
from think.strategies.cot import record

CUE = "Final answer:"
QUESTION = Chat.of(("user", "What is 3 + 4?"))


def engine(url: str, rules: ModelRules) -> RemoteEngine:
    return RemoteEngine(ServerSettings(url=url), "chat", rules=rules)


def chains(n: int, cap: int, reasoning: Reasoning | None) -> SampleRequest:
    return SampleRequest(prompt=QUESTION, n=n, max_tokens=cap, answer_cue=CUE,
                         answer_tokens=4, temperature=0.6, reasoning=reasoning)


def test_vllm_dialect_the_cap_is_sent_and_kept_and_the_answer_follows_the_thinking() -> None:
    behaviour = Behaviour(dialect="vllm", owned_by="vllm")
    with reasoning_server(behaviour) as url:
        shown: dict[int, str] = {}
        result = engine(url, ModelRules(reasoning=Reasoning())).sample(
            chains(3, 20, Reasoning()),
            on_token=lambda i, text: shown.update({i: shown.get(i, "") + text}))
    # The live view is shown the tags, so it can tell the thinking from the answer.
    assert shown[0].startswith("<think> step0") and "</think> So Final answer: 7" in shown[0]
    (sent,) = behaviour.requests  # n honoured: one request for all three
    assert sent["thinking_token_budget"] == 20 and sent["n"] == 3
    assert sent["max_tokens"] == 24  # the cap, and the answer's room after it
    for completion in result.completions:
        assert completion.thinking_tokens == 20 and completion.closed == "forced"
        assert completion.text.startswith("<think> step0") and "</think>" in completion.text
        assert record(completion, "math").answer == "7"
    # Counts are the server's own (its usage), not characters / 4.
    assert result.generated_tokens == behaviour.streamed == 3 * 24


def test_a_server_with_no_cap_is_cut_by_think_and_asked_for_the_answer_without_thinking(
        ) -> None:
    behaviour = Behaviour(dialect="llama-server", honour_cap=False)
    with reasoning_server(behaviour) as url:
        # models.yaml does not say the model reasons: the server's split says so.
        result = engine(url, PLAIN).sample(chains(1, 200, None))
    first, answer = behaviour.requests
    assert "thinking_budget_tokens" not in first
    completion = result.completions[0]
    # The answer's request re-sends the thinking: it is held so both fit the cap's cost.
    held = completion.thinking_tokens
    assert held is not None and 0 < held < 200 // 2 and completion.closed == "forced"
    spent = result.prompt_tokens + result.generated_tokens
    assert spent <= 5 + 200 + 4  # its prompt, its cap, its answer
    assert result.prompt_tokens + result.generated_tokens == \
        behaviour.billed + behaviour.streamed
    assert record(completion, "math").answer == "7"  # never an empty answer
    assert answer["chat_template_kwargs"] == {"enable_thinking": False}
    said = answer["messages"][-2]
    assert said["role"] == "assistant" and said["content"].startswith("step0")
    assert "<think>" not in said["content"] and said["content"].count("step") == held


def test_budget_20_stays_within_its_plan_on_a_server_that_thinks_without_end(
        run_cli, think_home) -> None:
    behaviour = Behaviour(dialect="llama-server", honour_cap=False, thinking_tokens=100_000)
    with reasoning_server(behaviour) as url:
        config = think_home / "config"
        config.mkdir(parents=True)
        (config / "models.yaml").write_text(
            f"models:\n  reasoner:\n    base_url: {url}\n    format: chat\n"
            "    reasoning: {}\n    sampling: {temperature: 0.6, top_p: 0.95, top_k: 20}\n")
        # No early stop: every stream runs to its end, so the server's usage covers it all
        # (a stream cut by a settled vote reports none, and think counts it itself).
        run = run_cli("solve", "What is 3 + 4?", "--model", "reasoner", "-b", "20", "--json",
                      "--no-early-stop", "-q")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["answer"] == "7"
    plan = result["plan"]
    # What the server spent: the plan's, but for each cut sample's few answer tokens (a
    # server that ignores the cap thinks on into the answer's room of a request for n).
    assert behaviour.streamed <= plan["planned_tokens"] + plan["samples"] * 4
    assert result["compute"]["generated_tokens"] == behaviour.streamed
    for sample in result["samples"]:
        assert sample["thinking_tokens"] <= plan["cot_tokens"] and sample["closed"] == "forced"
    sent = behaviour.requests[0]
    assert (sent["temperature"], sent["top_p"], sent["top_k"]) == (0.6, 0.95, 20)


def test_a_minimum_thinking_length_on_a_server_is_named_once_as_not_kept(capsys) -> None:
    behaviour = Behaviour(dialect="llama-server")
    with reasoning_server(behaviour) as url:
        server = engine(url, ModelRules(reasoning=Reasoning()))
        drawn = [server.sample(chains(1, 8, Reasoning(min_tokens=4))) for _ in range(2)]
        drawn.append(server.sample(chains(1, 8, Reasoning())))
    notes = [note for result in drawn for note in result.notes if "min_thinking" in note]
    assert notes == ["reasoner thinks as long as it likes: a minimum thinking "
                     "length (min_thinking) is kept on the llama.cpp engine only"]
    assert capsys.readouterr().err == ""  # the engine tells the run; it prints nothing


def test_a_models_card_shapes_the_prompt_and_the_profiles_sampler_reaches_the_server(
        run_cli, think_home, tmp_path) -> None:
    """DeepSeek-R1's card: no system prompt, the answer in \\boxed{}; the profile's own
    top_k and top_p (and the card's min_p) are sent with every request."""
    behaviour = Behaviour(dialect="llama-server", answer="\\boxed{7}")
    profile = tmp_path / "mine.yaml"
    profile.write_text("top_k: 33\ntop_p: 0.81\n"
                       "stages:\n  - {from_budget: 1, strategy: direct}\n"
                       "  - {from_budget: 2, strategy: cot, cot_tokens: 16}\n")
    with reasoning_server(behaviour) as url:
        config = think_home / "config"
        config.mkdir(parents=True)
        (config / "models.yaml").write_text(
            f"models:\n  r1:\n    base_url: {url}\n    served_name: reasoner\n"
            "    format: chat\n    reasoning: {}\n    system_prompt: false\n"
            "    answer_format: boxed\n    sampling: {min_p: 0.05}\n")
        run = run_cli("solve", "What is 3 + 4?", "--model", "r1", "-b", "2", "--json", "-q",
                      "--profile", str(profile))
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["answer"] == "7"  # read from \boxed{7}
    sent = behaviour.requests[0]
    (turn,) = sent["messages"]  # no system message: the instructions follow the question
    assert turn["role"] == "user" and turn["content"].startswith("What is 3 + 4?")
    assert turn["content"].endswith("put your final answer within \\boxed{}.")
    assert (sent["top_k"], sent["top_p"], sent["min_p"]) == (33, 0.81, 0.05)


def test_plan_shows_the_reasoning_profiles_longer_thinking(run_cli, think_home) -> None:
    config = think_home / "config"
    config.mkdir(parents=True)
    (config / "models.yaml").write_text("models:\n  r:\n    base_url: http://127.0.0.1:9\n"
                                        "    format: chat\n    reasoning: {}\n")
    run = run_cli("solve", "What is 3 + 4?", "-m", "r", "-p", "reasoning", "-b", "8", "--plan")
    assert run.code == 0, run.stderr
    line = run.stdout.strip()
    thinking = int(line.split("chain of thought, ")[1].split()[0])
    at_least = int(line.split("thinks at least ")[1].split()[0])
    assert at_least == thinking // 2  # the reasoning profile's min_thinking: 0.5 at budget 8


def test_a_server_that_keeps_caps_gets_the_cap_for_a_model_no_models_yaml_names() -> None:
    # vLLM says who serves the model; nothing says the model reasons: the cap goes anyway,
    # with room for the answer, so the chain is one request, not a cut and a second ask.
    for dialect, owner, cap_field in (("vllm", "vllm", "thinking_token_budget"),
                                      ("llama-server", "llamacpp", "thinking_budget_tokens")):
        behaviour = Behaviour(dialect=dialect, owned_by=owner)
        with reasoning_server(behaviour) as url:
            result = engine(url, PLAIN).sample(chains(1, 16, None))
        (sent,) = behaviour.requests
        assert sent[cap_field] == 16, dialect
        completion = result.completions[0]
        assert completion.thinking_tokens == 16 and record(completion, "math").answer == "7"
        assert result.generated_tokens == behaviour.streamed


def test_the_servers_bill_stays_within_the_plan_and_json_reports_it(run_cli) -> None:
    # A model no models.yaml names, on vLLM (keeps the cap) and on a server that ignores it:
    # what the server says it spent, follow-ups included, is in --json and near the plan.
    for behaviour in (Behaviour(dialect="vllm", owned_by="vllm"),
                      Behaviour(dialect="llama-server", honour_cap=False)):
        for budget in ("2", "20"):
            before = behaviour.billed + behaviour.streamed
            with reasoning_server(behaviour) as url:
                run = run_cli("solve", "What is 3 + 4?", "--engine", url, "--model",
                              "reasoner", "-b", budget, "--json", "--no-early-stop", "-q")
            assert run.code == 0, run.stderr
            result = json.loads(run.stdout)
            usage, plan = result["compute"]["server_usage"], result["plan"]["planned_tokens"]
            assert usage["total_tokens"] == behaviour.billed + behaviour.streamed - before
            assert usage["total_tokens"] <= 1.25 * plan, (behaviour.dialect, budget)
            assert not usage["estimated"]
            spent = result["compute"]["prompt_tokens"] + result["compute"]["generated_tokens"]
            assert spent == usage["total_tokens"]  # think counts what the server counted
        if behaviour.owned_by:  # every chain's request carried the cap
            assert all("thinking_token_budget" in sent for sent in behaviour.requests)
