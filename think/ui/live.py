"""The live terminal view on stderr: Rich Live over a state that events update.

Rich's refresh thread redraws at a fixed rate, so decoding never waits for the screen; a lock
keeps it from reading the state while an event changes it.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from think.events import Event, Finished, Note
from think.ui.render import render, summary
from think.ui.state import ViewState
from think.ui.terminal_text import printable

REFRESH_PER_SECOND = 4  # enough for a spinner; every frame costs decode time


class LiveView:
    """Shows samples, votes, critiques and a compute meter while a run goes on."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.state = ViewState(started=time.monotonic())
        self.lock = threading.Lock()
        self.live = Live(console=console, transient=True, get_renderable=self._renderable,
                         refresh_per_second=REFRESH_PER_SECOND, redirect_stdout=False,
                         redirect_stderr=False)

    def _renderable(self) -> RenderableType:
        with self.lock:
            return render(self.state, self.console.width, time.monotonic(),
                          self.console.height)

    def __enter__(self) -> LiveView:
        self.live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.live.stop()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.state.apply(event)
            texts, self.state.full_texts = self.state.full_texts, []
        if self.verbose:
            for text in texts:
                self.live.console.print(Text(printable(text), style="dim"))
        if isinstance(event, Note):  # printed above the live part, so it stays on screen
            self.live.console.print(Text(printable(f"think: note: {event.text}"), style="yellow"))
        if isinstance(event, Finished):
            self.live.stop()
            self.console.print(summary(self.state))
