"""Write a mixed set of easy and hard questions for `think bench accuracy`: seeded one-step
sums (easy) and a seeded slice of a GSM8K-format file (hard).

    python -m scripts.make_mixed GSM8K_TEST.jsonl mixed.jsonl [--easy 10] [--hard 10]
"""

from __future__ import annotations

import argparse
import json
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("gsm8k")
    parser.add_argument("out")
    parser.add_argument("--easy", type=int, default=10)
    parser.add_argument("--hard", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    for number in range(args.easy):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        rows.append({"id": f"easy-{number}", "question": f"What is {a} + {b}?",
                     "answer": f"#### {a + b}"})
    with open(args.gsm8k, encoding="utf-8") as handle:
        hard = [json.loads(line) for line in handle if line.strip()]
    for number, item in enumerate(rng.sample(hard, args.hard)):
        rows.append({"id": f"hard-{number}", "question": item["question"],
                     "answer": item["answer"]})
    rng.shuffle(rows)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
