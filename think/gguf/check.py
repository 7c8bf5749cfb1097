"""A GGUF file's header checked before llama.cpp reads it.

llama.cpp trusts a model file's header: a count or a length past reason makes it allocate
without end (a load that never returns) or fail an assertion that aborts the whole process,
and a metadata value of an unexpected type (`general.alignment` as text, tokens as numbers)
trips an assertion too. So the header is read here first, every count and length held to what
the file can hold, every type to one llama.cpp knows, and the tensors' data to the file's size
(a truncated download is refused here, not inside llama.cpp). Only the header is read: a model
of gigabytes is checked in a moment.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from think.errors import ModelError
from think.gguf import rules as gguf_rules
from think.gguf.rules import Value

MAGIC = b"GGUF"
VERSIONS = (2, 3)  # version 1 is no longer read by llama.cpp; a later one is not known yet
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
MAX_NAME = 64  # GGML_MAX_NAME: a tensor's name, its terminating NUL included
MAX_COUNT = 1 << 24  # tensors or metadata entries: real models have thousands
ARRAY = 9
# Metadata value types by number: the size of one, or None for a string (or an array).
SCALAR_SIZES: dict[int, int | None] = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: None,
                                       10: 8, 11: 8, 12: 8}
SCALAR_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                  10: "<Q", 11: "<q", 12: "<d"}
MAX_LAYERS = 512  # LLAMA_MAX_LAYERS: per-layer arrays are no longer than this
# ggml tensor types: (elements per block, bytes per block); 4, 5 and 31-33 were removed.
TENSOR_TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
                8: (32, 34), 9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144),
                13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74),
                18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
                23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
                29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
                40: (64, 36), 41: (128, 18)}


Bad = gguf_rules.Bad


class Reader:
    """Little-endian reads from the mapped file, each held to the bytes that are there."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self.data, self.at = data, 0

    @property
    def left(self) -> int:
        return len(self.data) - self.at

    def take(self, fmt: str, what: str) -> int:
        size = struct.calcsize(fmt)
        if size > self.left:
            raise Bad(f"the file ends inside the header ({what})")
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return int(value)

    def skip(self, size: int, what: str) -> None:
        if size > self.left:
            raise Bad(f"{what} of {size} bytes runs past the end of the file")
        self.at += size

    def count(self, what: str, each: int) -> int:
        """A count of things that take at least `each` bytes apiece, held to the file."""
        n = self.take("<Q", what)
        if n > MAX_COUNT or n * each > self.left:
            raise Bad(f"{what} is {n}, more than the file can hold")
        return n

    def string(self, what: str) -> bytes:
        size = self.take("<Q", what)
        start = self.at
        self.skip(size, what)
        return bytes(self.data[start:self.at])


def metadata_value(reader: Reader, kind: int, key: str) -> Value:
    """Read past one value, keeping what the rules look at: a scalar's value, an array's
    type and length (and the byte tokens of the token list)."""
    if kind == ARRAY:
        return array_value(reader, key)
    if kind not in SCALAR_SIZES:
        raise Bad(f"{key} has unknown type {kind}")
    size = SCALAR_SIZES[kind]
    if size is None:
        start = reader.at + 8
        reader.skip(reader.take("<Q", key), key)
        return Value(kind, bytes(reader.data[start:reader.at]).decode("utf-8", "replace"))
    return Value(kind, reader.take(SCALAR_FORMATS[kind], key))


def array_value(reader: Reader, key: str) -> Value:
    element = reader.take("<I", f"{key}'s element type")
    if element == ARRAY or element not in SCALAR_SIZES:
        raise Bad(f"{key} is an array of unknown type {element}")
    size = SCALAR_SIZES[element]
    n = reader.count(f"{key}'s length", size or 8)
    if size is not None:
        start = reader.at
        reader.skip(n * size, key)
        small = element in SCALAR_FORMATS and n <= MAX_LAYERS  # per-layer values are read
        items = list(struct.unpack_from(f"<{n}{SCALAR_FORMATS[element][1:]}", reader.data,
                                        start)) if small else []
        return Value(ARRAY, items, element, n)
    byte_tokens = set()
    for _ in range(n):
        length = reader.take("<Q", key)
        if length == 6 and key == "tokenizer.ggml.tokens":
            byte_tokens.add(bytes(reader.data[reader.at:reader.at + 6]))
        reader.skip(length, f"a string in {key}")
    return Value(ARRAY, byte_tokens, element, n)


def metadata(reader: Reader, n_kv: int) -> dict[str, Value]:
    """Read past the metadata, checking every length; returns each key's Value."""
    found: dict[str, Value] = {}
    for _ in range(n_kv):
        key = reader.string("a metadata key").decode("utf-8", "replace")
        if key in found:
            raise Bad(f"metadata key {key!r} is there twice")
        kind = reader.take("<I", f"{key}'s type")
        found[key] = metadata_value(reader, kind, key)
    return found


def tensor(reader: Reader) -> tuple[str, int, int]:
    """One tensor's entry: its name, its data's offset and its size in bytes."""
    name = reader.string("a tensor name").decode("utf-8", "replace")
    if len(name.encode()) >= MAX_NAME:
        raise Bad(f"tensor name {name[:40]!r}... is longer than llama.cpp allows")
    n_dims = reader.take("<I", f"{name}'s dimensions")
    if n_dims > MAX_DIMS:
        raise Bad(f"tensor {name} has {n_dims} dimensions (at most {MAX_DIMS})")
    dims = [reader.take("<q", f"{name}'s shape") for _ in range(n_dims)]
    kind = reader.take("<I", f"{name}'s type")
    offset = reader.take("<Q", f"{name}'s offset")
    if kind not in TENSOR_TYPES:
        raise Bad(f"tensor {name} has unknown type {kind}")
    block, block_bytes = TENSOR_TYPES[kind]
    if any(d < 0 for d in dims) or (dims and dims[0] % block):
        raise Bad(f"tensor {name} has shape {dims}, impossible for its type")
    elements = 1
    for d in dims:
        elements *= d
    return name, offset, elements // block * block_bytes


def tensors(reader: Reader, n_tensors: int) -> list[tuple[str, int, int]]:
    return [tensor(reader) for _ in range(n_tensors)]


def check_layout(found: list[tuple[str, int, int]], data_start: int, alignment: int,
                 file_size: int) -> None:
    """Every tensor's data aligned and inside the file (a truncated copy ends early)."""
    room = file_size - data_start
    for name, offset, size in found:
        if offset % alignment:
            raise Bad(f"tensor {name}'s data is not aligned to {alignment} bytes")
        if offset + size > room:
            raise Bad(f"tensor {name}'s data ends past the end of the file (the file is "
                      f"{file_size} bytes; it needs {data_start + offset + size})")


def header_problem(data: mmap.mmap | bytes) -> str | None:
    """What is wrong with a GGUF file's header, or None when llama.cpp may read it."""
    reader = Reader(data)
    try:
        if reader.left < 4 or bytes(data[:4]) != MAGIC:
            return "it does not start with GGUF"
        reader.at = 4
        version = reader.take("<I", "the version")
        if version not in VERSIONS:
            return f"GGUF version {version} (llama.cpp reads versions 2 and 3)"
        n_tensors = reader.take("<Q", "the tensor count")
        n_kv = reader.take("<Q", "the metadata count")
        for n, what, each in ((n_tensors, "the tensor count", 24), (n_kv, "the metadata count",
                                                                     13)):
            if n > MAX_COUNT or n * each > reader.left:
                return f"{what} is {n}, more than the file can hold"
        values = metadata(reader, n_kv)
        gguf_rules.check(values)
        alignment = int(values["general.alignment"].value) if "general.alignment" in values \
            else DEFAULT_ALIGNMENT
        found = tensors(reader, n_tensors)
        data_start = -(-reader.at // alignment) * alignment
        check_layout(found, data_start, alignment, len(data))
    except Bad as bad:
        return str(bad)
    return None


def check(path: Path) -> None:
    """Refuse a GGUF file whose header llama.cpp must not be given, in one line."""
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size == 0:
                problem: str | None = "the file is empty"
            else:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    problem = header_problem(data)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model file {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}",
                         "check that it is a file and can be read") from None
    if problem:
        raise ModelError(f"{path} is not a usable GGUF model file: {problem}",
                         "download it again or give another .gguf file; a damaged or "
                         "truncated file cannot be loaded")
