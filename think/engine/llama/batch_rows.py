"""One decode step's batch rows for the batched sampler: which live samples share a row, and
the padding that keeps a CPU step's row count even. Pure bookkeeping, no llama.cpp calls.

A row is (token, position, sequences, wants_logits). Samples whose history ids are equal have
read the same tokens, so when they also read the same next tokens they share rows: llama.cpp
computes the row once for all their sequences and each sample draws from its logits with its
own sampler.
"""

from __future__ import annotations

import codecs
import ctypes
from dataclasses import dataclass, field

from think.engine.llama.lookup import DraftPace
from think.engine.tracker import SampleTracker

FRESH = 0  # history id of a sample that has read only the prompt
Entry = tuple[int, int, list[int], bool]  # a batch row: token, position, sequences, wants logits
# sequences, the first row holding their logits (one for the sampled token and each drafted
# one after it), their next history
Group = tuple[list[int], int, int]


@dataclass
class Slot:
    """One live sample on its own sequence."""

    index: int
    tracker: SampleTracker
    sampler: ctypes.c_void_p
    pos: int
    pending: list[int]  # what it reads next: ends with `drafts` when it has any
    history: int = FRESH  # samples with equal history ids have read the same tokens
    drafts: list[int] = field(default_factory=list)  # lookup's guesses after its sampled token
    tokens: list[int] = field(default_factory=list)  # lookup: the prompt and what it has read
    indexed: int = 0  # lookup: where indexing tokens goes on from
    pace: DraftPace | None = None  # lookup: how long its drafts are
    marks: list[int] = field(default_factory=list)  # reasoning: text length after each token
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))


def group_rows(slots: dict[int, Slot], last_history: int
               ) -> tuple[list[Entry], list[Group], int]:
    """One step's batch rows: live samples with the same history and pending tokens share them.

    Returns the rows, then per group its sequences, the row holding its logits and the history
    id its samples take next (counting on from last_history), and the prompt-side tokens
    evaluated (the last prompt token and answer cues; sampled tokens are counted apart).
    """
    groups: dict[tuple[int, tuple[int, ...], int], list[int]] = {}
    for seq, slot in slots.items():
        groups.setdefault((slot.history, tuple(slot.pending), len(slot.drafts)), []).append(seq)
    entries: list[Entry] = []
    rows: list[Group] = []
    prompt_side = 0
    for (_, pending, drafts), seqs in groups.items():
        first = slots[seqs[0]]
        prompt_side += len(pending) - drafts - (first.tracker.generated > 0)
        logits_from = len(pending) - 1 - drafts
        for offset, token in enumerate(pending):
            # A group reads its pending tokens once; only the last one needs logits, and
            # each drafted token, to check the draft against.
            entries.append((token, first.pos + offset, seqs, offset >= logits_from))
        rows.append((seqs, len(entries) - 1 - drafts, last_history + len(rows) + 1))
    return entries, rows, prompt_side


def pad_rows(entries: list[Entry], outputs: int, pad_seq: int) -> bool:
    """Make a CPU step's rows and outputs even with throwaway rows on pad_seq; True if added.

    llama.cpp's CPU matrix kernels on AVX2 work on column pairs: an odd count sends the
    last row through a second pass over the whole weight matrix (262k rows of output
    weights on Gemma 3), which costs more than computing one throwaway row. Measured on
    2 cores: 7 rows 93 ms a step, 8 rows 84 ms; 13 rows 141 ms, 14 rows 111 ms.
    """
    if len(entries) < 3:
        return False
    pads = []
    if outputs % 2:
        pads.append(True)
    if (len(entries) + len(pads)) % 2:
        pads.append(False)
    token = entries[0][0]
    entries.extend((token, pos, [pad_seq], logits) for pos, logits in enumerate(pads))
    return bool(pads)
