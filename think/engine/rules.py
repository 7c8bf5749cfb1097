"""What a model wants that its file does not say: how it marks its thinking, how it samples
best, whether it takes a system prompt, how it writes its answer, and what its chat template
is told (models.yaml carries these per model; see config.schema.ModelEntry).

Sampling given here overrides the profile's field by field: a model card's recommendation
knows the model; a field left out keeps the profile's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from think.engine.thinking import Reasoning

# A reasoning model whose card think does not know: the temperature Qwen3's and
# DeepSeek-R1's cards both give for thinking, rather than greedy repetition.
REASONING_TEMPERATURE = 0.6


@dataclass(frozen=True)
class Sampling:
    """Sampler settings for one request."""

    temperature: float
    top_k: int
    top_p: float
    min_p: float = 0.0


@dataclass(frozen=True)
class ModelRules:
    """A model's prompting and sampling rules."""

    reasoning: Reasoning | None = None  # a reasoning model: its thinking block's tags
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    system_prompt: bool = True  # False: instructions go in the user's turn (DeepSeek-R1)
    answer_format: str = "final-line"  # or "boxed": the model writes \boxed{answer}
    # Told to the chat template, e.g. (("enable_thinking", True),): items, so rules hash.
    template_kwargs: tuple[tuple[str, Any], ...] = ()

    def sampling(self, temperature: float, top_k: int, top_p: float,
                 min_p: float = 0.0) -> Sampling:
        """The profile's plan settings with this model's own in their place.

        A plan samples greedily (temperature 0) where one chain suffices, except on a
        reasoning model, which repeats itself without end when greedy (Qwen3's card).
        """
        chosen = temperature
        if self.temperature is not None and (temperature > 0 or self.reasoning is not None):
            chosen = self.temperature
        elif self.reasoning is not None and chosen == 0:
            chosen = REASONING_TEMPERATURE  # known to reason (its template) but not its card
        return Sampling(chosen, self.top_k if self.top_k is not None else top_k,
                        self.top_p if self.top_p is not None else top_p,
                        self.min_p if self.min_p is not None else min_p)


PLAIN = ModelRules()  # a model with no rules of its own
