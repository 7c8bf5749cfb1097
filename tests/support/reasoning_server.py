"""A loopback server in the dialects of reasoning servers: the thinking streams in its own
delta field (`reasoning` as vLLM sends it, `reasoning_content` as llama-server and SGLang do),
the answer in `content`, and the last event carries `usage`. It honours the dialect's thinking
cap field (vLLM `thinking_token_budget`, llama-server `thinking_budget_tokens`) unless told
not to, `max_tokens` across thinking and answer, `n`, and `enable_thinking` in
`chat_template_kwargs`. It counts every token it streams, so a test can check what a run
really cost the server.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .stub_openai import StubHandler

DIALECTS = {"vllm": ("reasoning", "thinking_token_budget"),
            "llama-server": ("reasoning_content", "thinking_budget_tokens")}


@dataclass
class Behaviour:
    """How the model behind the server thinks and answers."""

    dialect: str = "vllm"
    thinking_tokens: int = 1000  # how long it would think if nothing stopped it
    honour_cap: bool = True  # False: a server with no native cap (think must keep it)
    owned_by: str = ""  # what the model list says owns the model ("vllm", "llamacpp")
    answer: str = "7"
    requests: list[dict[str, Any]] = field(default_factory=list)
    streamed: int = 0  # tokens streamed in all
    billed: int = 0  # prompt tokens its usage reported, in all
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReasoningHandler(StubHandler):
    behaviour: Behaviour
    model_id = "reasoner"

    def post(self) -> None:
        request = self.read_request()
        behaviour = self.behaviour
        with behaviour.lock:
            behaviour.requests.append(request)
        choices = [self._choice(request) for _ in range(request.get("n", 1))]
        for step in range(max(len(c) for c in choices)):
            for index, pieces in enumerate(choices):
                if step < len(pieces):
                    self.event({"choices": [{"index": index, **pieces[step]}]})
        total = sum(len(c) for c in choices)
        with behaviour.lock:
            behaviour.streamed += total
        # A word a token, as it streams them: a reply sent back costs what it cost to write.
        prompt = sum(len(m["content"].split()) for m in request["messages"])
        with behaviour.lock:
            behaviour.billed += prompt
        self.event({"choices": [], "usage": {
            "prompt_tokens": prompt, "completion_tokens": total,
            "completion_tokens_details": {"reasoning_tokens": 0}}})
        self.done()

    def _choice(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """One choice's deltas, each one token, the last with its finish reason."""
        behaviour = self.behaviour
        field_name, cap_field = DIALECTS[behaviour.dialect]
        thinks = request.get("chat_template_kwargs", {}).get("enable_thinking", True)
        cap = request.get(cap_field) if behaviour.honour_cap else None
        thinking = behaviour.thinking_tokens if thinks else 0
        if cap is not None:
            thinking = min(thinking, cap)
        pieces = [{"delta": {field_name: f" step{i}"}} for i in range(thinking)]
        pieces += [{"delta": {"content": text}} for text in
                   (" So", " Final", " answer:", f" {behaviour.answer}")]
        limit = request["max_tokens"]
        cut = len(pieces) > limit
        pieces = pieces[:limit]
        pieces[-1] = {**pieces[-1], "finish_reason": "length" if cut else "stop"}
        return pieces


@contextmanager
def reasoning_server(behaviour: Behaviour) -> Iterator[str]:
    """The server's URL while the block runs."""
    handler = type("Handler", (ReasoningHandler,), {"behaviour": behaviour,
                                                    "owned_by": behaviour.owned_by})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
