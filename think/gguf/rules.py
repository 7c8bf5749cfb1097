"""What a GGUF file's metadata must hold for llama.cpp to refuse it with an error rather than
end the process: llama.cpp asserts (and aborts) on some values it reads without checking, such
as a layer count past its arrays, an expert count past its limit, a tokenizer list of the wrong
type, or a SentencePiece vocabulary without the byte tokens its tokenizer falls back on.
gguf_check reads the header; these rules judge the values it kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ARRAY = 9
INTEGERS = (0, 1, 2, 3, 4, 5, 10, 11)
TYPE_NAMES = {4: "uint32", 5: "int32", 6: "float32", 8: "string"}
MAX_LAYERS = 512  # LLAMA_MAX_LAYERS
MAX_EXPERTS = 512  # LLAMA_MAX_EXPERTS
# Metadata llama.cpp reads without checking its type first: (type, whether an array of it).
TYPED_KEYS = {"general.alignment": (4, False), "general.architecture": (8, False),
              "tokenizer.ggml.tokens": (8, True), "tokenizer.ggml.scores": (6, True),
              "tokenizer.ggml.token_type": (5, True), "tokenizer.ggml.merges": (8, True)}
PER_TOKEN = ("tokenizer.ggml.scores", "tokenizer.ggml.token_type")
BYTE_TOKENS = {f"<0x{byte:02X}>".encode() for byte in range(256)}


class Bad(Exception):
    """What is wrong with the file, in words for the one-line error."""


@dataclass(frozen=True)
class Value:
    """One metadata value as the header check kept it: its type, the value (a number or
    text; an array's per-layer numbers or, for the token list, its byte tokens), and for an
    array the element type and length."""

    kind: int
    value: Any
    element: int = -1
    length: int = 0


def check(values: dict[str, Value]) -> None:
    """Refuse metadata llama.cpp would assert on."""
    for key, value in values.items():
        if key in TYPED_KEYS:
            typed(key, value)
    tokens = values.get("tokenizer.ggml.tokens")
    for key in PER_TOKEN:
        if key in values and tokens is not None and values[key].length != tokens.length:
            raise Bad(f"{key} has {values[key].length} entries for {tokens.length} tokens")
    model = values.get("tokenizer.ggml.model")
    if model is not None and model.value == "llama" and tokens is not None \
            and not BYTE_TOKENS <= tokens.value:
        raise Bad("its SentencePiece vocabulary lacks the byte tokens <0x00>..<0xFF>")
    arch = values.get("general.architecture")
    if arch is not None:
        layers_and_experts(values, str(arch.value))


def typed(key: str, value: Value) -> None:
    want, is_array = TYPED_KEYS[key]
    got = value.element if value.kind == ARRAY else value.kind
    if is_array != (value.kind == ARRAY) or got != want:
        raise Bad(f"{key} must be {'an array of ' if is_array else ''}{TYPE_NAMES[want]}")
    if key == "general.alignment" and (not value.value or value.value & (value.value - 1)):
        raise Bad(f"general.alignment is {value.value}, not a power of two")


def number(values: dict[str, Value], key: str) -> int:
    """An integer hyperparameter (0 when absent); for a per-layer array, its largest."""
    value = values.get(key)
    if value is None:
        return 0
    if value.kind == ARRAY and value.element in INTEGERS:
        return max(value.value, default=0)
    if value.kind not in INTEGERS:
        return 0  # of another type: llama.cpp refuses it with an error of its own
    return int(value.value)


def layers_and_experts(values: dict[str, Value], arch: str) -> None:
    if f"{arch}.block_count" in values:
        layers = number(values, f"{arch}.block_count")
        if not 0 < layers <= MAX_LAYERS:
            raise Bad(f"{arch}.block_count is {layers} (llama.cpp takes 1 to {MAX_LAYERS})")
    experts, used = number(values, f"{arch}.expert_count"), number(
        values, f"{arch}.expert_used_count")
    groups, groups_used = number(values, f"{arch}.expert_group_count"), number(
        values, f"{arch}.expert_group_used_count")
    if experts > MAX_EXPERTS:
        raise Bad(f"{arch}.expert_count is {experts} (llama.cpp takes at most {MAX_EXPERTS})")
    if used > experts or (experts and not used):
        raise Bad(f"{arch}.expert_used_count is {used} for {experts} experts")
    if (experts and groups >= experts) or (not experts and groups):
        raise Bad(f"{arch}.expert_group_count is {groups} for {experts} experts")
    if groups > 1 and (experts % groups or not 0 < groups_used < groups):
        raise Bad(f"{arch}.expert_group_used_count is {groups_used} for {groups} groups of "
                  f"{experts} experts")
