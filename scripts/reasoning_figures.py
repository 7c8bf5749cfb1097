"""How a reasoning model's thinking is spent per budget: on the tiny reasoning model (random
weights, think tags as single tokens) through the local llama.cpp engine and through
llama-server on loopback, under the `reasoning` profile (or another). For each budget it
prints the plan's thinking cap, the thinking tokens samples used, and how many blocks were
closed at the cap (forced), by the model itself, or never opened; and how long llama-server
took to build (from its cache) and to start.

    python -m scripts.reasoning_figures [--profile reasoning] [--budgets 2,4,8,16] [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.llama_server import llama_server_binary
from tests.support.servers import start_llama_server
from tests.support.tiny_reasoner import build_tiny_reasoner

QUESTION = "What is 3 + 4?"


def row(where: str, budget: int, results: list) -> str:
    samples = [s for r in results for s in r.samples if s.finish != "cancelled"]
    thought = [s.thinking_tokens for s in samples if s.thinking_tokens is not None]
    forced = sum(s.closed == "forced" for s in samples)
    by_model = sum(s.closed == "model" for s in samples)
    cap = results[0].plan.cot_tokens
    minimum = results[0].plan.min_thinking_tokens
    mean = statistics.mean(thought) if thought else 0.0
    no_block = len(samples) - len(thought)
    return (f"{where:<12} {budget:>6} {cap:>5} {minimum:>5} {len(samples):>8} {mean:>9.1f} "
            f"{max(thought, default=0):>5} {forced:>7} {by_model:>9} {no_block:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="reasoning")
    parser.add_argument("--budgets", default="2,4,8,16")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="think-reasoning-"))
    os.environ["THINK_HOME"] = str(home)
    model = build_tiny_reasoner(home / "tiny-reasoner.gguf")
    binary = llama_server_binary()
    built = (binary.parent / "build-seconds").read_text().strip() \
        if (binary.parent / "build-seconds").exists() else "?"
    started = time.monotonic()
    server = start_llama_server(model, "tiny-reasoner")
    print(f"llama-server: built in {built} s (cached), started in "
          f"{time.monotonic() - started:.1f} s")
    (home / "config").mkdir(parents=True)
    (home / "config" / "models.yaml").write_text(
        f"models:\n  tiny-local:\n    path: {model}\n    format: chat\n    context: 4096\n"
        f"    reasoning: {{}}\n  tiny-server:\n    base_url: {server.url}\n"
        "    served_name: tiny-reasoner\n    format: chat\n    context: 4096\n"
        "    reasoning: {}\n")
    import think

    print(f"profile {args.profile}, {args.seeds} seeds a budget")
    print(f"{'engine':<12} {'budget':>6} {'cap':>5} {'min':>5} {'samples':>8} {'mean thk':>9} "
          f"{'max':>5} {'forced':>7} {'by model':>9} {'no block':>9}")
    try:
        for where in ("tiny-local", "tiny-server"):
            for budget in (int(b) for b in args.budgets.split(",")):
                results = [think.solve(QUESTION, budget=budget, profile=args.profile,
                                       model=where, seed=seed) for seed in range(args.seeds)]
                print(row(where, budget, results), flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
