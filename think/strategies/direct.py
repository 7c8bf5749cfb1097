"""The direct strategy: the model's next line (or code block), with no chain of thought."""

from __future__ import annotations

from think.config import StageSettings
from think.planning.budget import Knobs, Sizing
from think.strategies.base import Steps, Strategy


class DirectStage(StageSettings):
    """A direct answer has nothing to set beyond where its stage starts."""


class Direct:
    """One answer at temperature 0, as long as the budget and the context allow."""

    name = "direct"
    settings = DirectStage
    words = "direct answer"

    def plan(self, stage: DirectStage, sizing: Sizing) -> Knobs:
        """The answer may use what the prompt leaves of the budget; it stops at a newline."""
        profile, prompt = sizing.profile, sizing.prompts.direct
        reply = min(max(profile.direct_tokens, sizing.total - prompt), sizing.context - prompt)
        return Knobs(prompt=prompt, answer_tokens=reply)

    def run(self, run: Steps) -> None:
        """Draw the one answer."""
        run.direct()


strategy: Strategy[DirectStage] = Direct()
