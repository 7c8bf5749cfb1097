"""The VoteRule protocol and the rules by name, from the `think.vote_rules` entry-point group.

A rule counts a vote's samples into a Tally and may do more around it: keep budget back for a
step after the samples (`reserve`), bound that step while the vote tops up (`bound`), and
choose the answer once the samples are in (`choose`, which may ask the model). think's own
rules (majority, cisc, deepconf in strategies/confidence; usc in strategies/usc) are
registered in its pyproject.toml exactly as a third-party package registers its own, so a new
rule is a module and an entry point. `Rule` holds the do-nothing defaults a rule may inherit.

`VoteRule` is a rule as a profile configures it: the rule's name and the profile's knobs
(config.vote.VoteSettings); `parse` reads the `think bench replay --rules` spelling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from think import plugins
from think.config.vote import vote_rule
from think.engine.base import CONFIDENCE_WINDOW, Confidence, Engine, SampleRequest
from think.errors import ConfigError, UsageError
from think.events import EventHandler
from think.planning.budget import Plan, Sizing
from think.result import SampleRecord, Tally
from think.tasks.prompts import Prompts

if TYPE_CHECKING:
    from think.config import Profile

Vote = tuple[str | None, Confidence | None]  # a sample's answer and its confidence
MAJORITY = "majority"


class Selecting(Protocol):
    """What a rule's own steps (`bound`, `choose`) see of the run they count for."""

    engine: Engine
    prompts: Prompts
    plan: Plan
    seed: int
    task: str
    emit: EventHandler
    deadline: float | None

    def spend(self, prompt_tokens: int, generated_tokens: int) -> None: ...


class Counting(Protocol):
    """What a strategy, a view or a replay asks of a vote rule."""

    name: str  # what a profile writes as `vote: {rule: NAME}`, and the entry point's name
    weighs: bool  # it weighs samples by token confidence, so it needs log-probabilities
    asks_model: bool  # its choice asks the model, so a recording cannot replay it offline
    knobs: tuple[str, ...]  # the VoteSettings fields its label carries (a fit writes them)
    examples: tuple[str, ...]  # how --rules spells it, for the error naming the known rules
    pick: str  # how a finished vote says what `choose` did with sample N: "named most ..."

    def count(self, votes: Sequence[Vote], rule: VoteRule) -> Tally:
        """The vote of `votes`, in sample order; ties go to the first answer."""
        ...

    def label(self, rule: VoteRule) -> str:
        """The rule and its knobs as --rules writes them."""
        ...

    def parse(self, value: str) -> VoteRule | None:
        """The rule from the text after `name:` in a --rules spec ("" for none); None: bad."""
        ...

    def reserve(self, sizing: Sizing) -> int:
        """Tokens a vote keeps back from its samples for a step after them."""
        ...

    def bound(self, run: Selecting, voters: list[SampleRecord]) -> SampleRequest | None:
        """The largest request that step may still send (the top-up leaves room for it)."""
        ...

    def choose(self, run: Selecting, voters: list[SampleRecord]) -> SampleRecord | None:
        """The sample that answers once the vote is drawn; None: the vote's leader."""
        ...


class Rule:
    """Defaults for a rule that counts and does nothing around it (subclass and override)."""

    name = MAJORITY
    weighs = False
    asks_model = False
    knobs: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    pick = "chosen"

    def label(self, rule: VoteRule) -> str:
        return self.name

    def parse(self, value: str) -> VoteRule | None:
        return VoteRule(self.name) if not value else None

    def reserve(self, sizing: Sizing) -> int:
        return 0

    def bound(self, run: Selecting, voters: list[SampleRecord]) -> SampleRequest | None:
        return None

    def choose(self, run: Selecting, voters: list[SampleRecord]) -> SampleRecord | None:
        return None


def get(name: str) -> Counting:
    """The rule registered as `name`; a ConfigError names an unknown one and the known."""
    return vote_rule(name)  # type: ignore[no-any-return]


def names() -> list[str]:
    """The names a profile's vote may count by."""
    return plugins.names(plugins.VOTE_RULES)


@dataclass(frozen=True)
class VoteRule:
    """A way of counting a vote: its rule's name and the knobs a profile gives it."""

    name: str = MAJORITY
    keep: float = 0.9  # deepconf: the share of samples kept
    temperature: float = 1.0  # cisc: the softmax temperature over confidences
    warmup: int = 0  # DeepConf online: samples drawn whole to set the threshold (0: off)
    window: int = CONFIDENCE_WINDOW  # tokens in a sliding window of confidence
    by: str = "lowest"  # deepconf: rank by the lowest window's confidence, or the tail's

    @property
    def kind(self) -> Counting:
        """The registered rule that counts."""
        return get(self.name)

    @property
    def needs_confidence(self) -> bool:
        """Whether the rule reads token log-probabilities (to weigh, or to stop online)."""
        return self.weighs or self.warmup > 0

    @property
    def weighs(self) -> bool:
        return self.kind.weighs

    @property
    def label(self) -> str:
        """The rule as `think bench replay --rules` writes it."""
        return self.kind.label(self)

    @classmethod
    def of(cls, profile: Profile) -> VoteRule:
        """The rule a profile counts its votes by."""
        vote = profile.vote
        return cls(vote.rule, keep=vote.keep, temperature=vote.temperature, warmup=vote.warmup,
                   window=vote.window, by=vote.by)

    @classmethod
    def parse(cls, spec: str) -> VoteRule:
        """A rule from its --rules spelling: its name, then `:` and what the rule reads."""
        name, _, value = spec.partition(":")
        try:
            parsed = get(name).parse(value) if name in names() else None
        except (ConfigError, ValueError):
            parsed = None
        if parsed is None:
            raise UsageError(f"unknown vote rule '{spec}'", f"use {spelled()}")
        return parsed


def spelled() -> str:
    """The known rules as --rules spells them: "majority, usc, cisc:1 or deepconf:0.9"."""
    examples: list[str] = []
    for name in names():
        try:
            examples += list(get(name).examples) or [name]
        except ConfigError:
            continue  # a broken plugin is named when it is asked for
    examples.sort(key=lambda text: ":" in text)  # bare names first, each group by name
    return ", ".join(examples[:-1]) + f" or {examples[-1]}" if len(examples) > 1 \
        else "".join(examples)


def weigh(votes: Sequence[Vote], rule: VoteRule) -> Tally:
    """The vote of `votes` (in sample order) under `rule`; ties go to the first answer."""
    return rule.kind.count(votes, rule)
