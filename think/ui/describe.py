"""Short human descriptions of plans and answers, shared by every view."""

from __future__ import annotations

from think.planning.budget import Plan
from think.result import OnlineStop, VoteSummary
from think.strategies import registry
from think.ui.terminal_text import printable


def top_votes(counts: dict[str, int], times: str = "×", most: int = 5) -> str:
    """The leading answers of a vote with their counts, most votes first; a long tail of
    one-off answers (a top-up can draw dozens) is summed up instead of listed."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: first seen first
    shown = ", ".join(f"{printable(answer)}{times}{count}" for answer, count in ranked[:most])
    rest = len(ranked) - most
    return shown + (f" (+{rest} more)" if rest > 0 else "")


def refinement_rounds(count: int) -> str:
    return f"{count} refinement round{'' if count == 1 else 's'}"


def prompt_words(prompt_format: str, template: str | None) -> str:
    """How a model is prompted, as the plan and the live view say it."""
    if prompt_format != "chat":
        return "base model (no chat template)"
    return f"chat model ({template} template)" if template else "chat model"


def describe_plan(plan: Plan) -> str:
    """One line: what the budget buys and what it should cost."""
    parts = [registry.words_for(plan.strategy)]
    at = f" at temperature {plan.temperature:g}" if plan.temperature else ""  # else greedy
    at += f", min-p {plan.min_p:g}" if plan.temperature and plan.min_p else ""
    if plan.cot_tokens:  # a plan with no chain of thought (a direct answer) has none to show
        parts.append(f"{plan.samples} x {plan.cot_tokens} thinking tokens{at}"
                     if plan.samples > 1 else f"{plan.cot_tokens} thinking tokens{at}")
    elif plan.strategy == "program":
        count = f"{plan.samples} programs" if plan.samples > 1 else "1 program"
        parts.append(f"{count} of up to {plan.answer_tokens} tokens{at}, run in the sandbox")
    if plan.min_thinking_tokens:
        parts.append(f"a reasoning model thinks at least {plan.min_thinking_tokens} ('Wait')")
    if plan.refine_rounds:
        parts.append(f"up to {refinement_rounds(plan.refine_rounds)}")
    if plan.early_stop:
        parts.append(f"early stop at {plan.early_stop_threshold:.0%}")
    if plan.top_up_to > plan.samples:
        parts.append(f"up to {plan.top_up_to} samples if short ones leave budget unspent")
    seconds = (f", about {plan.predicted_seconds:.0f} s at most here"
               if plan.predicted_seconds is not None else "")
    return (f"budget {plan.budget} -> {', '.join(parts)} "
            f"(planned {plan.planned_units:.1f} units of {plan.unit_tokens} tokens{seconds})")


def vote_notes(vote: VoteSummary) -> list[str]:
    """What a finished vote did beyond counting: the usc pick, DeepConf online's stops."""
    notes = []
    if vote.selected is not None:
        notes.append(f"sample {vote.selected + 1} named most consistent (usc)")
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
