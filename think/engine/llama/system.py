"""Facts about this machine and this llama.cpp build, and llama.cpp's log hook (--verbose)."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import llama_cpp

_log_state = {"verbose": False}
_buffer_types: list[str] = []  # what llama.cpp's load log names ("CPU_REPACK model buffer size")

# CPU features that decide which matrix kernels llama.cpp runs, so speed figures compare
# across machines: on AVX2 (16 vector registers) its quantized kernels work on 4x2 tiles of
# weights x rows, with AVX-512 (32 registers) on 4x4, which is what batched decoding gains by.
MATMUL_FEATURES = ("AVX2", "AVX512", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI", "AMX_INT8",
                   "NEON", "DOTPROD", "MATMUL_INT8", "SVE", "SME")


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


def start_buffer_log() -> None:
    """Forget the buffer types logged so far, before a model load logs its own."""
    _buffer_types.clear()


def logged_buffer_types() -> list[str]:
    """The buffer types llama.cpp's log named since start_buffer_log (CPU_Mapped, CPU_REPACK)."""
    return list(_buffer_types)


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


def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can offload layers to a GPU (CUDA, Metal, Vulkan...)."""
    return bool(llama_cpp.llama_supports_gpu_offload())


def system_info() -> str:
    """llama.cpp's system-info line: the backends and CPU features this build uses."""
    return llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()


def matmul_features(info: str) -> list[str]:
    """The MATMUL_FEATURES a llama.cpp system-info line reports as on (`AVX2 = 1 | ...`)."""
    found = []
    for part in info.replace("\n", "|").split("|"):
        name, _, value = part.partition("=")
        name = name.rpartition(":")[2].strip()  # the first of a backend reads "CPU : SSE3"
        if name in MATMUL_FEATURES and value.strip() == "1":
            found.append(name)
    return found


DEVICE_KINDS = {0: "CPU", 1: "GPU", 2: "iGPU", 3: "accelerator"}  # ggml_backend_dev_type


def backend_devices() -> list[tuple[str, str, str]]:
    """The devices llama.cpp's backends see, as (name, description, kind): "CUDA0", "NVIDIA
    H100", "GPU". The Python bindings do not wrap ggml's device list, so it is read from the
    ggml library they load; an empty list when that library cannot be asked."""
    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    names = {"linux": "libggml.so", "darwin": "libggml.dylib", "win32": "ggml.dll"}
    try:
        ggml = ctypes.CDLL(str(lib_dir / names.get(sys.platform, "libggml.so")))
        ggml.ggml_backend_dev_count.restype = ctypes.c_size_t
        ggml.ggml_backend_dev_get.restype = ctypes.c_void_p
        ggml.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
        for text in (ggml.ggml_backend_dev_name, ggml.ggml_backend_dev_description):
            text.restype, text.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        ggml.ggml_backend_dev_type.restype = ctypes.c_int
        ggml.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return []
    devices = []
    for index in range(ggml.ggml_backend_dev_count()):
        device = ggml.ggml_backend_dev_get(index)
        devices.append(((ggml.ggml_backend_dev_name(device) or b"?").decode(errors="replace"),
                        (ggml.ggml_backend_dev_description(device) or b"").decode(
                            errors="replace"),
                        DEVICE_KINDS.get(ggml.ggml_backend_dev_type(device), "other")))
    return devices
