"""The body of one OpenAI-compatible completion request for a sample request: the endpoint
(chat or plain completion), sampler settings, and for a reasoning model its thinking cap in
each server's own words, so the server closes the block itself at the cap.
"""

from __future__ import annotations

from typing import Any

from think.engine.base import TOP_LOGPROBS, SampleRequest
from think.engine.prompt import Chat, Prompt
from think.engine.rules import ModelRules

MAX_STOPS = 4  # the OpenAI API takes at most four stop strings


def request_body(model: str, prompt: Prompt, request: SampleRequest, n: int, seed: int,
                 max_tokens: int, rules: ModelRules) -> tuple[str, dict[str, Any]]:
    """(path, body) for `n` samples of `prompt`; a chat with `thinking` off (an answer asked
    for after a cut) asks the model not to think, where its server and template can say so."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "stream": True,
                            "temperature": request.temperature, "top_p": request.top_p,
                            "seed": seed, "n": n,
                            # The last event then carries the server's own token counts.
                            "stream_options": {"include_usage": True}}
    if request.top_k > 0:
        body["top_k"] = request.top_k  # llama-server, vLLM, SGLang and Ollama take these
    if request.min_p > 0:
        body["min_p"] = request.min_p
    if request.stop:
        body["stop"] = list(request.stop)[:MAX_STOPS]
    if request.ignore_eos:  # benchmarks: llama-server and vLLM take it, others ignore it
        body["ignore_eos"] = True
    if not isinstance(prompt, Chat):
        if request.confidence:  # each token's top log-probabilities, for a weighted vote
            body["logprobs"] = TOP_LOGPROBS
        return "/completions", {**body, "prompt": prompt}
    if request.confidence:
        body["logprobs"], body["top_logprobs"] = True, TOP_LOGPROBS
    body["messages"] = prompt.as_dicts()
    kwargs = prompt.template_kwargs(rules.template_kwargs)
    if kwargs:
        body["chat_template_kwargs"] = kwargs
    reasoning = request.reasoning
    if reasoning is not None and prompt.thinking:
        # llama-server: thinking_budget_tokens (closing with the message); vLLM:
        # thinking_token_budget. A server ignores the other's field.
        body["thinking_budget_tokens"] = request.max_tokens
        body["reasoning_budget_message"] = reasoning.stop_message
        body["thinking_token_budget"] = request.max_tokens
    return "/chat/completions", body
