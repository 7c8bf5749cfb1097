"""`think tune`: probe this machine, measure the model's speeds, write a profile that fits.

Measures prompt and decode tokens/s for each sensible thread count, then batched decode at
several widths with the fastest threads; keeps what is fastest here, and records the speeds
so plans can predict their seconds.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from think import paths
from think.config import LoadSettings, Profile, Speeds, load_profile_file
from think.engine.base import SampleRequest
from think.errors import ConfigError, UsageError, option
from think.models import ModelSpec
from think.planning.budget import PromptCosts
from think.planning.predict import timed_plan
from think.tasks.fewshot import FEWSHOT, QUESTION

WIDTHS = (4, 8, 16)
DECODE_TOKENS = 32
PREDICT_BUDGETS = (1, 2, 4, 8, 20, 100)
TYPICAL_PROMPTS = PromptCosts(direct=120, cot=190, round_overhead=260)

Step = Callable[[str], None]


@dataclass
class Machine:
    """What this machine offers."""

    physical_cores: int
    logical_cores: int
    memory_mb: int
    available_mb: int
    gpu_offload: bool
    backends: list[str]


@dataclass
class Tuning:
    """What tune measured and chose."""

    machine: Machine
    threads: int
    gpu_layers: int
    batch_width: int
    speeds: Speeds
    thread_trials: dict[int, float] = field(default_factory=dict)
    buffers: str = ""  # llama.cpp's extra buffer types the speeds were measured with


def memory_mb() -> tuple[int, int]:
    """Total and available memory in MiB."""
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        return (int(info["MemTotal"].split()[0]) // 1024,
                int(info["MemAvailable"].split()[0]) // 1024)
    except (OSError, KeyError, ValueError):
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
        return total, total


def probe() -> Machine:
    from think.engine.llama.system import gpu_offload_supported, physical_cores, system_info

    info = system_info()
    backends = [name for name in ("CUDA", "Metal", "Vulkan", "HIP", "SYCL")
                if name.lower() in info.lower()]
    total, available = memory_mb()
    return Machine(physical_cores(), os.cpu_count() or 1, total, available,
                   gpu_offload_supported(), backends or ["CPU"])


def _timed(engine: Any, request: SampleRequest) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = engine.sample(request)
    return time.perf_counter() - start, result.prompt_tokens, result.generated_tokens


def measure(spec: ModelSpec, base: Profile, step: Step) -> Tuning:
    """Run the measurements; `step` hears each one as it starts."""
    from think.engine.llama import LlamaEngine

    machine = probe()
    layers = -1 if machine.gpu_offload else 0
    candidates = sorted({1, machine.physical_cores, machine.logical_cores})
    prompt = FEWSHOT + QUESTION
    decode = SampleRequest(prompt=prompt, n=1, max_tokens=DECODE_TOKENS, ignore_eos=True)
    trials: dict[int, tuple[float, float]] = {}
    for threads in candidates:
        step(f"{threads} threads: prompt and decode speed")
        load = base.load.model_copy(update={"n_threads": threads, "n_gpu_layers": layers,
                                            "batch_width": max(WIDTHS), "prompt_cache_mb": 0})
        engine = LlamaEngine(spec.path, spec.name, spec.format, load, context=spec.context)
        try:
            seconds, prompt_tokens, _ = _timed(engine, SampleRequest(prompt=prompt, max_tokens=1))
            prompt_tps = prompt_tokens / seconds
            _timed(engine, decode)  # warm
            seconds, _, made = _timed(engine, decode)
            trials[threads] = (prompt_tps, made / seconds)
        finally:
            engine.close()
    threads = max(trials, key=lambda t: trials[t][1])
    prompt_tps, decode_tps = trials[threads]
    load = base.load.model_copy(update={"n_threads": threads, "n_gpu_layers": layers,
                                        "batch_width": max(WIDTHS), "prompt_cache_mb": 0})
    engine = LlamaEngine(spec.path, spec.name, spec.format, load, context=spec.context)
    batch: dict[int, float] = {}
    buffers = engine.extra_buffers.describe(engine.buffer_types)
    try:
        # Untimed: the widest run sizes the KV cache for every width and leaves the prompt
        # held, so each timed run below is decoding only (a context grown mid-way would
        # evaluate the prompt again inside the timing).
        _timed(engine, SampleRequest(prompt=prompt, n=max(WIDTHS), max_tokens=DECODE_TOKENS,
                                     ignore_eos=True))
        for width in WIDTHS:
            step(f"batched decode, {width} sequences")
            request = SampleRequest(prompt=prompt, n=width, max_tokens=DECODE_TOKENS,
                                    ignore_eos=True, seed=width)
            seconds, _, made = _timed(engine, request)
            batch[width] = made / seconds
    finally:
        engine.close()
    best_width = max(batch, key=lambda w: batch[w])
    speeds = Speeds(measured=time.strftime("%Y-%m-%d %H:%M"), prompt_tps=round(prompt_tps, 1),
                    decode_tps=round(decode_tps, 1),
                    batch_tps={w: round(v, 1) for w, v in batch.items()})
    return Tuning(machine, threads, layers, best_width, speeds,
                  {t: round(v[1], 1) for t, v in trials.items()}, buffers)


def default_name() -> str:
    """A profile name from the machine's host name."""
    name = re.sub(r"[^a-z0-9]+", "-", platform.node().lower()).strip("-")
    return name or "this-machine"


def predicted(profile: Profile, context: int) -> dict[int, float]:
    """Predicted seconds for a few budgets, on a GSM8K-size question."""
    assert profile.speeds is not None
    return {budget: timed_plan(profile, budget, TYPICAL_PROMPTS, context).predicted_seconds or 0.0
            for budget in PREDICT_BUDGETS}


def render_profile(base: Profile, tuning: Tuning, name: str, model: ModelSpec) -> str:
    """The tuned profile as commented YAML."""
    data = base.model_dump(exclude={"source", "name", "speeds"}, exclude_none=False)
    data["description"] = f"Tuned by think tune on {tuning.speeds.measured} for {model.name}."
    data["load"] = LoadSettings(**{**base.load.model_dump(), "n_threads": tuning.threads,
                                   "n_gpu_layers": tuning.gpu_layers,
                                   "batch_width": tuning.batch_width}).model_dump()
    data["speeds"] = tuning.speeds.model_dump()
    profile = Profile.model_validate({**data, "name": name})
    machine = tuning.machine
    header = [
        f"# Profile '{name}', written by `think tune` on {tuning.speeds.measured}.",
        f"# Machine: {machine.physical_cores} physical / {machine.logical_cores} logical cores, "
        f"{machine.memory_mb} MiB memory ({machine.available_mb} MiB free), "
        f"backends: {', '.join(machine.backends)}, GPU offload: "
        f"{'yes' if machine.gpu_offload else 'no'}.",
        f"# Model measured: {model.name} ({model.path.name}, "
        f"{model.path.stat().st_size // 2**20} MiB; "
        f"{'fits' if model.path.stat().st_size // 2**20 < machine.available_mb else 'does NOT fit'}"
        f" in free memory).",
        f"# Decode tokens/s by threads: {tuning.thread_trials}; chose {tuning.threads}.",
        f"# llama.cpp {tuning.buffers or 'extra buffers: not recorded'}.",
        f"# Prompt {tuning.speeds.prompt_tps} tokens/s; one stream {tuning.speeds.decode_tps} "
        f"tokens/s; batched {tuning.speeds.batch_tps} (width: tokens/s); "
        f"chose width {tuning.batch_width}.",
        "# Predicted seconds on a GSM8K-size question (upper bounds: every sample to its cap):",
        "#   " + ", ".join(f"budget {b}: {s:.0f} s" for b, s in predicted(profile, model.context)
                          .items()),
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(data, sort_keys=False)


def profile_target(name: str, force: bool) -> Path:
    """Where a user profile of this name goes; refuses to replace one without force."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise UsageError(f"profile name '{name}' has unusual characters",
                         "use letters, digits, '.', '_' and '-'")
    path = paths.user_profiles_dir() / f"{name}.yaml"
    if path.exists() and not force:
        raise UsageError(f"profile '{name}' already exists at {path}",
                         f"pass {option('force=True', '--force')} to replace it (a backup is kept)")
    return path


def write_profile(name: str, text: str, force: bool) -> tuple[Path, Path | None]:
    """Write a user profile; an existing one needs force and is kept as a backup."""
    path = profile_target(name, force)
    backup = None
    try:
        if path.exists():
            backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            backup.write_bytes(path.read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text)
        load_profile_file(partial)  # never leave an invalid profile under the real name
        partial.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}",
                          "check that the config directory is writable") from None
    return path, backup

