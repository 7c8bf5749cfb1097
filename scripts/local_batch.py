"""Questions per second of `think batch` on the local llama.cpp engine: one question at a time
against --parallel N (the questions in flight batched into each decode step), side by side in
one process on the embedded model, with llama.cpp's CPU features.

    python -m scripts.local_batch [--questions 16] [--budgets 1,2] [--parallel 8,16]
        [--llama-server BINARY [--slots 16]]

With --llama-server, one more column: that llama-server with --slots slots on the same
model, fed by `think batch --parallel SLOTS --engine URL`.

Small-sum questions ("What is a + b?"); each configuration runs in a fresh output file, the
one-at-a-time run first, so the prompt cache is warm for all of them alike.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import llama_cpp

from think import cli


def questions(count: int) -> str:
    return "".join(json.dumps({"id": f"q{n}", "question": f"What is {n % 9 + 2} + {n % 7 + 3}?"})
                   + "\n" for n in range(count))


def timed_batch(source: Path, out: Path, budget: str, parallel: int,
                engine: str | None = None) -> float:
    """Seconds for `think batch` over the file, run in this process (one loaded model)."""
    sys.argv = ["think", "batch", str(source), "-b", budget, "--seed", "1", "--out", str(out),
                "--parallel", str(parallel)] + (["--engine", engine] if engine else [])
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        try:
            cli.main()
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"think batch exited {exc.code}") from None
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--budgets", default="1,2")
    parser.add_argument("--parallel", default="8,16")
    parser.add_argument("--llama-server", type=Path, default=None)
    parser.add_argument("--slots", type=int, default=16)
    args = parser.parse_args()
    server = None
    if args.llama_server:
        from think.bench.peer import LlamaServer
        from think.models import resolve

        server = LlamaServer(args.llama_server, resolve().path, "gemma3-270m", args.slots,
                             ctx=args.slots * 1024, threads=2)
    print(llama_cpp.llama_print_system_info().decode().strip())
    widths = [1] + [int(n) for n in args.parallel.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "q.jsonl"
        source.write_text(questions(args.questions))
        timed_batch(source, Path(folder) / "warm.jsonl", "1", 1)  # load the model once
        print(f"{args.questions} questions; questions/second")
        print("budget  " + "  ".join(f"{'one at a time' if n == 1 else f'--parallel {n}':>13}"
                                     for n in widths)
              + (f"  {f'server -np {args.slots}':>13}" if server else ""))
        for budget in args.budgets.split(","):
            rates = []
            for n in widths:
                seconds = timed_batch(source, Path(folder) / f"b{budget}-p{n}.jsonl", budget, n)
                rates.append(args.questions / seconds)
            if server:
                seconds = timed_batch(source, Path(folder) / f"b{budget}-server.jsonl", budget,
                                      args.slots, server.url)
                rates.append(args.questions / seconds)
            cells = "  ".join(f"{rate:13.2f}" for rate in rates)
            print(f"{budget:>6}  {cells}   (x{rates[len(widths) - 1] / rates[0]:.2f} at the "
                  f"widest{f', x{rates[-2] / rates[-1]:.2f} of the server' if server else ''})",
                  flush=True)
    if server:
        server.close()


if __name__ == "__main__":
    main()
