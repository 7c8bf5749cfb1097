"""Seconds a plan should take on this machine, from the speeds `think tune` measured."""

from __future__ import annotations

import math
from dataclasses import replace

from think.config import Profile, Speeds
from think.planning.budget import Plan, PromptCosts, sized_plan


def batch_speed(speeds: Speeds, width: int) -> float:
    """Total decode tokens/s with `width` sequences, interpolated from the measured widths."""
    points = {1: speeds.decode_tps, **speeds.batch_tps}
    widths = sorted(points)
    if width <= widths[0]:
        return points[widths[0]]
    for low, high in zip(widths, widths[1:], strict=False):
        if width <= high:
            share = (width - low) / (high - low)
            return points[low] + share * (points[high] - points[low])
    return points[widths[-1]]  # wider than measured: assume no further gain


def predict_seconds(plan: Plan, speeds: Speeds, width: int, prompt_tokens: int) -> float:
    """Upper-bound seconds: every sample runs to its cap, every refinement round happens."""
    seconds = prompt_tokens / speeds.prompt_tps
    solution = plan.cot_tokens + plan.answer_tokens
    if plan.samples > 1:
        wide = max(1, min(width, plan.samples))
        waves = math.ceil(plan.samples / wide)
        # Each wave decodes `wide` sequences to the cap together.
        seconds += waves * solution * wide / batch_speed(speeds, wide)
    else:
        seconds += solution / speeds.decode_tps
    for _ in range(plan.refine_rounds):
        read = solution + plan.critique_tokens + prompt_tokens
        seconds += read / speeds.prompt_tps
        seconds += (plan.critique_tokens + solution) / speeds.decode_tps
    return seconds


def timed_plan(profile: Profile, budget: int, costs: PromptCosts, context: int,
               early_stop: bool | None = None) -> Plan:
    """The plan for a budget, with its predicted seconds when the profile has measured speeds."""
    plan, prompt = sized_plan(profile, budget, costs, context, early_stop=early_stop)
    if profile.speeds is None:
        return plan
    seconds = predict_seconds(plan, profile.speeds, profile.load.batch_width, prompt)
    return replace(plan, predicted_seconds=round(seconds, 1))
