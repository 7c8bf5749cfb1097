"""A real terminal: the real CLI on the embedded model with stderr on a pty, read through a
terminal emulator while it runs and after; stdout (a pipe) must hold only the answer."""

from __future__ import annotations

import pytest
from support.terminal import run_on_terminal

pytestmark = pytest.mark.real

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"
def test_live_view_on_a_real_terminal() -> None:
    seen, final, out, code = run_on_terminal("solve", Q, "--budget", "20", "--no-early-stop",
                                             "--seed", "1")
    assert code == 0
    live = [s for s in seen if "#1 " in s and "units" in s]
    assert live, "the live view never showed a sample line"
    # Samples move: a later screen shows more tokens or more finished samples than an earlier.
    assert len(set(live)) > 3
    assert any("vote" in s for s in live)
    assert "answer " in final and "of 20 units" in final  # the summary stays after the run
    assert "#1 " not in final  # the live area gave way to it
    answer = out.strip()
    assert out.count("\n") == 1 and answer and answer in final
