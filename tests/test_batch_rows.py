"""A decode step's rows: agreeing samples share them, answer cues are read once, CPU padding."""

from __future__ import annotations

import ctypes

from think.engine.base import SampleRequest
from think.engine.llama.batch_rows import FRESH, Slot, group_rows, pad_rows
from think.engine.tracker import SampleTracker


def slot(pending: list[int], history: int = FRESH, pos: int = 10,
         generated: int = 0) -> Slot:
    tracker = SampleTracker(SampleRequest(prompt="q"))
    tracker.thinking_tokens = generated
    return Slot(index=0, tracker=tracker, sampler=ctypes.c_void_p(0), pos=pos, pending=pending,
                history=history)


def test_fresh_samples_read_the_last_prompt_token_in_one_row() -> None:
    entries, groups, prompt_side = group_rows({1: slot([7]), 2: slot([7]), 3: slot([7])}, 0)
    assert entries == [(7, 10, [1, 2, 3], True)]
    assert groups == [([1, 2, 3], 0, 1)]  # one logits row for all three, a new history id
    assert prompt_side == 1


def test_samples_part_when_their_tokens_or_histories_differ() -> None:
    slots = {1: slot([5], history=4, generated=3), 2: slot([5], history=4, generated=3),
             3: slot([6], history=4, generated=3), 4: slot([5], history=2, generated=3)}
    entries, groups, prompt_side = group_rows(slots, 9)
    assert [entry[2] for entry in entries] == [[1, 2], [3], [4]]
    assert [history for _, _, history in groups] == [10, 11, 12]
    assert prompt_side == 0  # sampled tokens are not prompt-side


def test_an_answer_cue_is_read_in_order_and_only_its_last_token_wants_logits() -> None:
    entries, groups, prompt_side = group_rows({1: slot([5, 90, 91, 92], pos=40, generated=8)}, 0)
    assert entries == [(5, 40, [1], False), (90, 41, [1], False), (91, 42, [1], False),
                       (92, 43, [1], True)]
    assert groups[0][1] == 3  # the sample draws from the cue's last row
    assert prompt_side == 3  # the cue tokens, not the sampled token before them


def test_padding_evens_a_steps_rows_and_outputs_on_a_spare_sequence() -> None:
    odd = [(1, 5, [1], True), (2, 5, [2], True), (3, 5, [3], True)]
    assert pad_rows(odd, outputs=3, pad_seq=9)
    assert odd[3:] == [(1, 0, [9], True)]
    cue = [(1, 5, [1], True), (2, 5, [2], False), (3, 6, [2], True), (4, 5, [3], True)]
    assert pad_rows(cue, outputs=3, pad_seq=9)
    assert cue[4:] == [(1, 0, [9], True), (1, 1, [9], False)]
    even = [(1, 5, [1], True), (2, 5, [2], True), (3, 5, [3], True), (4, 5, [4], True)]
    assert not pad_rows(even, outputs=4, pad_seq=9) and len(even) == 4
    one = [(1, 5, [1], True)]
    assert not pad_rows(one, outputs=1, pad_seq=9) and len(one) == 1  # no extra pass to save
