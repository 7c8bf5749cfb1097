"""Model and server text made safe to print on a terminal: control sequences removed.

A terminal obeys what it is sent, so a completion (or a server's model name or error) that
holds `ESC ] 52 ; c ; ... BEL` writes the clipboard, `ESC ] 0 ; ... BEL` retitles the
window, `ESC [ 2 J` clears the screen and `ESC c` resets it. Every view, the printed answer
and the error lines pass such text through `printable` first; --json and the history keep
the text as it was (JSON escapes control characters itself).
"""

from __future__ import annotations

import re

# Whole sequences go, their payload with them (a clipboard write's data is no answer):
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: cursor moves, clearing, colours, reports
    # OSC (titles, clipboard, hyperlinks), DCS, SOS, PM and APC strings, to their end.
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"  # the other escapes: ESC c resets the terminal, ESC 7 / 8 ...
)
# Then every control character but newline and tab: C0 (carriage return rewrites a line,
# backspace hides what precedes it), DEL, C1, and the bidirectional overrides and isolates
# that make a line read differently from what it holds.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# What every view shows where a run, a sample or a revision has no answer: Python's `None`
# is no word for a person (--json and the history keep null).
NO_ANSWER = "(no answer)"


def shown_answer(answer: str | None) -> str:
    """An answer as a person reads it: safe on a terminal, or NO_ANSWER where there is none."""
    return NO_ANSWER if answer is None else printable(answer)


def printable(text: str) -> str:
    """The text with terminal control sequences and characters removed (newline and tab
    kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))
