"""The llama.cpp engine: loads a GGUF model and samples N sequences of one prompt together.

All ctypes code of the project lives in this package, one job a module: model (load, tokens,
template, metadata), context (KV cells, decoding), prefix_cache (the holder sequence and the
disk cache of shared prefixes), batch_shape (how a request fits a context), scheduler (the
decoding loop), batch_rows (a step's rows), lookup (n-gram drafts), sampling (sampler chains),
system (machine and build facts, the log hook), extra_buffers (the AMX rule and its probe).

The prompt is evaluated once on a holder sequence (0); each sample gets its own sequence whose
KV cells are copied from the holder (llama_memory_seq_cp), and every live sample advances by
one token per llama_decode batch, each with its own sampler chain and seed. Finished samples
free their slot for the next one. The holder keeps the last prompt, so a following prompt
that shares its prefix (a refine round continuing a critique) only evaluates the new tokens.

A call while another is in flight (`think batch --parallel`, threads calling think.solve)
joins shared_loop: the requests of every caller decode together, continuously batched in one
context. A call alone takes the path above, as it always has.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import llama_cpp

from think.config import LoadSettings
from think.engine.base import DoneCallback, SampleRequest, SampleResult, TokenCallback
from think.engine.llama.batch_shape import fit_batch
from think.engine.llama.context import Context
from think.engine.llama.lanes import Job
from think.engine.llama.lookup import Lookup
from think.engine.llama.model import Model
from think.engine.llama.prefix_cache import HOLDER, Holder
from think.engine.llama.prompt_cache import PromptCache
from think.engine.llama.scheduler import Scheduler
from think.engine.llama.shared_loop import SharedLoop
from think.engine.llama.system import physical_cores
from think.engine.prompt import Prompt
from think.engine.rules import PLAIN, ModelRules
from think.engine.thinking import Reasoning
from think.errors import ThinkError

DEFAULT_MAX_CELLS = 65536  # KV cells for a whole batch when the profile sets no n_ctx

__all__ = ["LlamaEngine"]


class LlamaEngine:
    """A GGUF model behind llama.cpp, with shared-prefix batched sampling."""

    def __init__(self, path: Path, name: str, prompt_format: str, load: LoadSettings,
                 context: int | None = None, verbose: bool = False,
                 chat_template: str | None = None, rules: ModelRules = PLAIN) -> None:
        self.model = Model(path, load, verbose, chat_template)
        self.extra_buffers, self.buffer_types = self.model.extra_buffers, self.model.buffer_types
        self.chat_template, self.gpu_layers = self.model.chat_template, self.model.gpu_layers
        self.path, self.name, self.prompt_format = path, name, prompt_format
        if rules.reasoning is None and self.chat_template and all(
                tag in self.chat_template for tag in (Reasoning.start, Reasoning.end)):
            rules = replace(rules, reasoning=Reasoning())  # its template thinks in a block
        self.rules = rules
        self.context = load.sequence_context(min(x for x in (self.model.train_context, context)
                                                 if x))
        self.load = load
        self.threads = load.n_threads or physical_cores()
        self.max_cells = load.n_ctx or max(DEFAULT_MAX_CELLS, self.context)
        self.llama_context = Context(self.model.handle, self.threads, load.n_batch)
        self.prompt_cache = PromptCache(path, llama_cpp.__version__, load.prompt_cache_mb << 20)
        self.holder = Holder(self.llama_context, self.prompt_cache, load.n_batch)
        self.turn = threading.Lock()  # held by whoever decodes: a lone call, or the loop
        self.callers_lock = threading.Lock()
        self.callers = self.most_callers = 0  # sample() calls in flight, and the most yet
        self.loop = SharedLoop(self)

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

    def render(self, prompt: Prompt) -> str:
        """The prompt's text: itself, or the chat under the model's template."""
        if isinstance(prompt, str):
            return prompt
        kwargs = prompt.template_kwargs(self.rules.template_kwargs)
        return self.model.render_chat(prompt.as_dicts(), **kwargs)

    def count_tokens(self, prompt: Prompt) -> int:
        return len(self.model.tokenize(self.render(prompt)))

    def _cue_tokens(self, request: SampleRequest) -> list[int]:
        cue = request.answer_cue
        return self.tokenize(f"\n{cue}", special=False) if cue else []

    def _most_injected(self, request: SampleRequest) -> int:
        """The most tokens a sample is made to read that it did not sample: the answer cue,
        or for a reasoning model the forced closing of its block with the cue."""
        if request.reasoning is not None and request.answer_cue != "":
            closing = request.reasoning.closing(request.answer_cue, forced=True)
            return len(self.model.tokenize_inserted(closing))
        return len(self._cue_tokens(request))

    def draw_cost(self, request: SampleRequest) -> int:
        # The prompt is evaluated once; each sample then reads the last prompt token (its
        # own cell), the cue or closing if forced, and its tokens.
        per_sample = request.most_tokens(self._most_injected(request)) + 1
        return self.count_tokens(request.prompt) + request.n * per_sample

    def ensure_context(self, cells: int, seqs: int, rows: int) -> None:
        """A context that fits, reused when the current one does (a new one holds nothing,
        and the holders know it by the context's epoch)."""
        self.llama_context.ensure(cells, seqs, rows)

    def close_context(self) -> None:
        self.llama_context.close()

    def forget_prompt(self) -> None:
        """Drop the prompt held in memory (benchmarks measure a cold start with this)."""
        self.llama_context.clear()

    def forget_held(self) -> None:
        """Give back the cells of the prompt a lone call left on HOLDER."""
        if self.llama_context.ctx is not None:
            self.llama_context.drop(HOLDER)
        self.holder.forget()

    def close(self) -> None:
        self.close_context()
        self.model.close()

    def sample(self, request: SampleRequest, on_token: TokenCallback | None = None,
               on_done: DoneCallback | None = None) -> SampleResult:
        # One llama.cpp context serves every call, and two decodes on it at once corrupt it
        # and abort: a call alone decodes under the turn lock; calls that overlap join the
        # shared loop, whose one thread takes the turn lock while it runs.
        with self.callers_lock:
            self.callers += 1
            self.most_callers = max(self.most_callers, self.callers)
            alone = self.callers == 1 and not self.loop.running
        try:
            if alone:
                with self.turn:
                    return self._sample(request, on_token, on_done)
            return self.loop.submit(self._prepare(request, on_token, on_done))
        finally:
            with self.callers_lock:
                self.callers -= 1

    def _prepare(self, request: SampleRequest, on_token: TokenCallback | None,
                 on_done: DoneCallback | None) -> Job:
        """The request tokenized and fitted to a context (no llama.cpp context call)."""
        text = self.render(request.prompt)
        prompt = self.tokenize(text)
        if not prompt:
            raise ThinkError("the prompt is empty", "give a question")
        cue = self._cue_tokens(request)
        lookup = Lookup(self.load.lookup, prompt, self.model.end_tokens(),
                        gpu=bool(self.gpu_layers))
        shape = fit_batch(request, len(prompt), self._most_injected(request), self.context,
                          self.max_cells, self.load.batch_width, lookup.room)
        lookup.room = shape.draft
        prefix = self._shared_prefix_length(request, text, prompt)
        # A template may open the thinking block itself (DeepSeek-R1's ends with <think>).
        think_open = request.reasoning is not None and \
            text.rstrip().endswith(request.reasoning.start)
        return Job(request, prompt, cue, lookup, shape, prefix, think_open, on_token, on_done)

    def _sample(self, request: SampleRequest, on_token: TokenCallback | None,
                on_done: DoneCallback | None) -> SampleResult:
        job = self._prepare(request, on_token, on_done)
        shape = job.shape
        self.ensure_context(shape.cells, shape.seqs, shape.rows)
        # Its samples take the sequences after HOLDER, the shared loop's prefix sequence
        # among them: the loop must place its prefix again next time.
        self.loop.prefix.forget()
        with self.llama_context.batch(max(self.load.n_batch, shape.rows), shape.width) as batch:
            evaluated = self.holder.evaluate(job.prompt[:-1], job.prefix, batch)
            scheduler = self.scheduler_for(job, self.holder)
            scheduler.run(batch)
        return job.result(scheduler, evaluated)

    def scheduler_for(self, job: Job, holder: Holder, base: int = 0) -> Scheduler:
        """The decoding loop of a job's samples, branching from `holder` onto the
        sequences after `base`."""
        scheduler = Scheduler(self.model, self.llama_context, holder, job.request, job.prompt,
                              job.cue, job.shape.width, self.context, job.on_token,
                              job.on_done, job.lookup, base)
        scheduler.think_open = job.think_open
        return scheduler

    def _shared_prefix_length(self, request: SampleRequest, text: str, prompt: list[int]) -> int:
        """Tokens at the start of the prompt that are the request's shared prefix, or 0."""
        if not request.shared_prefix or not text.startswith(request.shared_prefix):
            return 0
        prefix = self.tokenize(request.shared_prefix)
        # Tokens can merge across the boundary; only an exact token prefix is cacheable.
        fits = len(prefix) < len(prompt) and prompt[:len(prefix)] == prefix
        return len(prefix) if fits else 0
