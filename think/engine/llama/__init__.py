"""The llama.cpp engine: loads a GGUF model and samples N sequences of one prompt together.

All ctypes code of the project lives in this package, one job a module: model (load, tokens,
template, metadata), context (KV cells, decoding), prefix_cache (the holder sequence and the
disk cache of shared prefixes), scheduler (the decoding loop), sampling (sampler chains),
system (machine and build facts, the log hook), extra_buffers (the AMX rule and its probe).

The prompt is evaluated once on a holder sequence (0); each sample gets its own sequence whose
KV cells are copied from the holder (llama_memory_seq_cp), and every live sample advances by
one token per llama_decode batch, each with its own sampler chain and seed. Finished samples
free their slot for the next one. The holder keeps the last prompt, so a following prompt
that shares its prefix (a refine round continuing a critique) only evaluates the new tokens.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import llama_cpp

from think.config import LoadSettings
from think.engine.base import DoneCallback, SampleRequest, SampleResult, TokenCallback
from think.engine.llama.context import Context
from think.engine.llama.model import Model
from think.engine.llama.prefix_cache import Holder
from think.engine.llama.prompt_cache import PromptCache
from think.engine.llama.scheduler import Scheduler, fit_batch
from think.engine.llama.system import physical_cores
from think.errors import ThinkError

DEFAULT_MAX_CELLS = 65536  # KV cells for a whole batch when the profile sets no n_ctx

__all__ = ["LlamaEngine"]


class LlamaEngine:
    """A GGUF model behind llama.cpp, with shared-prefix batched sampling."""

    def __init__(self, path: Path, name: str, prompt_format: str, load: LoadSettings,
                 context: int | None = None, verbose: bool = False,
                 chat_template: str | None = None) -> None:
        self.model = Model(path, load, verbose, chat_template)
        self.extra_buffers, self.buffer_types = self.model.extra_buffers, self.model.buffer_types
        self.chat_template, self.gpu_layers = self.model.chat_template, self.model.gpu_layers
        self.path, self.name, self.prompt_format = path, name, prompt_format
        self.context = load.sequence_context(min(x for x in (self.model.train_context, context)
                                                 if x))
        self.load = load
        self.threads = load.n_threads or physical_cores()
        self.max_cells = load.n_ctx or max(DEFAULT_MAX_CELLS, self.context)
        self.llama_context = Context(self.model.handle, self.threads, load.n_batch)
        self.prompt_cache = PromptCache(path, llama_cpp.__version__, load.prompt_cache_mb << 20)
        self.holder = Holder(self.llama_context, self.prompt_cache, load.n_batch)
        self.turn = threading.Lock()

    @property
    def last_cache_hit(self) -> bool:
        """Whether the last prompt's shared prefix came from the disk cache."""
        return self.holder.last_cache_hit

    @property
    def ctx(self) -> Any:
        """The llama.cpp context pointer, or None (tests read its KV memory through it)."""
        return self.llama_context.ctx

    @property
    def ctx_cells(self) -> int:
        return self.llama_context.cells

    @property
    def contexts_created(self) -> int:
        return self.llama_context.created

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return self.model.tokenize(text, special)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenize(text))

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        return self.model.render_chat(messages)

    def ensure_context(self, cells: int, seqs: int, rows: int) -> None:
        """A context that fits, reused when the current one does (a new one holds nothing)."""
        if self.llama_context.ensure(cells, seqs, rows):
            self.holder.forget()

    def close_context(self) -> None:
        self.llama_context.close()
        self.holder.forget()

    def forget_prompt(self) -> None:
        """Drop the prompt held in memory (benchmarks measure a cold start with this)."""
        self.llama_context.clear()
        self.holder.forget()

    def close(self) -> None:
        self.close_context()
        self.model.close()

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        # One llama.cpp context serves every call: threads calling think.solve at once take
        # turns here, since two decodes on one context at once corrupt it and abort.
        with self.turn:
            return self._sample(request, on_token, on_done)

    def _sample(self, request: SampleRequest, on_token: TokenCallback | None,
                on_done: DoneCallback | None) -> SampleResult:
        prompt = self.tokenize(request.prompt)
        if not prompt:
            raise ThinkError("the prompt is empty", "give a question")
        cue = self.tokenize(f"\n{request.answer_cue}", special=False) \
            if request.answer_cue else []
        shape = fit_batch(request, len(prompt), len(cue), self.context, self.max_cells,
                          self.load.batch_width)
        self.ensure_context(shape.cells, shape.seqs, shape.rows)
        prefix = self._shared_prefix_length(request, prompt)
        with self.llama_context.batch(max(self.load.n_batch, shape.rows), shape.width) as batch:
            evaluated = self.holder.evaluate(prompt[:-1], prefix, batch)
            scheduler = Scheduler(self.model, self.llama_context, self.holder, request, prompt,
                                  cue, shape.width, self.context, on_token, on_done)
            completions = scheduler.run(batch)
        generated = sum(completion.tokens for completion in completions)
        return SampleResult(completions, evaluated + scheduler.prompt_side, generated,
                            scheduler.decoded)

    def _shared_prefix_length(self, request: SampleRequest, prompt: list[int]) -> int:
        """Tokens at the start of the prompt that are the request's shared prefix, or 0."""
        if not request.shared_prefix or not request.prompt.startswith(request.shared_prefix):
            return 0
        prefix = self.tokenize(request.shared_prefix)
        # Tokens can merge across the boundary; only an exact token prefix is cacheable.
        fits = len(prefix) < len(prompt) and prompt[:len(prefix)] == prefix
        return len(prefix) if fits else 0
