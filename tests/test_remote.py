"""The server engine against real servers on loopback: llama-cpp-python's server on the
embedded model (started and stopped here), and small stub servers for n and for silence."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from support.servers import free_port, start_server
from support.stub_openai import StubHandler, serve

from think.config import ServerSettings
from think.engine.base import SampleRequest
from think.engine.prompt import Chat
from think.engine.remote import RemoteEngine
from think.errors import ThinkError

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"


@pytest.fixture(scope="module")
def server(models_dir) -> Iterator[str]:
    port = free_port()
    process = start_server(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


def engine_for(url: str, **settings) -> RemoteEngine:
    return RemoteEngine(ServerSettings(url=url, model="gemma3-270m", **settings), "base")


def cot(n: int, max_tokens: int = 48) -> SampleRequest:
    prompt = ("Question: Tom has 3 apples and buys 2 more. How many apples does he have?\n"
              "Reasoning: 3 + 2 = 5.\nFinal answer: 5\n\n"
              f"Question: {Q}\nReasoning:")
    return SampleRequest(prompt=prompt, n=n, max_tokens=max_tokens, stop=("\nQuestion:",),
                         answer_cue="Final answer:", answer_tokens=8, seed=3)


@pytest.mark.real
def test_streaming_and_the_concurrent_fallback_for_n(server: str) -> None:
    engine = engine_for(server)
    streamed: dict[int, int] = {}
    result = engine.sample(cot(4), on_token=lambda i, text: streamed.update(
        {i: streamed.get(i, 0) + 1}))
    assert engine.supports_n is False  # llama-cpp-python's server ignores n
    assert [c.index for c in result.completions] == [0, 1, 2, 3]
    assert all(c.finish in ("stop", "budget-forced") for c in result.completions)
    assert set(streamed) == {0, 1, 2, 3} and all(count > 1 for count in streamed.values())


@pytest.mark.real
def test_budget_forcing_on_a_server(server: str) -> None:
    result = engine_for(server).sample(cot(2, max_tokens=4))
    for completion in result.completions:
        assert completion.finish == "budget-forced" and "\nFinal answer:" in completion.text


@pytest.mark.real
def test_solve_and_batch_through_the_cli(server: str, run_cli, tmp_path) -> None:
    run = run_cli("solve", Q, "--engine", server, "--model", "gemma3-270m", "-b", "20",
                  "--json", "--no-early-stop")
    assert run.code in (0, 1), run.stderr
    data = json.loads(run.stdout)
    assert data["model"] == "gemma3-270m"
    # Short samples leave budget that buys more of them, within the budget on a server too.
    assert len(data["samples"]) == data["vote"]["drawn"] >= data["plan"]["samples"]
    assert data["compute"]["used"] <= 1.25 * 20
    questions = tmp_path / "q.txt"
    questions.write_text("What is 1+1?\nWhat is 2+2?\nWhat is 3+3?\n")
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(questions), "--engine", server, "--model", "gemma3-270m",
                  "-b", "2", "--parallel", "3", "--out", str(out))
    assert run.code == 0, run.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "2", "3"]


@pytest.mark.real
def test_a_wrong_model_name_lists_what_the_server_serves(server: str, run_cli) -> None:
    run = run_cli("solve", Q, "--engine", server, "--model", "no-such-model", "-b", "2")
    assert run.code == 1 and "no model 'no-such-model'" in run.stderr
    assert "gemma3-270m" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.real
def test_a_server_killed_mid_run_loses_samples_not_the_vote(models_dir) -> None:
    port = free_port()
    process = start_server(port)
    engine = engine_for(f"http://127.0.0.1:{port}", retries=1, max_in_flight=2)
    done: list[str] = []

    def on_done(completion) -> bool:
        done.append(completion.finish)
        if len(done) == 2:
            process.kill()  # the server dies with samples still to draw
        return True

    try:
        result = engine.sample(cot(8), on_done=on_done)
    finally:
        process.kill()
        process.wait()
    finishes = [c.finish for c in result.completions]
    assert finishes.count("error") + finishes.count("cancelled") >= 4
    assert sum(f in ("stop", "budget-forced") for f in finishes) >= 2
    assert result.errors  # what was lost is reported


def test_a_silent_server_hits_the_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    start = time.monotonic()
    with pytest.raises(ThinkError) as error:
        RemoteEngine(ServerSettings(url=url, timeout_s=0.5, retries=1), "base")
    assert "not answering" in error.value.message and time.monotonic() - start < 10
    listener.close()


def test_a_server_that_is_down_is_a_clear_error(run_cli) -> None:
    run = run_cli("solve", Q, "--engine", f"http://127.0.0.1:{free_port()}", "-b", "2")
    assert run.code == 1 and "not answering" in run.stderr and "Traceback" not in run.stderr


class StubOpenAI(StubHandler):
    """A server that honours n: every choice streams ' so 4.' then the answer line."""

    def post(self) -> None:
        request = self.read_request()
        for piece in (" so", " 4.", "\nFinal", " answer:", " 4", "\n"):
            for index in range(request.get("n", 1)):
                self.event({"choices": [{"index": index, "text": piece,
                                         "finish_reason": None}]})
        self.done()


def test_n_choices_in_one_request_when_the_server_supports_it() -> None:
    httpd, url = serve(StubOpenAI)
    engine = RemoteEngine(ServerSettings(url=url), "base")
    assert engine.name == "stub"  # no name given: the model the server serves
    result = engine.sample(cot(5))
    httpd.shutdown()
    assert engine.supports_n is True and len(httpd.requests) == 1  # type: ignore[attr-defined]
    assert httpd.requests[0]["n"] == 5  # type: ignore[attr-defined]
    assert [c.text for c in result.completions] == [" so 4.\nFinal answer: 4"] * 5


class ChatStub(StubOpenAI):
    """A chat server that thinks until max_tokens cuts it, and answers when asked to."""

    def post(self) -> None:
        request = self.read_request()
        asked = request["messages"][-1]["content"].startswith("Give only the final answer")
        pieces = [(" 7", "stop")] if asked else [(" so", None), (" far", "length")]
        for piece, finish in pieces:
            self.event({"choices": [{"index": 0, "delta": {"content": piece},
                                     "finish_reason": finish}]})
        self.done()


def test_a_chat_prompt_travels_as_messages_and_a_cut_sample_answers_in_a_new_turn() -> None:
    httpd, url = serve(ChatStub)
    engine = RemoteEngine(ServerSettings(url=url), "chat")
    chat = Chat.of(("system", "Think step by step."), ("user", Q))
    result = engine.sample(SampleRequest(prompt=chat, max_tokens=200, answer_cue="Final answer:",
                                         answer_tokens=4))
    httpd.shutdown()
    first, second = httpd.requests  # type: ignore[attr-defined]
    assert first["messages"] == chat.as_dicts() and "prompt" not in first
    assert second["messages"][:2] == chat.as_dicts()
    assert second["messages"][2] == {"role": "assistant", "content": " so far\nFinal answer:"}
    assert second["messages"][3]["role"] == "user"
    completion = result.completions[0]
    assert completion.finish == "budget-forced" and completion.text.endswith("Final answer: 7")
