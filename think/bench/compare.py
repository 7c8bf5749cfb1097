"""`think bench compare`: two reports of `think bench accuracy` side by side (two profiles,
two models), budget by budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from think.errors import UsageError


def compare(first: dict[str, Any], second: dict[str, Any], names: tuple[str, str]) -> str:
    """Two reports side by side, budget by budget."""
    a_rows = {row["budget"]: row for row in first["rows"]}
    b_rows = {row["budget"]: row for row in second["rows"]}
    lines = [f"{'budget':>6} {names[0][:18]:>18} {names[1][:18]:>18} {'Δ accuracy':>11}"]
    for budget in sorted(set(a_rows) | set(b_rows)):
        cells = []
        for rows in (a_rows, b_rows):
            row = rows.get(budget)
            cells.append(f"{row['accuracy']:.1%} @{row['units']:.1f}u" if row else "-")
        delta = (f"{b_rows[budget]['accuracy'] - a_rows[budget]['accuracy']:+.1%}"
                 if budget in a_rows and budget in b_rows else "")
        lines.append(f"{budget:>6} {cells[0]:>18} {cells[1]:>18} {delta:>11}")
    for label, report in zip(names, (first, second), strict=True):
        if report.get("fit"):
            lines.append(f"{label}: alpha = {report['fit']['alpha']:.3f}")
    return "\n".join(lines)


def load_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("rows"), list):
        raise UsageError(f"{path} is not a report of `think bench accuracy`",
                         "give the JSON it wrote")
    return report
