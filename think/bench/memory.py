"""`think bench memory`: peak RSS and KV cache size of one batch of N samples, and whether
repeated votes grow the process.

Each width runs in a fresh child process (`python -m think.bench.memory`), since a peak
resident size only ever rises: measured in one process, N=1 would inherit the model load of
the run before it and N=64 the peaks of all. The growth check is one more child, solving the
same question again and again, so the engine is loaded once and any leak shows as a rising
resident size after each solve."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from think.errors import ThinkError

GROWTH_QUESTION = "Tom has 3 apples and buys 4 more. How many apples does he have now?"
KV_BYTES_PER_VALUE = 2  # llama.cpp's default KV type is f16


def status_kib(field_name: str) -> int:
    """One size from /proc/self/status (VmHWM: the peak resident set, VmRSS: the current),
    in KiB; falls back to getrusage's peak where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes there, KiB on Linux


def kv_bytes_per_cell(engine: Any) -> int:
    """K and V of every layer for one token, from the model's shape: the context keeps whole
    sliding-window layers too (swa_full), so every layer holds every cell."""
    import llama_cpp

    model = engine.model
    handle = model.handle
    layers = llama_cpp.llama_model_n_layer(handle)
    heads_kv = llama_cpp.llama_model_n_head_kv(handle)
    arch = model.metadata("general.architecture") or ""
    default = llama_cpp.llama_model_n_embd(handle) // max(1, llama_cpp.llama_model_n_head(handle))
    key = int(model.metadata(f"{arch}.attention.key_length") or default)
    value = int(model.metadata(f"{arch}.attention.value_length") or default)
    return layers * heads_kv * (key + value) * KV_BYTES_PER_VALUE


def child_width(model: str | None, profile: str | None, n: int, tokens: int) -> dict[str, Any]:
    """In the child: load, sample N x tokens once, and report the sizes."""
    from think.config import load_profile
    from think.engine.base import SampleRequest
    from think.engine.llama import LlamaEngine
    from think.models import resolve
    from think.tasks.fewshot import FEWSHOT, QUESTION

    spec = resolve(model)
    load = load_profile(profile).load.model_copy(update={"batch_width": n})
    engine = LlamaEngine(spec.path, spec.name, spec.format, load, context=spec.context)
    loaded = status_kib("VmRSS")
    result = engine.sample(SampleRequest(prompt=FEWSHOT + QUESTION, n=n, max_tokens=tokens,
                                         temperature=0.7, seed=0, ignore_eos=True))
    cells = engine.ctx_cells
    return {"n": n, "tokens": tokens, "generated_tokens": result.generated_tokens,
            "loaded_rss_kib": loaded, "peak_rss_kib": status_kib("VmHWM"),
            "kv_cells": cells, "kv_bytes": cells * kv_bytes_per_cell(engine)}


def child_growth(model: str | None, profile: str | None, budget: int,
                 solves: int) -> dict[str, Any]:
    """In the child: the same vote `solves` times, the resident size after each."""
    from think import api

    sizes, tokens = [], 0
    for i in range(solves):
        result = api.solve(GROWTH_QUESTION, budget=budget, model=model, profile=profile,
                           seed=i, log=False)
        tokens += result.compute.generated_tokens
        sizes.append(status_kib("VmRSS"))
    return {"budget": budget, "solves": solves, "rss_kib": sizes, "generated_tokens": tokens}


def in_child(*args: str) -> dict[str, Any]:
    """Run this module in a fresh interpreter and read the JSON it prints last."""
    done = subprocess.run([sys.executable, "-m", "think.bench.memory", *args],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ThinkError(f"the memory child ({' '.join(args[:1])}) failed: {last}",
                         "run it again; a child killed for memory exits with -9")
    return dict(json.loads(lines[-1]))


@dataclass
class MemoryReport:
    """Everything `think bench memory` measured."""

    model: str | None
    widths: list[dict[str, Any]] = field(default_factory=list)
    growth: dict[str, Any] = field(default_factory=dict)


def run_memory(model: str | None, profile: str | None, widths: list[int], tokens: int,
               budget: int, solves: int, progress: Any) -> MemoryReport:
    """One child per width, then one for the repeated votes."""
    report = MemoryReport(model)
    common = [model or "", profile or ""]
    for n in widths:
        progress(f"N={n} x {tokens} tokens in a fresh process")
        report.widths.append(in_child("width", *common, str(n), str(tokens)))
    if solves:
        progress(f"{solves} budget-{budget} solves in one process")
        report.growth = in_child("growth", *common, str(budget), str(solves))
    return report


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def format_memory(report: MemoryReport) -> str:
    """The table `think bench memory` prints."""
    lines = [f"{'N':>3}  {'tokens':>6}  {'KV cells':>8}  {'KV cache':>9}  {'RSS loaded':>10}  "
             f"{'peak RSS':>9}  {'peak - loaded':>13}"]
    for row in report.widths:
        lines.append(f"{row['n']:>3}  {row['tokens']:>6}  {row['kv_cells']:>8}  "
                     f"{row['kv_bytes'] / 2**20:>5.0f} MiB  {mib(row['loaded_rss_kib']):>10}  "
                     f"{mib(row['peak_rss_kib']):>9}  "
                     f"{mib(row['peak_rss_kib'] - row['loaded_rss_kib']):>13}")
    growth = report.growth
    if growth:
        sizes = growth["rss_kib"]
        most = max(b - a for a, b in zip(sizes, sizes[1:], strict=False)) if len(sizes) > 1 else 0
        lines.append(f"{growth['solves']} budget-{growth['budget']} solves in one process "
                     f"({growth['generated_tokens']} tokens): RSS after the first "
                     f"{mib(sizes[0])}, after the last {mib(sizes[-1])} "
                     f"({(sizes[-1] - sizes[0]) / 1024:+.1f} MiB), largest step between "
                     f"solves {most / 1024:+.1f} MiB")
        lines.append("RSS after each solve (MiB): "
                     + " ".join(f"{size / 1024:.0f}" for size in sizes))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """The child's entry: `width MODEL PROFILE N TOKENS` or `growth MODEL PROFILE BUDGET K`."""
    kind, model, profile, first, second = argv
    run = child_width if kind == "width" else child_growth
    print(json.dumps(run(model or None, profile or None, int(first), int(second))))


if __name__ == "__main__":
    main(sys.argv[1:])
