"""A GGUF model loaded by llama.cpp: tokens and their text, the chat template, the metadata."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any, cast

import llama_cpp

from think.config import LoadSettings
from think.engine.llama import extra_buffers
from think.engine.llama.system import (
    gpu_offload_supported,
    logged_buffer_types,
    set_verbose,
    start_buffer_log,
)
from think.errors import ModelError, ThinkError
from think.gguf import check as gguf_check

GGUF_MAGIC = b"GGUF"
ALL_LAYERS = 999
META_BYTES = 1 << 16  # a chat template can run to several kilobytes


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
    gguf_check.check(path)  # a header llama.cpp would abort or hang on is refused here


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
        key = ctypes.create_string_buffer(META_BYTES)
        value = ctypes.create_string_buffer(META_BYTES)
        found = {}
        for index in range(llama_cpp.llama_model_meta_count(model)):
            llama_cpp.llama_model_meta_key_by_index(model, index, key, META_BYTES)
            llama_cpp.llama_model_meta_val_str_by_index(model, index, value, META_BYTES)
            found[key.value.decode("utf-8", "replace")] = value.value.decode("utf-8", "replace")
        return found
    finally:
        llama_cpp.llama_model_free(model)


class Model:
    """A loaded GGUF model and its vocabulary."""

    def __init__(self, path: Path, load: LoadSettings, verbose: bool = False,
                 chat_template: str | None = None) -> None:
        check_gguf(path)
        set_verbose(verbose)
        llama_cpp.llama_backend_init()
        params = llama_cpp.llama_model_default_params()
        layers = load.n_gpu_layers if gpu_offload_supported() else 0
        params.n_gpu_layers = ALL_LAYERS if layers < 0 else layers
        self.extra_buffers = extra_buffers.decide(load.extra_buffers, path)
        extra_buffers.apply(params, self.extra_buffers)
        start_buffer_log()
        self.handle = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
        self.buffer_types = logged_buffer_types()  # e.g. CPU_Mapped, CPU_REPACK
        if not self.handle:
            raise ModelError(f"llama.cpp could not load {path}",
                             "the file may be truncated or of an unsupported architecture")
        self.vocab = llama_cpp.llama_model_get_vocab(self.handle)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.chat_template = chat_template or self.metadata("tokenizer.chat_template")
        self.bos_text = self._special_text(llama_cpp.llama_vocab_bos(self.vocab))
        self.eos_text = self._special_text(llama_cpp.llama_vocab_eos(self.vocab))
        self.gpu_layers = params.n_gpu_layers
        self.train_context = llama_cpp.llama_model_n_ctx_train(self.handle)

    def tokenize(self, text: str, special: bool = True, bos: bool = True) -> list[int]:
        """The text's tokens, with BOS in front unless `special` or `bos` is off or it is
        there."""
        data = text.encode("utf-8")
        # A rendered chat template may already begin with the BOS text; never add a second.
        add_bos = bos and special and not (self.bos_text and text.startswith(self.bos_text))
        capacity = len(data) + 16
        buffer = (llama_cpp.llama_token * capacity)()
        count = llama_cpp.llama_tokenize(self.vocab, data, len(data), buffer, capacity,
                                         add_bos, special)
        if count < 0:
            raise ThinkError("the text could not be tokenized", "check it is plain text")
        return list(buffer[:count])

    def tokenize_inserted(self, text: str) -> list[int]:
        """Tokens of text inserted mid-sample: no BOS, and tags such as </think> read as the
        special tokens they are in this vocabulary."""
        return self.tokenize(text, special=True, bos=False)

    def piece(self, token: int, special: bool = False) -> bytes:
        """The bytes a token stands for (a UTF-8 character may span two tokens)."""
        buffer = ctypes.create_string_buffer(64)
        size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 64, 0, special)
        return buffer.raw[:max(0, size)]

    def _special_text(self, token: int) -> str:
        return self.piece(token, special=True).decode("utf-8", "replace") if token >= 0 else ""

    def is_end(self, token: int) -> bool:
        """Whether the token ends generation (EOS, end of turn...)."""
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def end_tokens(self) -> list[int]:
        """The EOS and end-of-turn tokens this vocabulary has."""
        return [t for t in (llama_cpp.llama_vocab_eos(self.vocab),
                            llama_cpp.llama_vocab_eot(self.vocab)) if t >= 0]

    def metadata(self, key: str) -> str | None:
        """One GGUF metadata value, or None when the file has no such key."""
        buffer = ctypes.create_string_buffer(META_BYTES)
        size = llama_cpp.llama_model_meta_val_str(self.handle, key.encode(), buffer, META_BYTES)
        return buffer.value.decode("utf-8", "replace") if size >= 0 else None

    def render_chat(self, messages: list[dict[str, str]], **template_kwargs: Any) -> str:
        """The prompt for a chat under the model's template (plain turns where it has none)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not self.chat_template:
            turns = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages)
            return turns + "Assistant:"
        formatter = Jinja2ChatFormatter(template=self.chat_template, eos_token=self.eos_text,
                                        bos_token=self.bos_text)
        return formatter(messages=cast(Any, messages), **template_kwargs).prompt

    def close(self) -> None:
        """Free the weights; the model is unusable afterwards."""
        if self.handle:
            llama_cpp.llama_model_free(self.handle)
            self.handle = None
