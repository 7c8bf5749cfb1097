"""The fit: a profile's stages chosen for a model and a set of questions, from samples
recorded once (record), replayed through the planner (replay), chosen per budget (choice),
compared on held-out questions (report) and kept for a refit (store).

    from pathlib import Path
    from think.fit import fit_profile
    fitted = fit_profile(Path("questions.jsonl"), "mine", caps=[64, 256],
                         temperatures=[0.3, 0.7], budgets=[1, 4, 16])
    print(fitted.text)  # the profile's YAML, with its held-out table

`fit_profile` is `think tune --data` without the command line: it prints nothing and writes
no profile (the command writes `fitted.text`).
"""

from __future__ import annotations

from think.fit.session import Fitted, fit_profile

__all__ = ["Fitted", "fit_profile"]
