"""The sandbox runs think's own scripts as bytecode compiled once per process into a private
folder; where no such folder can be made, the sources run as before."""

from __future__ import annotations

import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from think import sandbox
from think.sandbox import Limits, compiled
from think.sandbox.pair import Pair

PROGRAM = "def add(a, b):\n    return a + b\n"
# The judge's own modules are where the tests run: they say which file each came from.
LOADED_FROM = "import sys\nassert add(2, 3) == 5\nprint(sys.modules['wire'].__file__)\n"


@pytest.fixture(autouse=True)
def fresh_lib() -> Iterator[None]:
    if not sys.platform.startswith("linux") or sandbox.os_sandbox() is None:
        pytest.fail("bubblewrap is missing or cannot make a sandbox here: apt-get install "
                    "bubblewrap (CI must run these tests for real)")
    compiled.lib_folder.cache_clear()
    yield
    compiled.lib_folder.cache_clear()


def run() -> tuple[str, str]:
    result = Pair("bwrap", Limits(seconds=5)).run(PROGRAM, LOADED_FROM)
    return result.status, result.output


def test_the_sandbox_runs_compiled_scripts_from_a_folder_only_think_may_write() -> None:
    status, output = run()
    assert status == "passed" and "/sandbox/lib/wire.pyc" in output
    folder, suffix = compiled.lib_folder()
    assert suffix == ".pyc" and folder != compiled.SOURCES
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # readable by the sandbox's uid
    assert {p.name for p in folder.iterdir()} == {f"{n}.pyc" for n in compiled.SCRIPTS}


def test_where_no_private_folder_can_be_made_the_sources_run(monkeypatch,
                                                              tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    status, output = run()
    assert status == "passed" and "/sandbox/lib/wire.py\n" in output
