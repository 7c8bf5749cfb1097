"""The llama.cpp engine: loads a GGUF model and samples N sequences of one prompt together.

All ctypes code of the project lives here. The prompt is evaluated once on a holder
sequence (0); each sample gets its own sequence whose KV cells are copied from the holder
(llama_memory_seq_cp), and every live sample advances by one token per llama_decode batch,
each with its own sampler chain and seed. Samples whose tokens so far are identical (every
sample at its first token, and often for a while after) share one batch row tagged with all
their sequences: the model computes it once and each sample draws from it with its own seed
(batch_rows works out a step's rows). Finished samples free their slot for the next one.
The holder keeps the last prompt, so a following prompt that shares its prefix (a refine
round continuing a critique) only evaluates the new tokens.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

import llama_cpp
import numpy as np

from think.config import KV_SLACK, MAX_BATCH_WIDTH, LoadSettings
from think.engine import extra_buffers
from think.engine.base import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    Completion,
    DoneCallback,
    SampleRequest,
    SampleResult,
    SampleTracker,
    TokenCallback,
)
from think.engine.batch_rows import FRESH, Entry, Slot, group_rows, pad_rows
from think.engine.prompt_cache import PromptCache
from think.errors import ModelError, ThinkError

HOLDER = 0
GGUF_MAGIC = b"GGUF"
ALL_LAYERS = 999
DEFAULT_MAX_CELLS = 65536  # KV cells for a whole batch when the profile sets no n_ctx
# A sampler is shown the logits within the first of these margins of a row's best that holds
# the top-k (see LlamaEngine._draw). The margins only set the cost: on Gemma 3 a margin of 12
# keeps a few hundred of 262k logits and is too narrow for one row in five; 24 keeps thousands.
CANDIDATE_MARGINS = (12.0, 18.0, 24.0)
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


_log_state = {"verbose": False}
_buffer_types: list[str] = []  # what llama.cpp's load log names ("CPU_REPACK model buffer size")


@llama_cpp.llama_log_callback
def _log_to_stderr(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    # llama.cpp's log is noise to a user unless they ask for it with --verbose.
    head, found, _ = text.partition(b" model buffer size")
    if found and head.split():
        _buffer_types.append(head.split()[-1].decode("utf-8", "replace"))
    if _log_state["verbose"]:
        print(text.decode("utf-8", "replace"), end="", file=sys.stderr, flush=True)


def set_verbose(verbose: bool) -> None:
    """Show llama.cpp's own log on stderr, or keep it quiet (the default)."""
    _log_state["verbose"] = verbose
    llama_cpp.llama_log_set(_log_to_stderr, ctypes.c_void_p(0))


def physical_cores() -> int:
    """Physical CPU cores (batched decode gains nothing from hyper-threads)."""
    try:
        pairs = set()
        physical = "0"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "physical id":
                physical = value.strip()
            elif key.strip() == "core id":
                pairs.add((physical, value.strip()))
        if pairs:
            return len(pairs)
    except OSError:
        pass
    return os.cpu_count() or 1


def check_gguf(path: Path) -> None:
    """Refuse a path that does not exist or is not a GGUF file, before llama.cpp sees it."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}", "give an existing .gguf file")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror or exc}",
                         "check its permissions") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file", "give a llama.cpp .gguf file")


def read_metadata(path: Path) -> dict[str, str]:
    """A GGUF file's metadata (architecture, context length, chat template...), vocab only."""
    check_gguf(path)
    set_verbose(False)
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    params.use_extra_bufts = False  # no weights are loaded, so no probe is worth running
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelError(f"llama.cpp could not read {path}", "the file may be damaged")
    try:
        size = 1 << 16
        key, value = ctypes.create_string_buffer(size), ctypes.create_string_buffer(size)
        found = {}
        for index in range(llama_cpp.llama_model_meta_count(model)):
            llama_cpp.llama_model_meta_key_by_index(model, index, key, size)
            llama_cpp.llama_model_meta_val_str_by_index(model, index, value, size)
            found[key.value.decode("utf-8", "replace")] = value.value.decode("utf-8", "replace")
        return found
    finally:
        llama_cpp.llama_model_free(model)


def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can offload layers to a GPU (CUDA, Metal, Vulkan...)."""
    return bool(llama_cpp.llama_supports_gpu_offload())


def system_info() -> str:
    return llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()


# CPU features that decide which matrix kernels llama.cpp runs, so speed figures compare
# across machines: on AVX2 (16 vector registers) its quantized kernels work on 4x2 tiles of
# weights x rows, with AVX-512 (32 registers) on 4x4, which is what batched decoding gains by.
MATMUL_FEATURES = ("AVX2", "AVX512", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI", "AMX_INT8",
                   "NEON", "DOTPROD", "MATMUL_INT8", "SVE", "SME")


def matmul_features(info: str) -> list[str]:
    """The MATMUL_FEATURES a llama.cpp system-info line reports as on (`AVX2 = 1 | ...`)."""
    found = []
    for part in info.replace("\n", "|").split("|"):
        name, _, value = part.partition("=")
        name = name.rpartition(":")[2].strip()  # the first of a backend reads "CPU : SSE3"
        if name in MATMUL_FEATURES and value.strip() == "1":
            found.append(name)
    return found


class LlamaEngine:
    """A GGUF model behind llama.cpp, with shared-prefix batched sampling."""

    def __init__(self, path: Path, name: str, prompt_format: str, load: LoadSettings,
                 context: int | None = None, verbose: bool = False,
                 chat_template: str | None = None) -> None:
        check_gguf(path)
        set_verbose(verbose)
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        layers = load.n_gpu_layers if gpu_offload_supported() else 0
        params.n_gpu_layers = ALL_LAYERS if layers < 0 else layers
        self.extra_buffers = extra_buffers.decide(load.extra_buffers, path)
        extra_buffers.apply(params, self.extra_buffers)
        _buffer_types.clear()
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        self.buffer_types = list(_buffer_types)  # e.g. CPU_Mapped, CPU_REPACK
        if not self.model:
            raise ModelError(f"llama.cpp could not load {path}",
                             "the file may be truncated or of an unsupported architecture")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.path, self.name, self.prompt_format = path, name, prompt_format
        self.chat_template = chat_template or self.metadata("tokenizer.chat_template")
        self.bos_text = self._special_text(llama_cpp.llama_vocab_bos(self.vocab))
        self.eos_text = self._special_text(llama_cpp.llama_vocab_eos(self.vocab))
        self.gpu_layers = params.n_gpu_layers
        train = llama_cpp.llama_model_n_ctx_train(self.model)
        self.context = load.sequence_context(min(x for x in (train, context) if x))
        self.load = load
        self.threads = load.n_threads or physical_cores()
        self.max_cells = load.n_ctx or max(DEFAULT_MAX_CELLS, self.context)
        self.ctx: ctypes.c_void_p | None = None
        self.ctx_cells = self.ctx_seqs = self.ctx_rows = self.contexts_created = 0
        self.holder: list[int] = []
        self.prompt_cache = PromptCache(path, llama_cpp.__version__, load.prompt_cache_mb << 20)
        self.last_cache_hit = False
        self.turn = threading.Lock()

    # -- text ---------------------------------------------------------------------------

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        # A rendered chat template may already begin with the BOS text; never add a second.
        add_bos = special and not (self.bos_text and text.startswith(self.bos_text))
        capacity = len(data) + 16
        buffer = (llama_cpp.llama_token * capacity)()
        count = llama_cpp.llama_tokenize(self.vocab, data, len(data), buffer, capacity,
                                         add_bos, special)
        if count < 0:
            raise ThinkError("the text could not be tokenized", "check it is plain text")
        return list(buffer[:count])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def piece(self, token: int, special: bool = False) -> bytes:
        buffer = ctypes.create_string_buffer(64)
        size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 64, 0, special)
        return buffer.raw[:max(0, size)]

    def _special_text(self, token: int) -> str:
        return self.piece(token, special=True).decode("utf-8", "replace") if token >= 0 else ""

    def metadata(self, key: str) -> str | None:
        buffer = ctypes.create_string_buffer(1 << 16)
        size = llama_cpp.llama_model_meta_val_str(self.model, key.encode(), buffer, 1 << 16)
        return buffer.value.decode("utf-8", "replace") if size >= 0 else None

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not self.chat_template:
            turns = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages)
            return turns + "Assistant:"
        formatter = Jinja2ChatFormatter(template=self.chat_template, eos_token=self.eos_text,
                                        bos_token=self.bos_text)
        return formatter(messages=cast(Any, messages)).prompt

    # -- context ------------------------------------------------------------------------

    def _ensure_context(self, cells: int, seqs: int, rows: int) -> None:
        """A context with at least `cells` KV cells, `seqs` sequences and room for `rows` batch
        rows in one decode, reused when it fits."""
        if (self.ctx is not None and self.ctx_cells >= cells and self.ctx_seqs >= seqs
                and self.ctx_rows >= rows):
            return
        self.close_context()
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = cells
        # llama.cpp aborts the process (GGML_ASSERT) when a decode has more rows than n_batch
        # or a context has more sequences than it has output rows, so the profile's n_batch
        # (the prompt's chunk size) grows to fit the widest step of this batch.
        rows = max(rows, seqs, self.load.n_batch)
        params.n_batch = params.n_ubatch = rows
        params.n_seq_max = seqs
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = True  # the prompt's cells are shared by all sequences, not copied
        params.swa_full = True  # sliding-window layers must keep whole prefixes to share them
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not ctx:
            raise ModelError(f"llama.cpp could not create a context of {cells} tokens",
                             "lower the budget or the profile's batch_width")
        self.ctx, self.ctx_cells, self.ctx_seqs, self.ctx_rows = ctx, cells, seqs, rows
        self.contexts_created += 1
        self.holder = []

    def close_context(self) -> None:
        if self.ctx is not None:
            llama_cpp.llama_free(self.ctx)
            self.ctx, self.holder = None, []

    def forget_prompt(self) -> None:
        """Drop the prompt held in memory (benchmarks measure a cold start with this)."""
        if self.ctx is not None:
            llama_cpp.llama_memory_clear(self._memory(), True)
        self.holder = []

    def close(self) -> None:
        self.close_context()
        if self.model:
            llama_cpp.llama_model_free(self.model)
            self.model = None

    def _memory(self) -> ctypes.c_void_p:
        return llama_cpp.llama_get_memory(self.ctx)

    def _decode(self, batch: llama_cpp.llama_batch) -> None:
        status = llama_cpp.llama_decode(self.ctx, batch)
        if status != 0:
            raise ThinkError(f"llama.cpp decode failed (status {status})",
                             "lower the budget or the profile's batch_width")

    # -- sampling -----------------------------------------------------------------------

    def _evaluate_holder(self, tokens: list[int], prefix: int,
                         batch: llama_cpp.llama_batch) -> int:
        """Put tokens on the holder sequence, reusing what is cached; returns tokens evaluated.

        The first `prefix` tokens are shared with other questions: they come from the disk
        cache when an entry exists, and are saved there after they are evaluated.
        """
        reuse = 0
        for old, new in zip(self.holder, tokens, strict=False):
            if old != new:
                break
            reuse += 1
        if not llama_cpp.llama_memory_seq_rm(self._memory(), HOLDER, reuse, -1):
            llama_cpp.llama_memory_clear(self._memory(), True)
            reuse = 0
        self.holder = tokens[:reuse]
        self.last_cache_hit = False
        evaluated = 0
        if prefix > reuse and self.prompt_cache.enabled:
            self.last_cache_hit = self._load_prefix(tokens[:prefix])
            if not self.last_cache_hit:
                reuse = len(self.holder)  # a failed load leaves the holder empty
                evaluated = self._evaluate_range(tokens, reuse, prefix, batch)
                self._save_prefix(tokens[:prefix])
            reuse = prefix
        return evaluated + self._evaluate_range(tokens, reuse, len(tokens), batch)

    def _evaluate_range(self, tokens: list[int], start: int, end: int,
                        batch: llama_cpp.llama_batch) -> int:
        """Decode tokens[start:end] onto the holder, n_batch at a time."""
        for first in range(start, end, self.load.n_batch):
            chunk = tokens[first:min(end, first + self.load.n_batch)]
            _fill(batch, [(token, first + i, [HOLDER], False) for i, token in enumerate(chunk)])
            self._decode(batch)
            self.holder = tokens[:first + len(chunk)]
        return max(0, end - start)

    def _load_prefix(self, prefix: list[int]) -> bool:
        """Load a verified cached state for the prefix into the holder; False on a miss."""
        state = self.prompt_cache.lookup(prefix)
        if state is None:
            return False
        llama_cpp.llama_memory_seq_rm(self._memory(), HOLDER, -1, -1)
        capacity = len(prefix) + 1
        loaded = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        read = llama_cpp.llama_state_seq_load_file(self.ctx, str(state).encode(), HOLDER,
                                                   loaded, capacity, ctypes.byref(count))
        if read == 0 or list(loaded[:count.value]) != prefix:
            llama_cpp.llama_memory_seq_rm(self._memory(), HOLDER, -1, -1)
            self.prompt_cache.discard(prefix)
            self.holder = []
            return False
        self.holder = list(prefix)
        return True

    def _save_prefix(self, prefix: list[int]) -> None:
        try:
            self.prompt_cache.folder.mkdir(parents=True, exist_ok=True)
            partial = self.prompt_cache.folder / f"{os.getpid()}.partial"
            array = (llama_cpp.llama_token * len(prefix))(*prefix)
            if llama_cpp.llama_state_seq_save_file(self.ctx, str(partial).encode(), HOLDER,
                                                   array, len(prefix)):
                self.prompt_cache.commit(prefix, partial)
        except OSError:
            pass  # an unwritable cache costs speed next time, never the answer

    def _new_sampler(self, request: SampleRequest, seed: int) -> ctypes.c_void_p:
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if request.temperature <= 0:
            if request.ignore_eos:
                self._ban_end_tokens(chain)
            llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        add = llama_cpp.llama_sampler_chain_add
        if request.top_k > 0:
            add(chain, llama_cpp.llama_sampler_init_top_k(request.top_k))
        add(chain, llama_cpp.llama_sampler_init_top_p(request.top_p, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(request.temperature))
        if request.ignore_eos:
            self._ban_end_tokens(chain)
        add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
        return chain

    def _ban_end_tokens(self, chain: ctypes.c_void_p) -> None:
        ends = [t for t in (llama_cpp.llama_vocab_eos(self.vocab),
                            llama_cpp.llama_vocab_eot(self.vocab)) if t >= 0]
        biases = (llama_cpp.llama_logit_bias * len(ends))(
            *[llama_cpp.llama_logit_bias(token, float("-inf")) for token in ends])
        llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_logit_bias(
            llama_cpp.llama_vocab_n_tokens(self.vocab), len(ends), biases))

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
        cue_tokens = self.tokenize(f"\n{request.answer_cue}", special=False) \
            if request.answer_cue else []
        most = request.most_tokens(len(cue_tokens))
        if len(prompt) + most > self.context:
            raise ThinkError(
                f"the prompt ({len(prompt)} tokens) and its answer do not fit the model's "
                f"context of {self.context} tokens", "shorten the question or lower the budget")
        per_sample = most + 1  # a sample's own cells: the last prompt token, then its tokens
        held = len(prompt) - 1 + KV_SLACK  # the holder's cells, and room for padding rows
        # Fit the batch to the KV cells allowed: fewer sequences at once, never an abort.
        room = (self.max_cells - held) // per_sample
        if room < 1:
            raise ThinkError(f"the profile's n_ctx of {self.max_cells} cells cannot hold the "
                             f"prompt and one answer ({held + per_sample} cells)",
                             "raise load.n_ctx in the profile or lower the budget")
        width = max(1, min(request.n, self.load.batch_width, room, MAX_BATCH_WIDTH))
        pad_seq = width + 1  # holds the padding rows of a step, cleared after each decode
        widest_step = width * (len(cue_tokens) + 1) + 2  # every sample reads its cue, + padding
        self._ensure_context(held + width * per_sample, pad_seq + 1, widest_step)
        prefix = self._shared_prefix_length(request, prompt)
        batch = llama_cpp.llama_batch_init(max(self.load.n_batch, widest_step), 0, width)
        slots: dict[int, Slot] = {}
        completions: list[Completion] = []
        try:
            evaluated = self._evaluate_holder(prompt[:-1], prefix, batch)
            next_index, cancelled, late, histories, decoded = 0, False, False, FRESH, 0
            while slots or (next_index < request.n and not cancelled and not late):
                if request.deadline and not late and time.monotonic() >= request.deadline:
                    late = True  # out of time: no new samples, live ones answer now
                    for slot in slots.values():
                        self._force_now(slot, cue_tokens, on_token)
                for seq in range(1, width + 1):
                    # Out of time, a request still gets its first sample, told to answer now.
                    if (seq not in slots and next_index < request.n and not cancelled
                            and (not late or next_index == 0)):
                        slots[seq] = self._start_slot(seq, next_index, request, prompt)
                        if late:
                            self._force_now(slots[seq], cue_tokens, on_token)
                        next_index += 1
                entries, rows, prompt_side = group_rows(slots, histories)
                histories += len(rows)
                evaluated += prompt_side
                decoded += len(entries)
                # A GPU has no odd-row penalty to pad away.
                padded = not self.gpu_layers and pad_rows(entries, len(rows), pad_seq)
                _fill(batch, entries)
                self._decode(batch)
                if padded:
                    llama_cpp.llama_memory_seq_rm(self._memory(), pad_seq, -1, -1)
                for seqs, row, history in rows:
                    for seq in seqs:
                        live = slots.get(seq)
                        if live is None:  # stopped by a settled vote earlier in this step
                            continue
                        live.pos += len(live.pending)
                        live.history = history
                        self._advance(live, row, cue_tokens, on_token)
                        if live.tracker.finish is None:
                            continue
                        done = self._finish(seq, slots.pop(seq), request)
                        completions.append(done)
                        if on_done is not None and not on_done(done):
                            # The vote is settled: stop every sequence still decoding, at once.
                            cancelled = True
                            for other in list(slots):
                                slots[other].tracker.cancel()
                                completions.append(self._finish(other, slots.pop(other), request))
        finally:
            for seq, slot in slots.items():
                llama_cpp.llama_sampler_free(slot.sampler)
                llama_cpp.llama_memory_seq_rm(self._memory(), seq, -1, -1)
            llama_cpp.llama_batch_free(batch)
        completions.sort(key=lambda c: c.index)
        generated = sum(completion.tokens for completion in completions)
        return SampleResult(completions, evaluated, generated, decoded)

    def decode_only_seconds(self, prompt: str, n: int, steps: int) -> float:
        """Seconds for `steps` llama_decode calls of n rows on n copies of the prompt, no sampling.

        A benchmark reference: the llama.cpp batch API alone, which bounds what any sampler
        built on it can reach on this machine. Each step feeds every sequence the same token.
        """
        with self.turn:
            return self._decode_only_seconds(self.tokenize(prompt), n, steps)

    def _decode_only_seconds(self, tokens: list[int], n: int, steps: int) -> float:
        # n + 2 sequences, as sample() asks for n samples, so the two share one context.
        self._ensure_context(len(tokens) + n * (steps + 1) + KV_SLACK, n + 2, n)
        batch = llama_cpp.llama_batch_init(max(self.load.n_batch, n), 0, 1)
        try:
            self._evaluate_holder(tokens[:-1], 0, batch)
            for seq in range(1, n + 1):
                self._branch_from_holder(seq)
            start = time.perf_counter()
            for step in range(steps):
                _fill(batch, [(tokens[-1], len(tokens) - 1 + step, [seq], True)
                              for seq in range(1, n + 1)])
                self._decode(batch)
            return time.perf_counter() - start
        finally:
            for seq in range(1, n + 1):
                llama_cpp.llama_memory_seq_rm(self._memory(), seq, -1, -1)
            llama_cpp.llama_batch_free(batch)

    def _shared_prefix_length(self, request: SampleRequest, prompt: list[int]) -> int:
        """Tokens at the start of the prompt that are the request's shared prefix, or 0."""
        if not request.shared_prefix or not request.prompt.startswith(request.shared_prefix):
            return 0
        prefix = self.tokenize(request.shared_prefix)
        # Tokens can merge across the boundary; only an exact token prefix is cacheable.
        fits = len(prefix) < len(prompt) and prompt[:len(prefix)] == prefix
        return len(prefix) if fits else 0

    def _branch_from_holder(self, seq: int) -> None:
        """Give sequence `seq` the holder's prompt cells and nothing else."""
        memory = self._memory()
        llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)
        llama_cpp.llama_memory_seq_cp(memory, HOLDER, seq, -1, -1)

    def _start_slot(self, seq: int, index: int, request: SampleRequest,
                    prompt: list[int]) -> Slot:
        self._branch_from_holder(seq)
        seed = request.seed + index
        return Slot(index=index, tracker=SampleTracker(request),
                    sampler=self._new_sampler(request, seed), pos=len(prompt) - 1,
                    pending=[prompt[-1]])

    def _advance(self, slot: Slot, row: int, cue_tokens: list[int],
                 on_token: TokenCallback | None) -> None:
        """Sample the slot's next token from batch row `row` and queue what it must read next."""
        tracker = slot.tracker
        token = self._draw(slot.sampler, row, tracker.request)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            tracker.end_of_generation()
            return
        was_forced = tracker.forced
        shown = tracker.feed(slot.decoder.decode(self.piece(token)))
        if on_token is not None and shown:
            on_token(slot.index, shown)
        slot.pending = [token] + (cue_tokens if tracker.forced and not was_forced else [])
        if tracker.finish is None and slot.pos + len(slot.pending) >= self.context:
            tracker.finish = FINISH_LENGTH

    def _draw(self, sampler: ctypes.c_void_p, row: int, request: SampleRequest) -> int:
        """The sampler chain's token for a batch row, shown only the logits that can win.

        llama_sampler_sample copies all of a row's logits (262k for Gemma 3) before top-k cuts
        them to a few dozen: most of the sampling time. Here the row's logits within a margin
        of its best are kept, for the first margin of CANDIDATE_MARGINS that keeps at least
        top_k of them; those include the top-k set, so the chain (top-k, top-p, temperature,
        seeded draw) picks exactly what it would from the whole row. With no top-k, or no
        margin wide enough, the whole row is passed as before.
        """
        if request.temperature <= 0 or request.top_k <= 0:
            return int(llama_cpp.llama_sampler_sample(sampler, self.ctx, row))
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx, row),
                                       shape=(self.n_vocab,))
        best = logits.max()
        # A confident row has few logits near its best: look further down before giving up.
        for margin in CANDIDATE_MARGINS:
            ids = np.flatnonzero(logits >= best - margin)
            if len(ids) >= request.top_k:
                break
        else:
            return int(llama_cpp.llama_sampler_sample(sampler, self.ctx, row))
        candidates = np.empty(len(ids), TOKEN_DATA)
        candidates["id"], candidates["logit"], candidates["p"] = ids, logits[ids], 0.0
        array = llama_cpp.llama_token_data_array(
            data=candidates.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),
            size=len(ids), selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        token = int(array.data[array.selected].id)
        llama_cpp.llama_sampler_accept(sampler, token)
        return token

    def _force_now(self, slot: Slot, cue_tokens: list[int],
                   on_token: TokenCallback | None) -> None:
        """Budget forcing ahead of the cap: the sample reads the answer cue next."""
        tracker = slot.tracker
        if tracker.answer_start is not None or not tracker.request.answer_cue:
            return
        cue = tracker.force_answer()
        slot.pending = slot.pending + cue_tokens
        if on_token is not None:
            on_token(slot.index, cue)

    def _finish(self, seq: int, slot: Slot, request: SampleRequest) -> Completion:
        llama_cpp.llama_sampler_free(slot.sampler)
        llama_cpp.llama_memory_seq_rm(self._memory(), seq, -1, -1)
        tracker = slot.tracker
        return Completion(slot.index, tracker.text, tracker.generated,
                          tracker.finish or FINISH_CANCELLED, request.seed + slot.index)


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
