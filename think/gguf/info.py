"""What a GGUF file says about its model: architecture, context length, chat template (and
so whether it is a chat or a base model), quantization. Read from the header alone."""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from think.gguf.check import ARRAY, SCALAR_FORMATS, SCALAR_SIZES, Bad, Reader

# llama.cpp's file types (llama_ftype), by number: the quantization most tensors have.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
              10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
              16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
              22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
              28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
              37: "TQ2_0"}
QUANT_IN_NAME = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])",
                           re.IGNORECASE)
LENGTH = struct.Struct("<Q")
# A chat template's family, told by the markers it writes (first match wins).
TEMPLATE_FAMILIES = [("<|im_start|>", "chatml"), ("<start_of_turn>", "gemma"),
                     ("<|start_header_id|>", "llama3"), ("<|start|>", "harmony"),
                     ("[INST]", "mistral"), ("<|user|>", "phi3"), ("<|User|>", "deepseek"),
                     ("<|turn>", "glm"), ("### Instruction", "alpaca")]


@dataclass(frozen=True)
class GgufInfo:
    """The facts `think models list`, `--plan` and prompting need of a model file."""

    architecture: str
    name: str | None
    context: int | None
    chat_template: str | None
    quant: str | None
    size: int

    @property
    def format(self) -> str:
        """chat when the file carries a chat template, else base: never from its name."""
        return "chat" if self.chat_template else "base"

    @property
    def template(self) -> str | None:
        """The chat template's family (chatml, gemma, llama3...), `custom` when unknown."""
        return template_family(self.chat_template)


def template_family(template: str | None) -> str | None:
    """A chat template's family (chatml, gemma, llama3...), `custom` when unknown, None for
    no template."""
    if not template:
        return None
    return next((family for marker, family in TEMPLATE_FAMILIES if marker in template),
                "custom")


def read_info(path: Path) -> GgufInfo | None:
    """The file's facts, or None when it is no readable GGUF file (the check says why).
    Read once per version of a file: every question of a batch resolves its model."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return _read_info(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _read_info(path: str, size: int, mtime_ns: int) -> GgufInfo | None:
    """read_info's work; size and mtime_ns make a changed file a new key."""
    try:
        with open(path, "rb") as handle:
            if size < 24:
                return None
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _info(data, Path(path).name, size)
    except (OSError, ValueError):
        return None


def _info(data: mmap.mmap, file_name: str, size: int) -> GgufInfo | None:
    if bytes(data[:4]) != b"GGUF":
        return None
    reader = Reader(data)
    reader.at = 8  # past the magic and the version
    try:
        reader.take("<Q", "the tensor count")
        values = _scalars(reader, reader.count("the metadata count", 13))
    except (Bad, UnicodeDecodeError):
        return None

    def text(key: str) -> str | None:
        value = values.get(key)
        return value if isinstance(value, str) else None

    def number(key: str) -> int | None:
        value = values.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    architecture = text("general.architecture") or ""
    file_type = number("general.file_type")
    quant = FILE_TYPES.get(file_type) if file_type is not None else None
    if quant is None and (named := QUANT_IN_NAME.search(file_name)):
        quant = named[1].upper()
    return GgufInfo(architecture, text("general.name"),
                    number(f"{architecture}.context_length"),
                    text("tokenizer.chat_template") or None, quant, size)


def _scalars(reader: Reader, n_kv: int) -> dict[str, str | int | float]:
    """Every scalar and string value of the metadata; arrays (the vocabulary: hundreds of
    thousands of strings) are stepped over by their lengths alone."""
    found: dict[str, str | int | float] = {}
    for _ in range(n_kv):
        key = reader.string("a metadata key").decode("utf-8")
        kind = reader.take("<I", f"{key}'s type")
        if kind == ARRAY:
            _skip_array(reader, key)
        elif kind not in SCALAR_SIZES:
            raise Bad(f"{key} has unknown type {kind}")
        elif SCALAR_SIZES[kind] is None:
            found[key] = reader.string(key).decode("utf-8", "replace")
        else:
            found[key] = struct.unpack_from(SCALAR_FORMATS[kind], reader.data, reader.at)[0]
            reader.skip(SCALAR_SIZES[kind] or 0, key)
    return found


def _skip_array(reader: Reader, key: str) -> None:
    element = reader.take("<I", f"{key}'s element type")
    if element == ARRAY or element not in SCALAR_SIZES:
        raise Bad(f"{key} is an array of unknown type {element}")
    n = reader.count(f"{key}'s length", SCALAR_SIZES[element] or 8)
    if SCALAR_SIZES[element] is not None:
        reader.skip(n * (SCALAR_SIZES[element] or 0), key)
        return
    length_at, data, at, end = LENGTH.unpack_from, reader.data, reader.at, len(reader.data)
    for _ in range(n):  # the hot loop of a listing: local names only
        if at + 8 > end:
            raise Bad(f"the file ends inside {key}")
        at += 8 + length_at(data, at)[0]
    if at > end:
        raise Bad(f"the file ends inside {key}")
    reader.at = at
