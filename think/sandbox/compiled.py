"""The sandbox's own scripts as bytecode, so no sandboxed interpreter compiles them.

Every run starts two interpreters (judge and worker) that would otherwise compile their
scripts from source each time: about 5 ms of CPU apiece, since a main script is never
loaded from a cache and the sandbox may write none. think compiles them once per process
into a private temporary folder (removed at exit) and mounts that folder where the sources
would go; Python runs and imports the `.pyc` files as they are. Where the folder cannot be
made the sources are mounted as before: a slower start, never a failed one.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import tempfile
from functools import cache
from pathlib import Path

SOURCES = Path(__file__).parent
# The scripts a sandbox runs or imports; each is a module of its own at /sandbox/lib.
SCRIPTS = ("judge", "worker", "wire", "run_start", "values", "suite", "pytest_style", "failure",
           "guard")
MOUNTED_AT = "/sandbox/lib"


def _bytecode(name: str) -> bytes:
    """One script as a .pyc file's bytes (unchecked hash: there is no source beside it)."""
    source = (SOURCES / f"{name}.py").read_bytes()
    code = compile(source, f"{MOUNTED_AT}/{name}.py", "exec", dont_inherit=True)
    from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]

    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


@cache
def lib_folder() -> tuple[Path, str]:
    """The folder to mount at /sandbox/lib and its scripts' suffix: ".pyc" for the compiled
    folder, ".py" for the sources where it cannot be made."""
    try:
        compiled = {name: _bytecode(name) for name in SCRIPTS}
        # A folder of this process's own (mkdtemp: no other user can have made or changed
        # it), not a shared cache: a judge.pyc someone else wrote could forge verdicts.
        folder = Path(tempfile.mkdtemp(prefix="think-sandbox-lib-"))
        atexit.register(shutil.rmtree, folder, True)
        for name, data in compiled.items():
            (folder / f"{name}.pyc").write_bytes(data)
        folder.chmod(0o755)  # the sandbox's uid (nobody) reads it; only think writes it
        return folder, ".pyc"
    except (OSError, SyntaxError, ValueError, ImportError):  # ImportError: a Python without
        return SOURCES, ".py"  # the bytecode writer this uses (it is not public API)


def script_path(script: str) -> str:
    """Where a script (named as its source, "judge.py") is inside the sandbox."""
    _, suffix = lib_folder()
    return f"{MOUNTED_AT}/{Path(script).stem}{suffix}"
