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

__all__ = ["Limits", "RunResult", "SETTINGS", "os_sandbox", "resolve", "run_tests", "warm",
           "why_not_run"]

SETTINGS = ("auto", "guard", "none")
CHOSEN_NONE = ("sandbox none was chosen (--sandbox none, or `sandbox: none` in the profile)",
               "give --sandbox auto to run them in the OS sandbox")
OR_GUARD = "or opt in to the weaker in-process guard with --sandbox guard"
GUARD_WARNING = ("think: warning: --sandbox guard runs model-written code with only an "
                 "in-process guard, which a hostile program can switch off")
PER_PROCESS_NOTE = ("think: note: code runs with memory limited per process only: think "
                    "can make no control group here (as root, or in a delegated cgroup v2 "
                    "slice, each run gets one that bounds it as a whole)")
_said: set[str] = set()


def os_sandbox() -> str | None:
    """The OS sandbox that works on this machine, if any."""
    if why_no_os_sandbox() is not None:
        return None
    return "bwrap" if sys.platform.startswith("linux") else "sandbox-exec"


def why_no_os_sandbox() -> tuple[str, str] | None:
    """Why no OS sandbox works here, and the fix; None where one does."""
    if sys.platform.startswith("linux"):
        from think.sandbox import bwrap

        return bwrap.unavailable()
    if sys.platform == "darwin":
        return None if shutil.which("sandbox-exec") else (
            "sandbox-exec is not found", "run think on a macOS whose sandbox-exec is on PATH")
    return f"think has no OS sandbox for {sys.platform}", "run code questions on Linux or macOS"


def why_not_run(setting: str) -> tuple[str, str] | None:
    """Why model code is not run under this setting (auto, guard, none), and the fix; None
    where it runs. The user who chose `none` needs to hear that, not to install bubblewrap."""
    if setting == "none":
        return CHOSEN_NONE
    if setting == "guard":
        return None
    missing = why_no_os_sandbox()
    if missing is None:
        return None
    reason, fix = missing
    return f"no OS sandbox works here: {reason}", f"{fix}, {OR_GUARD}"


def resolve(setting: str) -> str:
    """The mode a setting runs in here: bwrap, sandbox-exec, guard or none."""
    if setting == "guard":
        return "guard"
    if setting == "none":
        return "none"
    return os_sandbox() or "none"


def tell(mode: str, setting: str = "auto") -> None:
    """One stderr line per process when code runs weakly guarded or not at all (saying why:
    `setting` is what was asked for), or when its memory is bounded per process only."""
    line = GUARD_WARNING if mode == "guard" else None
    if mode == "none":
        reason, fix = why_not_run(setting) or CHOSEN_NONE
        line = f"think: code answers are not run against their tests: {reason}; {fix}"
    if mode == "bwrap":
        from think.sandbox import cgroup

        line = None if cgroup.where() is not None else PER_PROCESS_NOTE
    if line and line not in _said:
        _said.add(line)
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
