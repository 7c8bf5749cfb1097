"""Throughput of `think batch` against an OpenAI-compatible server: 1 vs N questions in flight,
alternated side by side. Starts llama-cpp-python's server on loopback with the embedded model.

    python -m scripts.server_batch [--questions 8] [--budget 2] [--parallel 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.servers import free_port, start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--budget", default="2")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    think = shutil.which("think", path=os.path.dirname(sys.executable)) or "think"
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp())
    source = work / "q.txt"
    source.write_text("".join(f"What is {n} + {2 * n}?\n" for n in range(args.questions)))
    times: dict[int, list[float]] = {1: [], args.parallel: []}
    try:
        for round_no in range(args.rounds):
            for parallel in times:
                out = work / f"out-{round_no}-{parallel}.jsonl"
                start = time.perf_counter()
                subprocess.run([think, "batch", str(source), "--engine", url, "--model",
                                "gemma3-270m", "-b", args.budget, "--parallel", str(parallel),
                                "--out", str(out)], check=True, stderr=subprocess.DEVNULL)
                times[parallel].append(time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
    for parallel, runs in times.items():
        best = min(runs)
        print(f"{parallel} in flight: " + ", ".join(f"{t:.1f}" for t in runs) +
              f" s; best {args.questions / best * 60:.1f} questions/min")
    ratio = min(times[1]) / min(times[args.parallel])
    print(f"{args.parallel} in flight vs 1: {ratio:.2f}x")


if __name__ == "__main__":
    main()
