"""think: budgeted solving on consumer hardware.

`think.solve(question, budget=20)` spends about twenty times the compute of a direct answer
and returns a Result; see think.api. Imports stay lazy so `think --help` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["solve", "__version__"]

if TYPE_CHECKING:
    from think.config import Profile
    from think.engine.base import Engine
    from think.events import EventHandler
    from think.planning.budget import Budget
    from think.result import Result


def solve(question: str, budget: Budget | int | str = 8, *,  # api.DEFAULT_BUDGET
          profile: str | Profile | None = None, model: str | None = None, task: str = "auto",
          seed: int | None = None, on_event: EventHandler | None = None,
          early_stop: bool | None = None, engine: Engine | None = None, verbose: bool = False,
          max_seconds: float | None = None, tests: str | None = None, code_prefix: str = "",
          server: str | None = None, sandbox: str | None = None,
          log: bool | None = None) -> Result:
    """Solve a question within a budget; the parameters are think.api.solve's, by keyword."""
    from think.api import solve as run_solve  # the api imports the engines: not at start-up

    return run_solve(question, budget, profile=profile, model=model, task=task, seed=seed,
                     on_event=on_event, early_stop=early_stop, engine=engine, verbose=verbose,
                     max_seconds=max_seconds, tests=tests, code_prefix=code_prefix,
                     server=server, sandbox=sandbox, log=log)
