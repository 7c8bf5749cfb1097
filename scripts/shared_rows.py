"""How much agreeing samples share: batch rows decoded against tokens generated, per question.

Samples that have written the same tokens so far decode one shared row, so the rows a vote
takes fall below its tokens when samples agree. This draws N samples of the few-shot
chain-of-thought prompt for each question and each seed on the embedded model and prints the
share of tokens that needed no row of their own.

    python -m scripts.shared_rows [--samples 10] [--tokens 256] [--seeds 4] ["question" ...]
"""

from __future__ import annotations

import argparse

from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.models import resolve
from think.tasks.fewshot import FEWSHOT

QUESTIONS = [
    "A pen costs 2 dollars. How much do 4 pens cost?",
    "Sara has 5 cookies and eats 2. How many cookies are left?",
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' "
    "market daily for $2 per fresh duck egg. How much in dollars does she make every day at "
    "the farmers' market?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", nargs="*", default=QUESTIONS)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    spec = resolve()
    engine = LlamaEngine(spec.path, spec.name, spec.format,
                         LoadSettings(batch_width=args.samples, prompt_cache_mb=0))
    print(f"{'rows':>6} {'tokens':>6} {'shared':>6}  question")
    for question in args.questions:
        rows = tokens = 0
        for seed in range(args.seeds):
            result = engine.sample(SampleRequest(
                prompt=f"{FEWSHOT}Question: {question}\nReasoning:", n=args.samples,
                max_tokens=args.tokens, answer_cue="Final answer:", seed=1000 * seed))
            rows += result.decoded_rows or 0
            tokens += result.generated_tokens
        print(f"{rows:>6} {tokens:>6} {1 - rows / tokens:>6.1%}  {question[:60]}")
    engine.close()


if __name__ == "__main__":
    main()
