"""Write the seeded small-arithmetic task set that confidence votes and fitted profiles are
measured on: questions the embedded model gets right about half the time with one chain of
thought, so a vote has room to help (GSM8K is out of its reach).

    python -m scripts.make_small_arithmetic data/small_arithmetic.jsonl [--count 240]

Each line is {"id", "kind", "question", "answer": "#### N"}, the format think bench reads.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable

NAMES = ("Ana", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
THINGS = ("apples", "marbles", "stickers", "books", "coins", "shells", "pencils", "cards")

Maker = Callable[[random.Random], tuple[str, int]]


def add(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    return f"What is {a} + {b}?", a + b


def add_tens(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(11, 39), rng.randint(2, 9)
    return f"What is {a} + {b}?", a + b


def subtract(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(10, 19), rng.randint(2, 9)
    return f"What is {a} - {b}?", a - b


def multiply(rng: random.Random) -> tuple[str, int]:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return f"What is {a} times {b}?", a * b


def groups(rng: random.Random) -> tuple[str, int]:
    thing = rng.choice(THINGS)
    a, b = rng.randint(2, 6), rng.randint(2, 5)
    return f"A box holds {a} {thing}. How many {thing} are in {b} boxes?", a * b


def more(rng: random.Random) -> tuple[str, int]:
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return (f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have "
            "now?", a + b)


def fewer(rng: random.Random) -> tuple[str, int]:
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(8, 15), rng.randint(2, 7)
    return (f"{name} has {a} {thing} and gives away {b}. How many {thing} does {name} have "
            "left?", a - b)


KINDS: dict[str, Maker] = {"add": add, "multiply": multiply, "more": more, "groups": groups,
                           "add-tens": add_tens, "subtract": subtract, "fewer": fewer}
# The kinds the committed set uses. Measured on the embedded model with one chain of thought
# (6 samples of a few questions each): add 37%, multiply 62%, more 38% right, where a vote
# of the samples was right on 60%, 100% and 25%; add-tens, subtract and fewer were at 0-12%,
# too hard for a vote to help.
DEFAULT_KINDS = ("add", "multiply", "more", "groups")


def make(count: int, seed: int, kinds: list[str]) -> list[dict[str, str]]:
    """`count` distinct questions, the kinds taken in turn, in a seeded order."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    tries = 0
    while len(rows) < count:
        kind = kinds[len(rows) % len(kinds)]
        question, answer = KINDS[kind](rng)
        tries += 1
        if tries > 100 * count:
            raise SystemExit(f"cannot find {count} distinct questions of these kinds")
        if question in seen:
            continue  # small ranges repeat; a question asked twice would count twice
        seen.add(question)
        rows.append({"id": f"{kind}-{len(rows)}", "kind": kind, "question": question,
                     "answer": f"#### {answer}"})
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default=",".join(DEFAULT_KINDS),
                        help="comma-separated kinds, from: " + ", ".join(KINDS))
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        parser.error(f"unknown kinds: {', '.join(unknown)}")
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in make(args.count, args.seed, kinds))


if __name__ == "__main__":
    main()
