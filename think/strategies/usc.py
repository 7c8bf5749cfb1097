"""Universal self-consistency (USC, Chen et al. 2023) as a vote rule: for free-form answers,
where normalised answers rarely tie, the model is shown the candidates and names the one most
consistent with the others.

The selection is one short extra request at temperature 0. It shows each voting sample's
final answer (not its whole chain, which would cost a prompt as long as all the chains), at
most MOST_CANDIDATES of them in drawing order, and reads the first number it writes back. Its
tokens count toward the budget like any other step; the vote stage reserves room for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from think.engine.base import SampleRequest
from think.engine.prompt import Chat, Prompt
from think.events import Note
from think.planning.budget import Plan, Sizing
from think.result import SampleRecord, Tally
from think.strategies.cot import draw
from think.strategies.counting import tally
from think.strategies.vote_rule import Rule, Selecting, Vote, VoteRule
from think.tasks.extract import FINAL_CUE, final_part
from think.tasks.prompts import Prompts

USC = "usc"

MOST_CANDIDATES = 16  # shown to the model: enough for a vote, a prompt a small model reads
CANDIDATE_CHARS = 200  # each candidate's answer is cut to this many characters
PICK_TOKENS = 6  # the reply: a number and little else
CUE = "The answer most consistent with the others is number:"

EXAMPLE = f"""\
Question: What is the capital of France?
Answers:
1. Lyon
2. Paris
3. Paris, its largest city
{CUE} 2

"""

CHAT = ("Evaluate these answers and select the one most consistent with the others, by "
        "majority consensus. Reply with its number only.")


def candidate_text(sample: SampleRecord) -> str:
    """What a sample answered, on one line: the text after its final-answer cue, or (a
    boxed answer, with no cue) the answer read from it."""
    said = final_part(sample.text) if FINAL_CUE in sample.text else sample.answer or ""
    return " ".join(said.split())[:CANDIDATE_CHARS]


def listing(candidates: Sequence[str]) -> str:
    return "\n".join(f"{number}. {text}" for number, text in enumerate(candidates, 1))


def selection_prompt(prompts: Prompts, candidates: Sequence[str]) -> Prompt:
    """The question and the numbered candidates, ending where the model names one."""
    if prompts.chat:
        return Chat.of(("user", f"Question: {prompts.question}\n\nAnswers:\n"
                        f"{listing(candidates)}\n\n{CHAT}"), thinking=False)
    return f"{EXAMPLE}Question: {prompts.question}\nAnswers:\n{listing(candidates)}\n{CUE}"


def selection_request(prompts: Prompts, candidates: Sequence[str], plan: Plan,
                      seed: int) -> SampleRequest:
    """The one greedy request that picks a candidate."""
    prompt = selection_prompt(prompts, candidates)
    return SampleRequest(prompt=prompt, n=1, max_tokens=PICK_TOKENS, stop=prompts.stops(),
                         answer_cue="", answer_tokens=PICK_TOKENS, temperature=0.0,
                         top_k=plan.top_k, top_p=plan.top_p, seed=seed)


def picked(reply: str, count: int) -> int | None:
    """The 0-based candidate the reply names (its first number, 1..count), or None."""
    match = re.search(r"\d+", reply)
    if match is None or len(match.group()) > 6:  # int() of a 5,000-digit reply would raise
        return None
    number = int(match.group())
    return number - 1 if 1 <= number <= count else None


def reserve(question_tokens: int, answer_tokens: int) -> int:
    """Tokens the vote stage keeps back for the selection: the question again, a full list
    of candidates at their longest, and the reply."""
    return question_tokens + MOST_CANDIDATES * (answer_tokens + 4) + PICK_TOKENS


def selection_bound(prompts: Prompts, plan: Plan, voters: list[SampleRecord]) -> SampleRequest:
    """The largest selection request a usc vote can still send: a full list of candidates,
    each as long as the longest so far (the top-up keeps room for it)."""
    longest = max((candidate_text(s) for s in voters), key=len, default="")
    return selection_request(prompts, [longest or "x" * 40] * MOST_CANDIDATES, plan, 0)


def select_consistent(run: Selecting, voters: list[SampleRecord]) -> SampleRecord | None:
    """The voter the model names most consistent, or None where there is nothing to choose
    (one distinct answer, or tests that decided) or the model named none (said in a note)."""
    voters = voters[:MOST_CANDIDATES]
    if len({s.answer for s in voters}) < 2 or any(s.tests == "passed" for s in voters):
        return None
    candidates = [candidate_text(s) for s in voters]
    request = selection_request(run.prompts, candidates, run.plan, run.seed + 30_000)
    records, used = draw(run.engine, request, run.task, "select", run.emit,
                         deadline=run.deadline)
    run.spend(used.prompt_tokens, used.generated_tokens)
    pick = picked(records[0].text, len(voters)) if records else None
    if pick is None:
        run.emit(Note("the model named none of the candidates; the majority stands"))
        return None
    return voters[pick]


class Usc(Rule):
    """Plain counts while sampling; then the model names the most consistent candidate."""

    name, examples, asks_model, pick = USC, (USC,), True, "named most consistent"

    def count(self, votes: Sequence[Vote], rule: VoteRule) -> Tally:
        return tally([answer for answer, _ in votes])

    def reserve(self, sizing: Sizing) -> int:
        return reserve(sizing.prompts.direct, sizing.profile.answer_tokens)

    def bound(self, run: Selecting, voters: list[SampleRecord]) -> SampleRequest | None:
        return selection_bound(run.prompts, run.plan, voters)

    def choose(self, run: Selecting, voters: list[SampleRecord]) -> SampleRecord | None:
        return select_consistent(run, voters)


rule = Usc()
