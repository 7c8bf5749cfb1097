"""Reasoning models think inside a block (`<think> ... </think>`) before they answer. This is
how a sample's block is followed and steered, the same for every engine:

- the thinking cap counts the tokens inside the block; at the cap the block is closed for the
  model with a stop message ("Considering the limited time ..."), then the answer cue;
- a sample that closes its block itself reads the answer cue after it, and so answers alike;
- before `min_tokens`, an attempt to close the block or to end is suppressed and "Wait"
  appended instead (s1's budget forcing, the other way): thinking longer as a budget lever;
- an end of generation inside the block closes it as the cap does, so no sample ends with an
  empty answer;
- answers are read only after the block.
"""

from __future__ import annotations

from dataclasses import dataclass

# Qwen3's technical report, for a thinking budget that runs out.
STOP_MESSAGE = ("Considering the limited time by the user, I have to give the solution based "
                "on the thinking directly now.")


@dataclass(frozen=True)
class Reasoning:
    """How a model marks its thinking, and how think steers it."""

    start: str = "<think>"
    end: str = "</think>"
    min_tokens: int = 0  # before this many thinking tokens, closing or ending is suppressed
    wait: str = "Wait"  # what a suppressed close becomes
    stop_message: str = STOP_MESSAGE

    def closing(self, cue: str | None, forced: bool) -> str:
        """The text that closes the block (with the stop message when forced), then the cue."""
        note = f"\n\n{self.stop_message}\n" if forced else ""
        after = f"\n\n{cue}" if cue else "\n\n"
        return f"{note}{self.end}{after}" if forced else after


BEFORE, THINKING, CLOSED, NONE = "before", "thinking", "closed", "none"


@dataclass
class Block:
    """One sample's thinking block as its text grows."""

    reasoning: Reasoning
    phase: str = BEFORE  # before the block opens, inside it, after it, or no block at all
    content_at: int = 0  # where the thinking starts in the sample's text
    end_at: int | None = None  # where the closing tag starts in the sample's text
    tokens: int = 0  # thinking tokens
    closed_by: str | None = None  # "model" or "forced"
    waits: int = 0  # closes suppressed before the minimum
    closing: int = 0  # tokens a server wrote past the cap to close the block (its message)

    @classmethod
    def opened(cls, reasoning: Reasoning) -> Block:
        """A block the prompt opened (the chat template ends with the start tag)."""
        return cls(reasoning, phase=THINKING)

    @property
    def open(self) -> bool:
        return self.phase in (BEFORE, THINKING)

    def watch(self, text: str, before: int) -> int | None:
        """Follow the text after a new piece (which began at `before`); returns where the
        closing tag starts when this piece completed it, else None."""
        reasoning = self.reasoning
        if self.phase == BEFORE:
            found = text.find(reasoning.start)
            if found >= 0:
                self.phase, self.content_at = THINKING, found + len(reasoning.start)
                before = self.content_at  # the tag is not thinking; what follows it is
            elif text.strip() and not reasoning.start.startswith(text.strip()):
                self.phase = NONE  # the model answers without thinking in a block
                return None
        if self.phase != THINKING:
            return None
        scan = max(self.content_at, before - len(reasoning.end) + 1)
        found = text.find(reasoning.end, scan)
        if found < 0 and len(text) > before:
            self.tokens += 1  # a token of thinking (the closing tag's is not)
        return found if found >= 0 else None

    def may_close(self) -> bool:
        """Whether the thinking has reached its minimum (else a close becomes "Wait")."""
        return self.tokens >= self.reasoning.min_tokens

    def close(self, end_at: int, by: str) -> None:
        self.phase, self.end_at, self.closed_by = CLOSED, end_at, by

    def thinking(self, text: str) -> str:
        """The thinking the text holds."""
        if self.phase == NONE:
            return ""
        return text[self.content_at:self.end_at if self.end_at is not None else len(text)]

    def answer_part(self, text: str) -> str:
        """What follows the block: the only place an answer is read."""
        if self.phase == NONE:
            return text
        if self.end_at is None:
            return ""
        return text[self.end_at + len(self.reasoning.end):]
