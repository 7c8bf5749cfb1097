"""One sample() call's decoding loop: samples take sequence slots as slots free up, and each
step decodes one batch for all live samples, draws their next tokens and retires the finished.

Samples whose tokens so far are identical share one batch row tagged with all their sequences
(batch_rows works out a step's rows): the model computes it once and each sample draws from it
with its own sampler and seed.

With lookup on, a sample reads a draft of guessed tokens (lookup) after its sampled token in
the same step, each row with logits. It then draws from those rows in order with its own
sampler, as it would have drawn them one step at a time, and keeps each drafted token only
when it drew that very token: the first token it draws otherwise is its next, and the cells
of the drafted tokens after it are dropped. So each token is drawn by the same rule, with the
same random number, as without drafts (speculative sampling with a draft that is one token for
certain); a step just yields more of them. What can differ is the logits: llama.cpp's CPU
kernels round a row of a many-row batch a little differently from a lone row (as they do for
a vote's rows), so on a quantized model a near-tie may go the other way.
"""

from __future__ import annotations

import bisect
import time
from typing import Any

import numpy as np

from think.engine.base import (
    FINISH_LENGTH,
    Completion,
    DoneCallback,
    SampleRequest,
    TokenCallback,
)
from think.engine.llama import sampling
from think.engine.llama.batch_rows import FRESH, Entry, Group, Slot, group_rows, pad_rows
from think.engine.llama.context import Context
from think.engine.llama.lookup import Lookup
from think.engine.llama.model import Model
from think.engine.llama.prefix_cache import Holder
from think.engine.tracker import SampleTracker


class Scheduler:
    """The slots of one request's samples, advanced one decode step at a time."""

    def __init__(self, model: Model, context: Context, holder: Holder, request: SampleRequest,
                 prompt: list[int], cue: list[int], width: int, seq_context: int,
                 on_token: TokenCallback | None, on_done: DoneCallback | None,
                 lookup: Lookup, base: int = 0) -> None:
        self.model, self.context, self.holder = model, context, holder
        self.request, self.prompt, self.cue, self.width = request, prompt, cue, width
        self.seq_context, self.on_token, self.on_done = seq_context, on_token, on_done
        # Sequences: the holder's prompt on `base`, the samples on the `width` after it (a
        # shared loop gives each request its own base), then padding rows, cleared each step.
        self.lookup, self.base, self.pad_seq = lookup, base, base + width + 1
        self.pad = not model.gpu_layers  # a GPU has no odd-row penalty to pad away
        self.end_tokens = model.end_tokens()
        self.ends = frozenset(self.end_tokens)
        self.reasoning = request.reasoning is not None
        self.cue_text = f"\n{request.answer_cue}"  # the plain forced cue, tokenized once
        self.think_open = False  # whether the prompt opened the thinking block
        self.slots: dict[int, Slot] = {}
        self.completions: list[Completion] = []
        self.next_index, self.cancelled, self.late = 0, False, False
        self.histories, self.prompt_side, self.decoded = FRESH, 0, 0
        # One row's room for the logsumexp behind each token's confidence (sampling.scores),
        # only when asked: it costs an exp per logit per token, some 10% of tokens/s on a
        # 262k vocabulary on a small CPU.
        self.scratch = np.empty(model.n_vocab, np.float32) if request.confidence else None

    def run(self, batch: Any) -> list[Completion]:
        """Step until every sample is done, cancelled, or out of time; completions by index."""
        try:
            while self.busy():
                if not self.step(batch):
                    break
        finally:
            self.release()
        return sorted(self.completions, key=lambda c: c.index)

    def busy(self) -> bool:
        return bool(self.slots) or self._more_to_start()

    def _more_to_start(self) -> bool:
        return self.next_index < self.request.n and not self.cancelled and not self.late

    def step(self, batch: Any) -> bool:
        """One decode for every live sample, then each draws; False when nothing was left."""
        gathered = self.gather()
        if gathered is None:
            return False
        entries, rows = gathered
        outputs = sum(1 for entry in entries if entry[3])
        padded = self.pad and pad_rows(entries, outputs, self.pad_seq)
        self.context.decode(batch, entries)
        if padded:
            self.context.drop(self.pad_seq)
        self.advance_rows(rows)
        return True

    def gather(self) -> tuple[list[Entry], list[Group]] | None:
        """A step's rows, unpadded, and each group's row; None when nothing is left to decode."""
        self.check_deadline()
        self.fill_slots()
        self.draft()
        entries, rows, prompt_side = group_rows(self.slots, self.histories)
        if not entries:  # out of time between samples: nothing left to decode
            return None
        self.histories += len(rows)
        self.prompt_side += prompt_side
        self.decoded += len(entries)
        return entries, rows

    def check_deadline(self) -> None:
        """Past the request's deadline: no new samples, and the live ones answer now."""
        deadline = self.request.deadline
        if deadline and not self.late and time.monotonic() >= deadline:
            self.late = True
            for slot in self.slots.values():
                self.force_now(slot)

    def fill_slots(self) -> None:
        """Start samples on the free sequences while the request has samples to start."""
        for seq in range(self.base + 1, self.base + self.width + 1):
            if seq in self.slots or not self._may_start():
                continue
            self.slots[seq] = slot = self.start_slot(seq, self.next_index)
            if self.late:
                self.force_now(slot)
            self.next_index += 1

    def _may_start(self) -> bool:
        # Out of time, a request still gets its first sample, told to answer now.
        return (self.next_index < self.request.n and not self.cancelled
                and (not self.late or self.next_index == 0))

    def start_slot(self, seq: int, index: int) -> Slot:
        """Sample `index` on sequence `seq`, branched from the prompt with its own seed."""
        self.holder.branch(seq)
        sampler = sampling.new_sampler(self.request, self.request.seed + index,
                                       self.end_tokens, self.model.n_vocab)
        return Slot(index=index, tracker=SampleTracker(self.request, self.think_open),
                    sampler=sampler, pos=len(self.prompt) - 1, pending=[self.prompt[-1]],
                    tokens=list(self.prompt), indexed=len(self.prompt) - 1,
                    pace=self.lookup.pace())

    def draft(self) -> None:
        """Lookup's drafts for the samples about to read just their sampled token."""
        if not self.lookup.wanted(len(self.slots)):
            return
        for slot in self.slots.values():
            if len(slot.pending) != 1 or slot.tracker.answer_start is not None \
                    or slot.pace is None:
                continue  # answers are a few tokens: not worth a draft
            room = min(self.lookup.room, self.seq_context - slot.pos - 2)
            slot.drafts, slot.indexed = self.lookup.propose(
                slot.tokens, slot.indexed, slot.pace, slot.tracker.generated, room)
            slot.pending = slot.pending + slot.drafts

    def advance_rows(self, rows: list[Group]) -> None:
        """Each group's samples draw from their row; finished ones give up their slot."""
        for seqs, row, history in rows:
            for seq in seqs:
                slot = self.slots.get(seq)
                if slot is None:  # stopped by a settled vote earlier in this step
                    continue
                slot.pos += len(slot.pending) - len(slot.drafts)  # drafts: once kept
                slot.history = history
                self.advance(seq, slot, row)
                if slot.tracker.finish is not None:
                    self.retire(seq)

    def advance(self, seq: int, slot: Slot, row: int) -> None:
        """Draw the slot's next token from batch row `row`, and while it draws its drafted
        tokens, the token after each from the next row; then queue what it reads next."""
        drafts, slot.drafts = slot.drafts, []
        start, kept = slot.pos, 0  # the first drafted token's cell, and the drafts kept
        while True:
            token = self._draw(slot, row + kept)
            if token is None:
                break
            if kept < len(drafts) and token == drafts[kept]:
                kept += 1
                slot.pos += 1  # its cell holds the drafted token: read already
                if self._take(seq, slot, token, read=True):
                    continue
            else:
                self._take(seq, slot, token, read=False)
            break
        if drafts:
            if kept < len(drafts):  # the cells of the drafted tokens it did not draw
                self.context.drop(seq, start + kept)
                self.histories += 1  # its siblings in the row may have kept more
                slot.history = self.histories
            self.lookup.checked(slot.pace, len(drafts), kept)

    def _draw(self, slot: Slot, row: int) -> int | None:
        """The slot's sampler's token from `row`; None when it stopped at low confidence."""
        tracker = slot.tracker
        token, logprob, confidence = sampling.draw(
            slot.sampler, self.context.ctx, row, tracker.request, self.model.n_vocab,
            self.scratch, self.ends)
        if self.scratch is not None:
            tracker.score(logprob, confidence)
            if tracker.finish is not None:
                return None  # stopped at low confidence: retired before its token is read
        return token

    def _take(self, seq: int, slot: Slot, token: int, read: bool) -> bool:
        """Give the tracker a drawn token (`read`: a kept draft, in its cell already) and
        queue what the sample reads next; True when it simply goes on to its next token."""
        tracker = slot.tracker
        if self.model.is_end(token):  # never drafted
            if not tracker.end_of_generation():  # inside a thinking block: it goes on
                self._queue(slot, [])
            return False
        piece = slot.decoder.decode(self.model.piece(token, special=self.reasoning))
        shown = tracker.feed(piece)
        if self.on_token is not None and shown:
            self.on_token(slot.index, shown)
        if tracker.retract_to is not None:
            self._roll_back(seq, slot)
            self._queue(slot, [])  # the close it tried is never read
            return False
        self._queue(slot, [] if read else [token], read=[token] if read else [])
        if tracker.finish is None and slot.pos + len(slot.pending) >= self.seq_context:
            tracker.finish = FINISH_LENGTH
        return tracker.finish is None and not slot.pending

    def _queue(self, slot: Slot, sampled: list[int], after_pending: bool = False,
               read: list[int] | None = None) -> None:
        """What the sample reads next: its sampled token (or, `after_pending`, what it was
        to read already), then any text the tracker appended (the answer cue, a closing of
        its thinking block, "Wait"). `read` is a kept draft token, read already."""
        tracker = slot.tracker
        read = read or []
        injected = tracker.take_injected()
        extra = [] if not injected else self.cue if injected == self.cue_text else \
            self.model.tokenize_inserted(injected)
        slot.pending = (slot.pending if after_pending else sampled) + extra
        slot.tokens += read + sampled + extra
        if self.reasoning:  # the text length after each token, to roll a close back
            slot.marks += [len(tracker.text) - len(injected)] * len(read + sampled) \
                + [len(tracker.text)] * len(extra)

    def _roll_back(self, seq: int, slot: Slot) -> None:
        """A close before the minimum thinking: drop the tokens of the tag from the sample's
        cells (a tag of several tokens was partly read already), so the model never saw it."""
        tracker = slot.tracker
        cut = tracker.retract_to or 0
        kept = bisect.bisect_right(slot.marks, cut)
        start = len(self.prompt) + kept  # the first cell given back
        self.context.drop(seq, start)
        slot.pos, slot.marks = start, slot.marks[:kept]
        del slot.tokens[start:]
        slot.indexed = min(slot.indexed, start - 1)
        tracker.truncate(slot.marks[-1] if slot.marks else 0)
        tracker.retract_to = None
        self.histories += 1  # it has read tokens no other sample has: a row of its own
        slot.history = self.histories

    def force_now(self, slot: Slot) -> None:
        """Budget forcing ahead of the cap: the sample reads the answer cue next."""
        tracker = slot.tracker
        if tracker.answer_start is not None or not tracker.request.answer_cue:
            return
        if slot.drafts:  # the cue follows its sampled token, not guesses after it
            del slot.pending[-len(slot.drafts):]
            slot.drafts = []
        shown = tracker.force_answer()
        self._queue(slot, [], after_pending=True)
        if self.on_token is not None:
            self.on_token(slot.index, shown)

    def retire(self, seq: int) -> None:
        """A finished sample's completion; cancel the rest when on_done says the vote is in."""
        done = self._finish(seq, self.slots.pop(seq))
        self.completions.append(done)
        if self.on_done is not None and not self.on_done(done):
            self.cancel()

    def cancel(self) -> None:
        """Stop every sequence still decoding, at once."""
        self.cancelled = True
        for seq in list(self.slots):
            self.slots[seq].tracker.cancel()
            self.completions.append(self._finish(seq, self.slots.pop(seq)))

    def _finish(self, seq: int, slot: Slot) -> Completion:
        self._free(seq, slot)
        return slot.tracker.completion(slot.index, self.request.seed + slot.index)

    def _free(self, seq: int, slot: Slot) -> None:
        sampling.free_sampler(slot.sampler)
        self.context.drop(seq)

    def release(self) -> None:
        """Free what live samples hold (after an error, or a break out of time)."""
        for seq, slot in self.slots.items():
            self._free(seq, slot)
