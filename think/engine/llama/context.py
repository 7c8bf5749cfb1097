"""The llama.cpp context: KV cells and sequences sized to a request and reused, and decoding."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import llama_cpp

from think.engine.llama.batch_rows import Entry
from think.errors import DoesNotFit


class Context:
    """One llama.cpp context over a model, made again only when a request needs more."""

    def __init__(self, model: Any, threads: int, n_batch: int) -> None:
        self.model, self.threads, self.n_batch = model, threads, n_batch
        self.ctx: ctypes.c_void_p | None = None
        self.cells = self.seqs = self.rows = self.created = 0
        # Counts every emptying of the whole memory (a new context, a clear): a holder filled
        # before it holds nothing now, whoever emptied it (a lone call, the loop, a benchmark).
        self.epoch = 0

    def ensure(self, cells: int, seqs: int, rows: int) -> bool:
        """A context with at least `cells` KV cells, `seqs` sequences and room for `rows` batch
        rows in one decode, reused when it fits; True when a new one (empty) was made."""
        if self.ctx is not None and self.cells >= cells and self.seqs >= seqs \
                and self.rows >= rows:
            return False
        self.close()
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = cells
        # llama.cpp aborts the process (GGML_ASSERT) when a decode has more rows than n_batch
        # or a context has more sequences than it has output rows, so the profile's n_batch
        # (the prompt's chunk size) grows to fit the widest step of this batch.
        rows = max(rows, seqs, self.n_batch)
        params.n_batch = params.n_ubatch = rows
        params.n_seq_max = seqs
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = True  # the prompt's cells are shared by all sequences, not copied
        params.swa_full = True  # sliding-window layers must keep whole prefixes to share them
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not ctx:
            raise DoesNotFit(f"llama.cpp could not create a context of {cells} tokens", "memory")
        self.ctx, self.cells, self.seqs, self.rows = ctx, cells, seqs, rows
        self.created += 1
        self.epoch += 1
        return True

    def close(self) -> None:
        """Free the context (its KV memory with it)."""
        if self.ctx is not None:
            llama_cpp.llama_free(self.ctx)
            self.ctx = None
            self.epoch += 1

    def _memory(self) -> ctypes.c_void_p:
        return llama_cpp.llama_get_memory(self.ctx)

    def clear(self) -> None:
        """Empty the KV memory of every sequence."""
        if self.ctx is not None:
            llama_cpp.llama_memory_clear(self._memory(), True)
            self.epoch += 1

    def drop(self, seq: int, start: int = -1) -> bool:
        """Remove sequence `seq`'s cells from position `start` on (all by default)."""
        return bool(llama_cpp.llama_memory_seq_rm(self._memory(), seq, start, -1))

    def copy(self, source: int, target: int) -> None:
        """Give sequence `target` the cells of `source` (shared, not duplicated)."""
        llama_cpp.llama_memory_seq_cp(self._memory(), source, target, -1, -1)

    def save(self, path: str, seq: int, tokens: list[int]) -> bool:
        """Write sequence `seq`'s state and its tokens to a file; False when llama.cpp fails."""
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        return bool(llama_cpp.llama_state_seq_save_file(self.ctx, path.encode(), seq, array,
                                                        len(tokens)))

    def load(self, path: str, seq: int, capacity: int) -> list[int] | None:
        """Read a state file into sequence `seq`; the tokens it holds, or None on a failure."""
        loaded = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        read = llama_cpp.llama_state_seq_load_file(self.ctx, path.encode(), seq, loaded,
                                                   capacity, ctypes.byref(count))
        return list(loaded[:count.value]) if read else None

    @contextmanager
    def batch(self, rows: int, seqs_per_row: int) -> Iterator[llama_cpp.llama_batch]:
        """A llama_batch of `rows` rows, freed on leaving."""
        batch = llama_cpp.llama_batch_init(rows, 0, seqs_per_row)
        try:
            yield batch
        finally:
            llama_cpp.llama_batch_free(batch)

    def decode(self, batch: llama_cpp.llama_batch, entries: list[Entry]) -> None:
        """Decode (token, position, sequences, wants_logits) rows in one llama_decode."""
        _fill(batch, entries)
        status = llama_cpp.llama_decode(self.ctx, batch)
        if status != 0:
            raise DoesNotFit(f"llama.cpp decode failed (status {status})", "memory")


def _fill(batch: llama_cpp.llama_batch, entries: list[Entry]) -> None:
    """Write (token, position, sequences, wants_logits) rows into a llama_batch."""
    rows: Any = batch  # the ctypes stubs do not type these pointer fields
    for i, (token, pos, seqs, logits) in enumerate(entries):
        rows.token[i] = token
        rows.pos[i] = pos
        rows.n_seq_id[i] = len(seqs)
        for k, seq in enumerate(seqs):
            rows.seq_id[i][k] = seq
        rows.logits[i] = logits
    rows.n_tokens = len(entries)
