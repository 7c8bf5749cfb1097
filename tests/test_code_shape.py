"""The house rules a reviewer would check, run in CI: ruff's lint (complexity at most 12
included, from pyproject.toml), small modules, and a docstring at the top of each."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 300


def python_files() -> list[Path]:
    return sorted(p for folder in ("think", "tests", "scripts") for p in (ROOT / folder).rglob(
        "*.py"))


def test_ruff_is_clean_with_its_complexity_check() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is in the test extras"
    run = subprocess.run([ruff, "check", "think", "tests", "scripts"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_module_of_think_is_over_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "think").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_every_module_opens_with_a_docstring() -> None:
    bare = [str(p.relative_to(ROOT)) for p in python_files()
            if p.read_text().strip() and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert bare == []
