"""What llama.cpp's extra buffer types (CPU_REPACK, AMX) are worth here, and what the rule costs.

Loads the embedded model three times, with load.extra_buffers on, off and auto, then
alternates the three in every round (so they share the machine's noise): prompt tokens/s,
one stream's decode tokens/s, and 8 sequences decoded together. Also times the rule itself
(deciding `auto`, which on a CPU without AMX reads /proc/cpuinfo and runs no probe).

    python -m scripts.extra_buffers [--rounds 5] [--tokens 64] [--width 8]
"""

from __future__ import annotations

import argparse
import statistics
import time

from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine, extra_buffers
from think.engine.llama.system import system_info
from think.models import resolve
from think.tasks.fewshot import FEWSHOT, QUESTION

SETTINGS = ("on", "off", "auto")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--width", type=int, default=8)
    args = parser.parse_args()
    spec = resolve()
    prompt = FEWSHOT + QUESTION
    engines, loads = {}, {}
    for setting in SETTINGS:
        start = time.perf_counter()
        engines[setting] = LlamaEngine(spec.path, spec.name, spec.format, LoadSettings(
            extra_buffers=setting, batch_width=args.width, prompt_cache_mb=0))
        loads[setting] = time.perf_counter() - start
    one = SampleRequest(prompt=prompt, n=1, max_tokens=args.tokens, ignore_eos=True)
    wide = SampleRequest(prompt=prompt, n=args.width, max_tokens=args.tokens, ignore_eos=True)
    runs: dict[str, dict[str, list[float]]] = {s: {"prompt": [], "one": [], "wide": []}
                                               for s in SETTINGS}
    for engine in engines.values():  # warm: contexts sized, pages touched
        engine.sample(wide)
    for _ in range(args.rounds):
        for setting, engine in engines.items():
            engine.forget_prompt()
            start = time.perf_counter()
            made = engine.sample(SampleRequest(prompt=prompt, max_tokens=1))
            runs[setting]["prompt"].append(made.prompt_tokens / (time.perf_counter() - start))
            for name, request in (("one", one), ("wide", wide)):
                start = time.perf_counter()
                made = engine.sample(request)
                runs[setting][name].append(made.generated_tokens
                                           / (time.perf_counter() - start))
    start = time.perf_counter()
    for _ in range(100):
        extra_buffers._decided.clear()
        extra_buffers.decide("auto", spec.path)
    rule_ms = (time.perf_counter() - start) * 10
    print(system_info())
    print(f"model {spec.name}, {engines['on'].threads} threads, {args.rounds} rounds "
          f"alternated, median tokens/s")
    print(f"{'setting':<8} {'buffers':<54} {'load s':>6} {'prompt':>7} {'1 stream':>8} "
          f"{f'{args.width} together':>11}")
    for setting, engine in engines.items():
        median = {name: statistics.median(values) for name, values in runs[setting].items()}
        print(f"{setting:<8} {engine.extra_buffers.describe(engine.buffer_types):<54} "
              f"{loads[setting]:>6.2f} {median['prompt']:>7.1f} {median['one']:>8.1f} "
              f"{median['wide']:>11.1f}")
    print(f"deciding auto: {rule_ms:.3f} ms a load")
    for engine in engines.values():
        engine.close()


if __name__ == "__main__":
    main()
