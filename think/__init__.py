"""think: budgeted solving on consumer hardware.

`think.solve(question, budget=20)` spends about twenty times the compute of a direct answer
and returns a Result; see think.api. Imports stay lazy so `think --help` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["solve", "__version__"]

if TYPE_CHECKING:
    from think.result import Result


def solve(question: str, **options: Any) -> Result:
    """Solve a question within a budget; options as in think.api.solve."""
    from think.api import solve as run_solve

    return run_solve(question, **options)
