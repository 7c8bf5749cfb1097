"""A think plugin as a real distribution: its pyproject and one module, built and installed
by pip into a folder of its own, the way a user's `pip install` would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def install_plugin(tmp_path_factory: pytest.TempPathFactory, package: str, pyproject: str,
                   module: str) -> Path:
    """The folder (pip's target) that holds the installed `package`."""
    pytest.importorskip("hatchling")  # the build backend, from think's test extra
    source = tmp_path_factory.mktemp(package)
    (source / "pyproject.toml").write_text(pyproject)
    (source / package).mkdir()
    (source / package / "__init__.py").write_text(module)
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, capture_output=True, timeout=120)
    return target
