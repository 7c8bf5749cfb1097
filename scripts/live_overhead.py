"""Does the live view slow decoding? The same seeded run with the live view on a terminal
and with --quiet, alternated side by side; prints wall seconds and the ratio.

    python -m scripts.live_overhead [--budget 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from tests.support.terminal import run_on_terminal

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", default="20")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    common = ("solve", Q, "--budget", args.budget, "--no-early-stop", "--seed", "1")
    times: dict[str, list[float]] = {"live": [], "quiet": []}
    for _ in range(args.rounds):
        for mode in ("live", "quiet"):
            start = time.perf_counter()
            run_on_terminal(*common, *(("--quiet",) if mode == "quiet" else ()))
            times[mode].append(time.perf_counter() - start)
    live, quiet = statistics.median(times["live"]), statistics.median(times["quiet"])
    for mode, runs in times.items():
        print(f"{mode:>5}: " + ", ".join(f"{t:.2f}" for t in runs) + " s")
    print(f"median live {live:.2f} s, quiet {quiet:.2f} s, live/quiet {live / quiet:.3f}")


if __name__ == "__main__":
    main()
