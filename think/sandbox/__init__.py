"""Running model-written code against tests, isolated from think and from the machine.

Modes: `bwrap` (Linux: bubblewrap namespaces), `sandbox-exec` (macOS: a deny-by-default
profile), `guard` (opted into: only an in-process audit hook, which a hostile program can
switch off) and `none` (code is not run; code answers are voted on as text). The setting
(profile `sandbox:` or `--sandbox`) is `auto` (the OS sandbox where it works, else none),
`guard` or `none`.
"""

from __future__ import annotations

import shutil
import sys

from think.sandbox.limits import Limits, RunResult

__all__ = ["Limits", "RunResult", "SETTINGS", "os_sandbox", "resolve", "run_tests", "warm"]

SETTINGS = ("auto", "guard", "none")
ENABLE = ("think: code answers are not run against their tests (no OS sandbox here); "
          "install bubblewrap (e.g. apt-get install bubblewrap) to run them, or opt in to "
          "the weaker in-process guard with --sandbox guard")
GUARD_WARNING = ("think: warning: --sandbox guard runs model-written code with only an "
                 "in-process guard, which a hostile program can switch off")
PER_PROCESS_NOTE = ("think: note: code runs with memory limited per process only: think "
                    "can make no control group here (as root, or in a delegated cgroup v2 "
                    "slice, each run gets one that bounds it as a whole)")
_said: set[str] = set()


def os_sandbox() -> str | None:
    """The OS sandbox that works on this machine, if any."""
    if sys.platform.startswith("linux"):
        from think.sandbox import bwrap

        return "bwrap" if bwrap.works() else None
    if sys.platform == "darwin" and shutil.which("sandbox-exec"):
        return "sandbox-exec"
    return None


def resolve(setting: str) -> str:
    """The mode a setting runs in here: bwrap, sandbox-exec, guard or none."""
    if setting == "guard":
        return "guard"
    if setting == "none":
        return "none"
    return os_sandbox() or "none"


def tell(mode: str) -> None:
    """One stderr line per process when code runs weakly guarded or not at all, or when its
    memory is bounded per process only."""
    line = {"none": ENABLE, "guard": GUARD_WARNING}.get(mode)
    if mode == "bwrap":
        from think.sandbox import cgroup

        line = None if cgroup.where() is not None else PER_PROCESS_NOTE
    if line and mode not in _said:
        _said.add(mode)
        print(line, file=sys.stderr)


def warm(mode: str, limits: Limits) -> None:
    """Start sandboxes ahead of the runs to come (they wait for their program)."""
    if mode != "none":
        from think.sandbox.run import warm as start

        start(mode, limits)


def run_tests(program: str, tests: str, limits: Limits, mode: str) -> RunResult:
    """Run `tests` as the main program against `program`, imported as `candidate`."""
    from think.sandbox.run import run_tests as run

    return run(program, tests, limits, mode)
