"""A recording: K answers drawn for one question, in order, with what each cost and how
confident it was; the benchmarks replay stopping and vote rules on recordings, and the profile
fit replays plan shapes on them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from think.engine.base import Confidence


@dataclass(frozen=True)
class Recording:
    """K recorded answers for one question, in the order they were drawn."""

    id: str
    gold: str | None
    answers: list[str | None]
    # Each sample's confidence (think bench record); empty for older recordings and logs.
    confidences: list[Confidence | None] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)  # each sample's tokens, where recorded
    traces: list[list[float]] = field(default_factory=list)  # each token's confidence

    @property
    def weighable(self) -> bool:
        return len(self.confidences) == len(self.answers) and all(
            c is not None for answer, c in zip(self.answers, self.confidences, strict=True)
            if answer is not None)


    def first(self, k: int) -> Recording:
        """The recording of its first k samples only."""
        return replace(self, answers=self.answers[:k], confidences=self.confidences[:k],
                       tokens=self.tokens[:k], traces=self.traces[:k])

    def reordered(self, order: list[int]) -> Recording:
        """The same samples drawn in another order (`order` lists their indices)."""
        def pick(values: list[Any]) -> list[Any]:
            return [values[i] for i in order] if values else []

        return replace(self, answers=pick(self.answers), confidences=pick(self.confidences),
                       tokens=pick(self.tokens), traces=pick(self.traces))

    def votes(self, k: int | None = None) -> list[tuple[str | None, Confidence | None]]:
        """The first k samples (all by default) as (answer, confidence) votes."""
        confidences = self.confidences or [None] * len(self.answers)
        return list(zip(self.answers, confidences, strict=True))[:k]


def confidences_of(row: dict[str, Any]) -> list[Confidence | None]:
    """A recorded line's confidences (none in a recording made before they were kept)."""
    return [Confidence(**{**c, "falls": tuple(map(tuple, c.get("falls") or ()))}) if c else None
            for c in row.get("confidences") or []]
