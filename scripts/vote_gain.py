"""What a vote buys over one sampled chain of thought, paired on the same questions, from a
recording (`think bench record`): each question's first sample is its one chain; a vote
draws the samples in their recorded order until the early stop settles it (the Beta rule of
the profiles: 0.95, at least 3) or MAX samples are drawn, and counts them by a rule. (A
solve's one chain at budget 2 is drawn greedily, which a recording does not hold: compare
with it through `think bench accuracy --budgets 2,16`.)

    python -m scripts.vote_gain rec.jsonl [--max 8,40] [--rules majority,cisc,deepconf:0.5]

Prints per rule and MAX: accuracy of the chain and of the vote, the paired difference with
its 95% interval, and the mean samples the vote drew.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from think.bench.replay import load_recordings, parse_rule
from think.stats import paired_difference
from think.strategies.confidence import VoteRule, weigh
from think.tasks.recording import Recording


def vote_of(recording: Recording, rule: VoteRule, most: int) -> tuple[bool, int]:
    """Whether the early-stopped vote of up to `most` samples is right, and how many it drew."""
    stop = parse_rule("beta:0.95", 3)
    votes = recording.votes(most)
    drawn = 0
    for drawn in range(1, len(votes) + 1):
        if stop([answer for answer, _ in votes[:drawn]]):
            break
    leader = weigh(votes[:drawn], rule).leader
    return leader is not None and leader == recording.gold, drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--max", default="8,40", help="most samples a vote draws")
    parser.add_argument("--rules", default="majority,cisc,deepconf:0.5")
    args = parser.parse_args()
    recordings = load_recordings(args.recording)
    chain = [r.answers[0] is not None and r.answers[0] == r.gold for r in recordings]
    print(f"{len(recordings)} questions; one chain: {sum(chain) / len(chain):.1%}")
    print(f"{'rule':<14} {'max':>4} {'samples':>8} {'vote':>7} {'gain':>7}  95% interval")
    for spec in args.rules.split(","):
        rule = VoteRule.parse(spec)
        for most in (int(m) for m in args.max.split(",")):
            outcomes = [vote_of(r, rule, most) for r in recordings]
            right = [ok for ok, _ in outcomes]
            mean, low, high = paired_difference(chain, right)
            drawn = sum(n for _, n in outcomes) / len(outcomes)
            print(f"{spec:<14} {most:>4} {drawn:>8.1f} {sum(right) / len(right):>7.1%} "
                  f"{mean:>+7.1%}  [{low:+.1%}, {high:+.1%}]")


if __name__ == "__main__":
    main()
