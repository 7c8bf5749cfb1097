"""`think doctor`: what works on this machine and what to fix, one line per check."""

from __future__ import annotations

from typing import Annotated

import typer

from think.cli.common import print_json
from think.errors import ThinkError


def doctor(json: Annotated[bool, typer.Option(
        "--json", help="Print the checks as a JSON list of {name, status, detail, fix}.")]
           = False) -> None:
    """Check Python, llama.cpp, the models, the sandbox, the profile and think's folders."""
    from think.doctor import broken, run_checks

    checks = run_checks()
    if json:
        print_json([check.as_dict() for check in checks])
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            fix = f" (fix: {check.fix})" if check.fix and check.status != "ok" else ""
            print(f"{check.status:<8}{check.name:<{width + 2}}{check.detail}{fix}")
    failing = broken(checks)
    if failing:
        names = ", ".join(check.name for check in failing)
        raise ThinkError(f"think doctor found {len(failing)} broken: {names}",
                         "apply the fixes above")
