"""Pure rendering of the view state into Rich renderables: no I/O, no clock reads."""

from __future__ import annotations

import io
from typing import cast

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.spinner import SPINNERS
from rich.table import Table
from rich.text import Text

from think.engine.base import FINISH_CANCELLED, FINISH_LOW
from think.ui.describe import (
    describe_plan,
    online_words,
    refinement_rounds,
    short,
    top_votes,
    vote_notes,
)
from think.ui.state import SampleLine, ViewState
from think.ui.terminal_text import NO_ANSWER, printable

MAX_FINISHED_LINES = 4  # finished samples still shown under the live ones
BAR_WIDTH = 20
SPINNER_FRAMES = cast(list[str], SPINNERS["dots"]["frames"])
SPINNER_FPS = 12
MIN_TOKENS_FOR_ETA = 64


def render(state: ViewState, width: int = 80, now: float = 0.0,
           height: int | None = None) -> RenderableType:
    """The whole live area for a terminal of the given size, at time `now`.

    With a height, the sample list gives up rows so that the vote and the meter below it
    stay on screen: those are what a person watches on a small terminal.
    """
    above = header(state, width)
    below: list[RenderableType] = []
    if state.tally is not None and state.plan and state.plan.samples > 1:
        below.append(vote(state, width))
    if state.critiques or state.step in ("critique", "revise"):
        below.append(critiques(state, width))
    below.append(meter(state, width, now))
    room = None
    if height is not None:
        room = height - 1 - line_count(Group(above, *below), width)  # 1: the cursor's line
    return Group(above, samples(state, width, now, room), *below)


def line_count(renderable: RenderableType, width: int) -> int:
    """Lines the renderable takes at this width (rendered off screen, nothing printed)."""
    console = Console(file=io.StringIO(), width=width, color_system=None)
    return len(console.render_lines(renderable, console.options, pad=False))


def header(state: ViewState, width: int) -> RenderableType:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("think ", style="bold")
    text.append(short(state.question, max(10, width - 6)))
    lines = [text]
    if state.plan:
        lines.append(Text(printable(f"{state.model} ({state.prompted}) · {state.profile} · "
                                    f"{state.task}"), style="dim",
                          no_wrap=True, overflow="ellipsis"))
        lines.append(Text(describe_plan(state.plan), style="cyan", overflow="fold"))
    return Group(*lines)


def sample_row(line: SampleLine, width: int, now: float) -> Text:
    """`#3 ⠹ 41/256 …tail of the text` while live, `#3 ✓ 41/256 → 12` when done."""
    if line.live:
        mark = SPINNER_FRAMES[int((now + line.index) * SPINNER_FPS) % len(SPINNER_FRAMES)]
        mark_style = "yellow"
    else:
        mark, mark_style = ("-", "dim") if line.finish in (FINISH_CANCELLED, FINISH_LOW) \
            else ("✓", "green")
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(f"#{line.index + 1} ", style="bold")
    row.append(f"{mark} ", style=mark_style)
    row.append(f"{line.tokens}/{line.cap} " if line.cap else f"{line.tokens} ")
    room = max(4, width - len(row) - 1)
    if line.live:
        thinking, answer = (" ".join(printable(part).split()) for part in line.split_tail())
        if thinking:  # a reasoning model's thinking, dim and slanted, apart from its answer
            left = max(1, room - len(answer) - 1)
            row.append(thinking if len(thinking) <= left else "…" + thinking[-(left - 1):],
                       style="dim italic")
            if answer:
                row.append(" " + answer[-(room - 1):])
        else:
            row.append(answer if len(answer) <= room else "…" + answer[-(room - 1):], style="dim")
    elif line.finish == FINISH_CANCELLED:
        row.append("stopped: the vote was settled", style="dim")
    elif line.finish == FINISH_LOW:
        row.append("stopped: its confidence fell below the warm-up's", style="dim")
    else:
        answer = short(line.answer, width) if line.answer is not None else NO_ANSWER
        row.append(f"→ {answer}", style="bold")
        if line.finish == "budget-forced":
            row.append(" (forced at budget)", style="magenta")
        if line.thinking_tokens is not None:
            how = "closed at the cap" if line.closed == "forced" else "closed by the model"
            row.append(f" · thought {line.thinking_tokens} tokens, {how}", style="dim")
    row.truncate(width, overflow="ellipsis")
    return row


def samples(state: ViewState, width: int, now: float, room: int | None = None) -> RenderableType:
    """Every live sequence, then the last few finished ones and a count of the rest.

    Within `room` lines (title included), finished rows give way first, then the last live ones.
    """
    lines = sorted(state.lines.values(), key=lambda line: line.index)
    live = [line for line in lines if line.live]
    done = [line for line in lines if not line.live]
    keep_live, keep_done = len(live), min(len(done), MAX_FINISHED_LINES)

    def needed() -> int:
        notes = (keep_done < len(done)) + (keep_live < len(live))
        return 1 + max(1, keep_live + keep_done) + notes

    while room is not None and needed() > room and keep_live + keep_done > 1:
        if keep_done:
            keep_done -= 1
        else:
            keep_live -= 1
    shown = live[:keep_live] + (done[-keep_done:] if keep_done else [])
    rows: list[RenderableType] = [sample_row(line, width, now)
                                  for line in sorted(shown, key=lambda line: line.index)]
    if not rows:
        waiting = "reading the prompt…" if state.plan else "loading the model…"
        rows.append(Text(waiting, style="dim"))
    if keep_live < len(live):
        rows.append(Text(f"  … {len(live) - keep_live} more decoding", style="dim"))
    if keep_done < len(done):
        rows.append(Text(f"  … {len(done) - keep_done} more finished", style="dim"))
    title = {"sample": "samples", "critique": f"critique, round {state.round}",
             "revise": f"revision, round {state.round}",
             "select": "choosing the most consistent answer"}.get(state.step, state.step)
    return Group(Text(title, style="bold underline"), *rows)


def vote(state: ViewState, width: int) -> RenderableType:
    """A bar per answer with count and share, the leader highlighted."""
    assert state.tally is not None and state.plan is not None
    total = max(1, state.tally.total)
    grid = Table.grid(padding=(0, 1))
    label_width = max(4, min(16, width // 4))
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=label_width)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    bar_width = max(5, min(BAR_WIDTH, width - label_width - 16))
    ranked = sorted(state.tally.counts.items(), key=lambda item: -item[1])
    for answer, count in ranked[:6]:
        leader = answer == state.tally.leader
        style = "bold green" if leader else ""
        grid.add_row(Text(short(answer, label_width), style=style),
                     ProgressBar(total=total, completed=count, width=bar_width,
                                 complete_style="green" if leader else "blue"),
                     Text(f"{count} {count / total:.0%}", style=style))
    status = Text(f"{state.drawn} of {state.asked} drawn", style="dim")
    if state.asked > state.plan.samples:
        status.append(f" ({state.asked - state.plan.samples} bought with unspent budget)")
    if state.plan.early_stop:
        status.append(f" · confidence {state.tally.confidence:.2f}"
                      f"/{state.plan.early_stop_threshold:.2f}")
    if state.settled:
        status = Text(f"settled after {state.drawn} of {state.asked}", style="bold green")
    if state.online is not None and state.online.stopped:
        status.append(f" · {online_words(state.online)}", style="dim")
    if state.tally.tied:
        status.append(f" · tie: {', '.join(map(short, state.tally.tied))}", style="yellow")
    return Group(Text("vote", style="bold underline"), grid, status)


def critiques(state: ViewState, width: int) -> RenderableType:
    """Each finished round: verdict, critique and revised answer."""
    rows: list[RenderableType] = [Text("refinement", style="bold underline")]
    for record in state.critiques:
        verdict_style = "green" if record.verdict == "correct" else "red"
        line = Text(f"round {record.round}: ")
        line.append(record.verdict, style=f"bold {verdict_style}")
        if record.verdict != "correct":
            revised = (NO_ANSWER if record.revised_answer is None
                       else short(record.revised_answer, width))
            line.append(f" → revised answer {revised}")
        rows.append(line)
        rows.append(Text(short(record.critique, max(10, width - 4)), style="dim"))
    return Group(*rows)


def meter(state: ViewState, width: int, now: float) -> RenderableType:
    """Units used against the budget, tokens, speed, time spent and left."""
    budget = state.plan.budget if state.plan else 1
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    bar = ProgressBar(total=budget, completed=min(budget, state.used_units),
                      width=max(5, min(BAR_WIDTH, width - 24)))
    grid.add_row(bar, Text(f"{state.used_units:.1f} / {budget} units"))
    # Too early a rate would promise hours; wait for some tokens first.
    left = state.seconds_left(now) if state.used_tokens >= MIN_TOKENS_FOR_ETA else None
    details = (f"{state.used_tokens} tokens · {state.tokens_per_second(now):.0f} tok/s · "
               f"{state.elapsed(now):.1f} s" + (f" · ≤{left:.0f} s left" if left else ""))
    return Group(grid, Text(details, style="dim", overflow="fold"))


def summary(state: ViewState) -> Text:
    """The short lines left on screen when the live area closes."""
    result = state.result
    if result is None:
        return Text("")
    if result.answer is None:
        text = Text("no answer", style="bold yellow")
    else:
        text = Text("answer ", style="bold")
        text.append(printable(result.answer), style="bold green")
    if result.vote.counts and len(result.samples) > 1:
        text.append(f" · votes {top_votes(result.vote.counts)}")
        if result.vote.early_stopped:
            text.append(f" · settled after {result.vote.drawn} of {result.vote.asked}")
        for note in vote_notes(result.vote, result.plan):
            text.append(f" · {note}")
    if result.critiques:
        text.append(f" · {refinement_rounds(len(result.critiques))}")
    text.append(f" · {result.compute.used:.1f} of {result.budget} units · "
                f"{result.compute.seconds:.1f} s")
    return text
