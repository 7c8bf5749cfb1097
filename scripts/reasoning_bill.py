"""What a run on a reasoning server costs the server, beside its plan: for llama.cpp's own
llama-server on the tiny reasoning model, the loopback stub in vLLM's dialect, and the stub as
a server that ignores the thinking cap, each serving a model no models.yaml names (`r1`, the
stub's `reasoner`). Per budget: the planned tokens, think's count, the server's usage as the
run's JSON reports it (`compute.server_usage`, every request's prompt and completion summed)
and its ratio to the plan; for the stubs also what the stub itself counted it was sent and
streamed.

    python -m scripts.reasoning_bill [--budgets 2,8,20,64] [--seeds 1] [--no-llama-server]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tests.support.reasoning_server import Behaviour, reasoning_server
from tests.support.servers import start_llama_server
from tests.support.tiny_reasoner import build_tiny_reasoner

QUESTION = "What is 3 + 4?"


def rows(where: str, url: str, model: str, budgets: list[int], seeds: int,
         behaviour: Behaviour | None = None) -> None:
    import think

    for budget in budgets:
        for seed in range(seeds):
            before = (behaviour.billed, behaviour.streamed) if behaviour else (0, 0)
            result = think.solve(QUESTION, budget=budget, model=model, server=url, seed=seed,
                                 early_stop=False, log=False)
            plan = result.plan.planned_tokens
            counted = result.compute.prompt_tokens + result.compute.generated_tokens
            usage = result.compute.server_usage or {}
            total = int(usage.get("total_tokens", 0))
            own = "" if behaviour is None else \
                f"{behaviour.billed + behaviour.streamed - sum(before):>8}"
            print(f"{where:<13} {budget:>6} {seed:>4} {plan:>7} {counted:>7} {total:>7} "
                  f"{total / plan:>6.2f} {usage.get('requests', 0):>5} "
                  f"{usage.get('estimated_requests', 0):>5} {own}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", default="2,8,20,64")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--no-llama-server", action="store_true")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    home = Path(tempfile.mkdtemp(prefix="think-bill-"))
    os.environ["THINK_HOME"] = str(home)
    print(f"{'server':<13} {'budget':>6} {'seed':>4} {'plan':>7} {'think':>7} {'server':>7} "
          f"{'ratio':>6} {'reqs':>5} {'est':>5} {'stub own':>8}")
    for name, behaviour in (("vllm-stub", Behaviour(dialect="vllm", owned_by="vllm")),
                            ("cap-ignoring", Behaviour(dialect="llama-server",
                                                       honour_cap=False))):
        with reasoning_server(behaviour) as url:
            rows(name, url, "reasoner", budgets, args.seeds, behaviour)
    if not args.no_llama_server:
        server = start_llama_server(build_tiny_reasoner(home / "tiny.gguf"), "r1")
        try:
            rows("llama-server", server.url, "r1", budgets, args.seeds)
        finally:
            server.close()


if __name__ == "__main__":
    main()
