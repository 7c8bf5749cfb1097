"""The tiny reasoning model that tests build at run time: llama.cpp reads its vocabulary as
meant (the think tags one token each, or plain text), the project's engine loads it and
samples from it, and its chat template renders a Qwen3-style prompt."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from support.tiny_reasoner import THINK_END, THINK_START, build_tiny_reasoner

from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.prompt import Chat


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """Both variants, by single_token_tags; building one takes a fraction of a second."""
    folder = tmp_path_factory.mktemp("tiny-reasoner")
    return {single: build_tiny_reasoner(folder / f"tiny-{single}.gguf", single_token_tags=single)
            for single in (True, False)}


@pytest.mark.parametrize("single", [True, False])
def test_think_tags_tokenize_as_the_variant_says(models: dict[bool, Path], single: bool) -> None:
    # vocab_only: tokenizing needs no weights, and no context.
    vocab = llama_cpp.Llama(model_path=str(models[single]), vocab_only=True, verbose=False)
    for tag in (THINK_START, THINK_END):
        tokens = vocab.tokenize(tag.encode(), add_bos=False, special=True)
        assert (len(tokens) == 1) == single, tokens
        assert vocab.detokenize(tokens, special=True) == tag.encode()
        # The engine reads sampled pieces without specials: the tag must still show as text.
        assert vocab.detokenize(tokens) == tag.encode()
    # Any UTF-8 text tokenizes: every byte has its token.
    text = "naïve 12 + 3 = 15 🙂\n"
    assert vocab.detokenize(vocab.tokenize(text.encode(), add_bos=False)) == text.encode()


def test_engine_loads_renders_and_samples(models: dict[bool, Path]) -> None:
    engine = LlamaEngine(models[True], "tiny", "chat",
                         LoadSettings(n_ctx=2048, batch_width=4, prompt_cache_mb=0))
    try:
        prompt = engine.render(Chat.of(("user", "hi")))
        assert prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        # As Qwen3's template does, thinking switched off is an empty think block.
        formatter = Jinja2ChatFormatter(template=engine.chat_template, eos_token="<|im_end|>",
                                        bos_token="<|endoftext|>")
        quiet = formatter(messages=[{"role": "user", "content": "hi"}], enable_thinking=False)
        assert quiet.prompt == prompt + "<think>\n\n</think>\n\n"
        result = engine.sample(SampleRequest(prompt=Chat.of(("user", "hi")), n=4, max_tokens=32,
                                             temperature=0.8, seed=1))
        assert len(result.completions) == 4
        assert not result.errors
        assert all(c.tokens <= 32 for c in result.completions)
        # Random weights, but shaped: mostly digits and spaces, whatever the seed.
        text = "".join(c.text for c in result.completions)
        text = text.replace(THINK_START, "").replace(THINK_END, "")
        assert sum(ch.isdigit() or ch == " " for ch in text) > len(text) / 2
    finally:
        engine.close()
