"""Short human descriptions of plans and answers, shared by every view."""

from __future__ import annotations

from think.planning.budget import Plan
from think.result import OnlineStop, VoteSummary
from think.strategies import registry
from think.strategies.base import refinement_rounds as refinement_rounds  # for the views
from think.ui.terminal_text import printable


def top_votes(counts: dict[str, int], times: str = "×", most: int = 5) -> str:
    """The leading answers of a vote with their counts, most votes first; a long tail of
    one-off answers (a top-up can draw dozens) is summed up instead of listed."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: first seen first
    shown = ", ".join(f"{printable(answer)}{times}{count}" for answer, count in ranked[:most])
    rest = len(ranked) - most
    return shown + (f" (+{rest} more)" if rest > 0 else "")


def prompt_words(prompt_format: str, template: str | None) -> str:
    """How a model is prompted, as the plan and the live view say it."""
    if prompt_format != "chat":
        return "base model (no chat template)"
    return f"chat model ({template} template)" if template else "chat model"


def describe_plan(plan: Plan) -> str:
    """One line: what the budget buys (in its strategy's words) and what it should cost."""
    seconds = (f", about {plan.predicted_seconds:.0f} s at most here"
               if plan.predicted_seconds is not None else "")
    return (f"budget {plan.budget} -> {registry.describe(plan)} "
            f"(planned {plan.planned_units:.1f} units of {plan.unit_tokens} tokens{seconds})")


def vote_notes(vote: VoteSummary, plan: Plan) -> list[str]:
    """What a finished vote did beyond counting: the sample it picked (in the words of the
    plan's strategy: usc's "named most consistent"), DeepConf online's stops."""
    notes = []
    if vote.selected is not None:
        notes.append(registry.picked(plan, vote))
    if vote.online is not None and vote.online.stopped:
        notes.append(online_words(vote.online))
    return notes


def online_words(online: OnlineStop) -> str:
    """What DeepConf online did in a vote, in a few words."""
    return (f"{online.stopped} stopped at low confidence (below {online.threshold:.2f}), "
            f"about {online.tokens_saved} tokens saved")


def short(text: str | None, width: int = 60) -> str:
    """A single-line, shortened form of a text for status lines, safe on a terminal."""
    flat = " ".join(printable(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
