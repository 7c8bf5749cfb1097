"""The holder sequence: the last prompt kept in KV memory, reused as far as a new prompt
shares it, with shared prefixes (few-shot examples) loaded from and saved to the disk cache.

A lone request's holder is sequence HOLDER; the shared loop gives each request in flight a
holder of its own on another sequence, and keeps the shared prefix on one more.
"""

from __future__ import annotations

import os
from typing import Any

from think.engine.llama.context import Context
from think.engine.llama.prompt_cache import PromptCache

HOLDER = 0  # the sequence a lone request's prompt is evaluated on; samples copy its cells


class Holder:
    """The prompt's cells on sequence `seq` (HOLDER by default) and the tokens they hold."""

    def __init__(self, context: Context, cache: PromptCache, n_batch: int,
                 seq: int = HOLDER) -> None:
        self.context, self.cache, self.n_batch, self.seq = context, cache, n_batch, seq
        self.tokens: list[int] = []
        self.epoch = context.epoch  # the context's epoch `tokens` were put there in
        self.last_cache_hit = False

    def forget(self) -> None:
        """The holder is empty (a new context, or a cleared one)."""
        self.tokens = []

    def branch(self, seq: int) -> None:
        """Give sequence `seq` the holder's prompt cells and nothing else."""
        self.context.drop(seq)
        self.context.copy(self.seq, seq)

    def evaluate(self, tokens: list[int], prefix: int, batch: Any) -> int:
        """Put tokens on the holder sequence, reusing what is cached; returns tokens evaluated.

        The first `prefix` tokens are shared with other questions: they come from the disk
        cache when an entry exists, and are saved there after they are evaluated.
        """
        if self.epoch != self.context.epoch:
            self.tokens = []  # the memory was emptied since (a new context, a clear)
        reuse = 0
        for old, new in zip(self.tokens, tokens, strict=False):
            if old != new:
                break
            reuse += 1
        if not self.context.drop(self.seq, reuse):
            # Other sequences are live beside a holder that is not HOLDER: empty only its own.
            if self.seq == HOLDER:
                self.context.clear()
            else:
                self.context.drop(self.seq)
            reuse = 0
        self.tokens = tokens[:reuse]
        self.last_cache_hit = False
        evaluated = 0
        if prefix > reuse and self.cache.enabled:
            self.last_cache_hit = self._load_prefix(tokens[:prefix])
            if not self.last_cache_hit:
                reuse = len(self.tokens)  # a failed load leaves the holder empty
                evaluated = self._evaluate_range(tokens, reuse, prefix, batch)
                self._save_prefix(tokens[:prefix])
            reuse = prefix
        evaluated += self._evaluate_range(tokens, reuse, len(tokens), batch)
        self.epoch = self.context.epoch
        return evaluated

    def _evaluate_range(self, tokens: list[int], start: int, end: int, batch: Any) -> int:
        """Decode tokens[start:end] onto the holder, n_batch at a time."""
        for first in range(start, end, self.n_batch):
            chunk = tokens[first:min(end, first + self.n_batch)]
            self.context.decode(batch, [(token, first + i, [self.seq], False)
                                        for i, token in enumerate(chunk)])
            self.tokens = tokens[:first + len(chunk)]
        return max(0, end - start)

    def _load_prefix(self, prefix: list[int]) -> bool:
        """Load a verified cached state for the prefix into the holder; False on a miss."""
        state = self.cache.lookup(prefix)
        if state is None:
            return False
        self.context.drop(self.seq)
        if self.context.load(str(state), self.seq, len(prefix) + 1) != prefix:
            self.context.drop(self.seq)
            self.cache.discard(prefix)
            self.tokens = []
            return False
        self.tokens = list(prefix)
        return True

    def _save_prefix(self, prefix: list[int]) -> None:
        try:
            self.cache.folder.mkdir(parents=True, exist_ok=True)
            partial = self.cache.folder / f"{os.getpid()}.partial"
            if self.context.save(str(partial), self.seq, prefix):
                self.cache.commit(prefix, partial)
        except OSError:
            pass  # an unwritable cache costs speed next time, never the answer
