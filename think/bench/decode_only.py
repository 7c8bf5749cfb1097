"""The decode-only reference of `think bench speed`: llama_decode alone on the engine's batch
API, no sampling, which bounds what any sampler built on it can reach on this machine."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from think.config import KV_SLACK

if TYPE_CHECKING:
    from think.engine.llama import LlamaEngine


def decode_only_seconds(engine: LlamaEngine, prompt: str, n: int, steps: int) -> float:
    """Seconds for `steps` llama_decode calls of n rows on n copies of the prompt.

    Each step feeds every sequence the same token, so no row is shared and none is sampled.
    """
    with engine.turn:
        tokens = engine.tokenize(prompt)
        # n + 2 sequences, as sample() asks for n samples, so the two share one context.
        engine.ensure_context(len(tokens) + n * (steps + 1) + KV_SLACK, n + 2, n)
        context, seqs = engine.llama_context, range(1, n + 1)
        with context.batch(max(engine.load.n_batch, n), 1) as batch:
            try:
                engine.holder.evaluate(tokens[:-1], 0, batch)
                for seq in seqs:
                    engine.holder.branch(seq)
                start = time.perf_counter()
                for step in range(steps):
                    context.decode(batch, [(tokens[-1], len(tokens) - 1 + step, [seq], True)
                                           for seq in seqs])
                return time.perf_counter() - start
            finally:
                for seq in seqs:
                    context.drop(seq)
