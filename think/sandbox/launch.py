"""How a sandboxed process is started in each mode: under bubblewrap (Linux), sandbox-exec
(macOS) or, opted into, with only the in-process guard; resource limits in every mode."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass

from think.sandbox import bwrap, compiled, macos
from think.sandbox.cgroup import RunGroup
from think.sandbox.limits import Limits

MIB = 2**20


def user_tasks(uid: int) -> int:
    """Tasks (threads count: RLIMIT_NPROC counts them on Linux) that this uid runs now;
    where there is no /proc (macOS, which counts processes), ps counts them."""
    if not os.path.isdir("/proc/self"):
        listed = subprocess.run(["ps", "-U", str(uid), "-o", "pid="], capture_output=True,
                                text=True, stdin=subprocess.DEVNULL)
        return len(listed.stdout.split())
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


def rlimits(limits: Limits, processes: int) -> dict[int, int]:
    return {resource.RLIMIT_AS: limits.memory_mb * MIB,
            resource.RLIMIT_CPU: int(limits.seconds) + 1,
            resource.RLIMIT_FSIZE: limits.file_mb * MIB,
            resource.RLIMIT_CORE: 0,
            resource.RLIMIT_NPROC: processes}


def prlimit(values: dict[int, int]) -> list[str]:
    """The limits as a prlimit(1) prefix, set in the child before exec (a preexec_fn is
    unsafe in a process with threads, and think runs tests from a pool of them)."""
    names = {resource.RLIMIT_AS: "as", resource.RLIMIT_CPU: "cpu",
             resource.RLIMIT_FSIZE: "fsize", resource.RLIMIT_CORE: "core",
             resource.RLIMIT_NPROC: "nproc"}
    return ["prlimit", *(f"--{names[k]}={_shown(v)}" for k, v in values.items()), "--"]


def _shown(value: int) -> str:
    return "unlimited" if value == resource.RLIM_INFINITY else str(value)


def ulimit(values: dict[int, int]) -> list[str]:
    """The limits set by sh before exec, where there is no prlimit(1) (macOS)."""
    # One option per ulimit (dash takes only the last of several); dash calls -u -p.
    processes = _shown(values[resource.RLIMIT_NPROC])
    script = (f"ulimit -t {values[resource.RLIMIT_CPU]}; ulimit -c 0; "
              f"ulimit -f {values[resource.RLIMIT_FSIZE] // 512}; "
              f"{{ ulimit -u {processes} || ulimit -p {processes}; }} 2>/dev/null; "
              f"ulimit -v {values[resource.RLIMIT_AS] // 1024} 2>/dev/null; "
              f"ulimit -d {values[resource.RLIMIT_AS] // 1024} 2>/dev/null; exec \"$@\"")
    return ["/bin/sh", "-c", script, "sh"]


@dataclass
class Launcher:
    """Starts the judge and the worker of one run; `mode` names the isolation."""

    mode: str
    limits: Limits
    folder: str | None = None  # guard and sandbox-exec: where their working folders go
    userns: int | None = None
    group: RunGroup | None = None  # the run's control group, where one can be made

    def __post_init__(self) -> None:
        if self.mode == "bwrap" and bwrap.needs_userns():
            self.userns = bwrap.private_userns()
        if self.mode == "bwrap":
            # Both interpreters, bwrap's own processes and the candidate's.
            self.group = RunGroup.make(self.limits.memory_mb, self.limits.processes + 8)

    def start(self, script: str, args: list[str], fds: tuple[int, ...], out: int
              ) -> subprocess.Popen[bytes]:
        """One sandboxed interpreter running /sandbox/lib's `script`, its output on `out`."""
        limits = rlimits(self.limits, self._process_limit())
        env: dict[str, str] = {}
        cwd = None
        filter_fd = None
        if self.mode == "bwrap":
            filter_fd = bwrap.seccomp_fd()
            command = [*bwrap.sandbox_args(self.limits.tmp_mb * MIB, self.userns, filter_fd),
                       *bwrap.python_command(script, *args)]
            fds += tuple(fd for fd in (self.userns, filter_fd) if fd is not None)
        else:
            assert self.folder is not None
            cwd = os.path.join(self.folder, f"work-{script}")
            os.mkdir(cwd)
            env = {"PATH": "/usr/bin:/bin", "HOME": cwd, "TMPDIR": cwd, "LANG": "C.UTF-8"}
            command = [os.path.realpath(sys.executable), "-I", "-S", "-B", "-u",
                       str(compiled.SOURCES / script), *args]
            if self.mode == "guard" and script == "worker.py":
                command.append("guard")
            if self.mode == "sandbox-exec":
                command = macos.command(cwd, command)
        limiter = prlimit if sys.platform.startswith("linux") else ulimit
        try:
            return subprocess.Popen([*limiter(limits), *command], env=env, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    pass_fds=fds, start_new_session=True)
        finally:
            if filter_fd is not None:
                os.close(filter_fd)  # bwrap has its copy

    def _process_limit(self) -> int:
        """RLIMIT_NPROC for one sandbox as it starts. As root in bwrap the per-run namespace
        counts only this run's processes (two interpreters, and the candidate's); the run's
        group bounds them where there is one. Otherwise the count is of every process of
        this user, known only when the run begins (`run_process_limit`): until then the
        waiting interpreter keeps the limit it inherits."""
        if self.userns is not None:
            return 2 + self.limits.processes
        if self.group is not None:
            return resource.RLIM_INFINITY
        return resource.getrlimit(resource.RLIMIT_NPROC)[1]

    def run_process_limit(self) -> int | None:
        """The limit each sandbox sets as its run begins, where the user's processes count."""
        if self.userns is not None or self.group is not None:
            return None
        return user_tasks(os.getuid()) + 8 + self.limits.processes

    def join_group(self, *processes: subprocess.Popen[bytes]) -> bool:
        """Move the sandboxes just started, and all they have started, into the run's group
        (False where one could not be moved). They run only think's code until their run is
        sent, so moving them now, while their interpreters start, lets nothing of the run
        escape the group, and the kernel's wait for a move (milliseconds, once per burst
        of moves) overlaps their start instead of delaying it."""
        return self.group is None or all(self.group.adopt(p.pid) for p in processes)

    def out_of_memory(self) -> bool:
        """Whether the run's group hit its memory limit (a kill, not a MemoryError)."""
        return self.group is not None and self.group.out_of_memory()

    def close(self) -> None:
        if self.userns is not None:
            os.close(self.userns)
            self.userns = None
        if self.group is not None:
            self.group.retire()  # whatever the candidate started, setsid() or not
            self.group = None


def kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a sandbox: its process group (bwrap's namespace dies with bwrap)."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
