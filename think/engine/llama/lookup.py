"""Lookup (n-gram) drafts for the batched sampler: guesses at a sample's next tokens, read from
what followed the same few tokens earlier in the prompt, in its own text or in a sibling's.

A revision copies most of the solution it revises, and a chain of thought repeats the numbers
and phrases of its question, so such guesses are often right. The scheduler decodes a draft
with the sampled token in one step (a row with logits for each) and keeps the drafted tokens
only while the sample's own sampler draws them (scheduler.Scheduler.advance): what is sampled
is unchanged, only how many tokens one llama_decode yields.
"""

from __future__ import annotations

from dataclasses import dataclass

# Longest first: a match on three tokens predicts better than one on two. A single token
# matches nearly everywhere and predicts little.
NGRAM_SIZES = (3, 2)

# Draft lengths a sample chooses from: a draft and its sampled token make 4, 8 or 16 rows, the
# row counts llama.cpp's CPU kernels handle best.
DRAFT_SIZES = (3, 7, 15)

# What one step of 1, 4, 8 and 16 rows (each with logits) costs against one row. On a CPU a
# small model is compute-bound, so rows cost nearly what they add: measured on the embedded
# model, 2 cores, one sequence: 19, 43, 71 and 111 ms (5 rows cost 65 ms and 6 rows 75 ms).
# A GPU has rows to spare; the figures for it are a cautious guess.
CPU_ROW_COST = {1: 1.0, 4: 2.3, 8: 3.7, 16: 5.8}
GPU_ROW_COST = {1: 1.0, 4: 1.1, 8: 1.2, 16: 1.4}

# Each sample keeps a running estimate of how likely its next drafted token is to be drawn,
# starting hopeful and forgetting old drafts at this rate; with no draft worth its rows it
# stops drafting for PAUSE tokens, then tries the shortest one again to see if that changed,
# pausing twice as long each time that try fails too.
PRIOR_KEPT, PRIOR_MISSED, FORGET = 3.0, 1.0, 0.5
PAUSE = 32


class NgramIndex:
    """Where each n-gram of the token lists it was shown was last seen, and what followed."""

    def __init__(self) -> None:
        self.where: dict[tuple[int, ...], tuple[list[int], int]] = {}

    def add(self, tokens: list[int], start: int) -> int:
        """Index the n-grams of `tokens` (a list that grows) ending at `start` or later that
        something follows; the position to start from next time."""
        for end in range(start, len(tokens) - 1):  # the n-gram ending at `end`, then end + 1
            for size in NGRAM_SIZES:
                if end + 1 >= size:
                    self.where[tuple(tokens[end + 1 - size:end + 1])] = (tokens, end + 1)
        return max(start, len(tokens) - 1)

    def draft(self, tokens: list[int], most: int, banned: frozenset[int]) -> list[int]:
        """Up to `most` tokens that followed the longest n-gram ending `tokens`, cut before
        any of `banned` (end-of-generation tokens are drawn, never drafted)."""
        if most <= 0:
            return []
        for size in NGRAM_SIZES:
            if len(tokens) < size:
                continue
            found = self.where.get(tuple(tokens[-size:]))
            if found is None:
                continue
            source, at = found
            guess = source[at:at + most]
            for i, token in enumerate(guess):
                if token in banned:
                    return guess[:i]
            return guess
        return []


@dataclass
class DraftPace:
    """How long one sample's next draft is: the length that yields the most tokens per unit of
    decoding, given how often its drafted tokens have been drawn so far."""

    costs: dict[int, float]
    kept: float = PRIOR_KEPT  # drafted tokens drawn, and drafts cut short, decayed
    missed: float = PRIOR_MISSED
    paused_until: int = 0  # the sample's token count when it may draft again
    pause: int = PAUSE  # the next pause's length

    def most(self, generated: int) -> int:
        """The next draft's length at the sample's `generated` tokens: 0 while paused, and
        0 (starting a pause) when no length is worth its rows."""
        if generated < self.paused_until:
            return 0
        rate = self.kept / (self.kept + self.missed)  # a drafted token is drawn

        def tokens_per_cost(size: int) -> float:  # expected tokens a step yields, over its cost
            return sum(rate ** i for i in range(size + 1)) / self.costs[size + 1]

        best = max(DRAFT_SIZES, key=tokens_per_cost)
        if tokens_per_cost(best) > 1.0:
            return best
        self.paused_until, self.pause = generated + self.pause, self.pause * 2
        self.kept, self.missed = PRIOR_KEPT * 0.75, PRIOR_MISSED  # just hopeful enough to retry
        return 0

    def checked(self, drafted: int, accepted: int) -> None:
        """A draft of `drafted` tokens of which the first `accepted` were drawn."""
        self.kept = self.kept * FORGET + accepted
        self.missed = self.missed * FORGET + (accepted < drafted)
        if accepted == drafted:
            self.pause = PAUSE  # drafting pays here again


class Lookup:
    """One request's drafting: the shared n-gram index, when to draft, and what it kept.

    `mode` is the profile's `lookup`: "on" drafts for every live sample, "auto" only while
    one sample decodes alone (a chain of thought, a critique, a refine round, a vote's last
    sample), where a step's extra rows cost least against the rows a batch already has;
    "off" never drafts.
    """

    def __init__(self, mode: str, prompt: list[int], banned: list[int], gpu: bool) -> None:
        self.mode, self.banned = mode, frozenset(banned)
        self.costs = GPU_ROW_COST if gpu else CPU_ROW_COST
        # The most cells a draft may write past a sample's own (the batch's shape may lower it).
        self.room = 0 if mode == "off" else DRAFT_SIZES[-1]
        self.index = NgramIndex()
        self.index.add(prompt, 0)
        self.drafted = self.accepted = 0

    def wanted(self, live: int) -> bool:
        return self.mode == "on" or (self.mode == "auto" and live == 1)

    def propose(self, tokens: list[int], indexed: int, pace: DraftPace, generated: int,
                room: int) -> tuple[list[int], int]:
        """A draft for a sample that has `tokens` (read and to read), at most `room` long, and
        where its indexing goes on from."""
        indexed = self.index.add(tokens, indexed)
        return self.index.draft(tokens, min(pace.most(generated), room), self.banned), indexed

    def checked(self, pace: DraftPace, drafted: int, accepted: int) -> None:
        """A draft was checked: `accepted` of its `drafted` tokens were kept."""
        self.drafted += drafted
        self.accepted += accepted
        pace.checked(drafted, accepted)

    def pace(self) -> DraftPace:
        """A new sample's pacing."""
        return DraftPace(self.costs)
