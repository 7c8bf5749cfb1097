"""Linux: the bubblewrap command lines for one sandbox.

Each sandbox gets new user, PID, network, IPC, UTS and mount namespaces: no network but its
own loopback, a read-only view of /usr and of the Python that runs it (the interpreter, its
standard library, libpython; not site-packages, think or the virtualenv), the judge's and
worker's scripts read-only at /sandbox/lib, private size-capped tmpfs at /tmp (its working
folder) and /dev/shm and everything else read-only (the program and tests come through pipes,
nothing is written outside), its own /proc (think is not in it) and /dev, an empty
environment, a new session (no controlling terminal), and uid 65534 with no capabilities.
Killing bwrap kills everything inside: the namespace's init has --die-with-parent, and its
death ends the PID namespace.

RLIMIT_NPROC binds only processes whose real uid is not root outside, so as root think
makes each run a user namespace that maps uid 65534 to the real uid 65534 (the kernel then
counts the sandbox's processes against the limit) and joins it with --userns; setpriv, as
the last step inside, switches to that uid and drops every capability. A seccomp filter
(think/sandbox/seccomp.py) refuses new user namespaces and a few risky syscalls in both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from functools import cache
from pathlib import Path

from think.sandbox import compiled, seccomp

NOBODY = 65534
MAP = f"0 0 1\n{NOBODY} {NOBODY} 1\n"  # root stays mapped so bwrap can read root's files
SHM_BYTES = 8 << 20  # /dev/shm: enough for multiprocessing's semaphores, not for hoarding


def python_paths() -> list[str]:
    """What the interpreter needs: its binary, the standard library and libpython."""
    paths = [os.path.realpath(sys.executable), sysconfig.get_paths()["stdlib"]]
    libdir, soname = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and soname:
        paths.append(os.path.join(libdir, soname))
    return [path for path in paths if os.path.exists(path) and not path.startswith("/usr/")]


def system_binds() -> list[str]:
    """/usr read-only, and /bin, /lib... as the symlinks or folders they are on this system."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def parent_dirs(paths: list[str]) -> list[str]:
    """The folders above mount points, made searchable (bwrap makes them 0700 otherwise)."""
    made: list[str] = []
    for path in paths:
        for parent in reversed(Path(path).parents[:-1]):  # all but "/"
            if str(parent) not in made and not str(parent).startswith("/usr"):
                made.append(str(parent))
    return [arg for folder in made for arg in ("--perms", "0755", "--dir", folder)]


def sandbox_args(tmp_bytes: int, userns: int | None,
                 filter_fd: int | None = None) -> list[str]:
    """bwrap's options for one sandbox, up to the `--` before the command; `filter_fd` is a
    descriptor to read the compiled seccomp filter from."""
    identity = (["--userns", str(userns)] if userns is not None else
                ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
                 "--disable-userns", "--cap-drop", "ALL"])
    if filter_fd is not None:
        identity += ["--seccomp", str(filter_fd)]
    args = ["bwrap", *identity, "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--clearenv", "--hostname", "sandbox", *system_binds()]
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = python_paths()
    args += parent_dirs([*paths, compiled.MOUNTED_AT])
    for path in paths:
        args += ["--ro-bind", path, path]
    if os.path.isdir(os.path.join(stdlib, "site-packages")):
        args += ["--tmpfs", os.path.join(stdlib, "site-packages")]  # hide installed packages
    # Writable: /tmp and /dev/shm alone, each a size-capped tmpfs. The root and /dev are
    # remounted read-only (as non-root the sandbox's uid owns them, and could fill memory).
    args += ["--ro-bind", str(compiled.lib_folder()[0]), compiled.MOUNTED_AT,
             "--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp", "--chdir", "/tmp",
             "--remount-ro", "/dev", "--remount-ro", "/"]
    if userns is not None:  # root: the last step inside drops to uid 65534, no capabilities
        args += ["--", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all"]
    return [*args, "--"]


def seccomp_fd() -> int | None:
    """A pipe's read end holding the seccomp filter for one bwrap (it reads it once)."""
    program = seccomp.program()
    if program is None:
        return None
    read, write = os.pipe()
    os.write(write, program)  # a few hundred bytes: the pipe holds them
    os.close(write)
    return read


def python_command(script: str, *args: str) -> list[str]:
    """The sandboxed interpreter running one of /sandbox/lib's scripts."""
    # -u: what the candidate prints reaches think even when its sandbox is killed.
    return [os.path.realpath(sys.executable), "-I", "-S", "-B", "-u",
            compiled.script_path(script), *args]


def private_userns() -> int:
    """As root: a new user namespace mapping uid 65534 to itself; returns an fd to it.

    A short-lived `unshare` process makes the namespace; the fd keeps it alive after.
    """
    own = os.readlink("/proc/self/ns/user")
    holder = subprocess.Popen(["unshare", "--user", "--", "sleep", "5"], env={},
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        link = f"/proc/{holder.pid}/ns/user"
        give_up = time.monotonic() + 2
        while os.readlink(link) == own:
            if holder.poll() is not None or time.monotonic() > give_up:
                raise OSError("unshare could not make a user namespace")
            time.sleep(0.0002)
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{holder.pid}/{name}", "w") as handle:
                handle.write(MAP)
        return os.open(link, os.O_RDONLY | os.O_CLOEXEC)
    finally:
        holder.kill()
        holder.wait()


def needs_userns() -> bool:
    return os.geteuid() == 0


INSTALL = "install bubblewrap (e.g. apt-get install bubblewrap)"
ALLOW_USERNS = ("let this user make user namespaces (sysctl user.max_user_namespaces, or "
                "kernel.unprivileged_userns_clone where the kernel has it; a container must be "
                "started with them allowed)")


def works() -> bool:
    """Whether bwrap is here and can make a sandbox."""
    return unavailable() is None


@cache
def unavailable() -> tuple[str, str] | None:
    """Why bwrap cannot make a sandbox here, and the fix, from a trial sandbox; None where
    it can. A user told only "no sandbox" cannot tell a missing package from a kernel that
    refuses user namespaces, and the two have different fixes."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap runs on Linux only", "run code questions on Linux"
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed", INSTALL
    tools = ["prlimit"] + (["unshare", "setpriv"] if needs_userns() else [])
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        return f"util-linux's {' and '.join(missing)} not found", "install util-linux"
    try:
        probe = trial_sandbox()
    except subprocess.TimeoutExpired:
        return ("bubblewrap's trial sandbox did not start within 20 s",
                "try again on a less busy machine (`think doctor` checks it)")
    except (OSError, subprocess.SubprocessError) as exc:
        return refused(str(exc))
    if probe.returncode == 0:
        return None
    said = probe.stderr.decode("utf-8", "replace").strip().splitlines()
    return refused(said[0][:200] if said else f"exit status {probe.returncode}")


def refused(why: str) -> tuple[str, str]:
    """bwrap is here but could not make the trial sandbox: what it said, and the usual cause."""
    return (f"bubblewrap cannot make a sandbox here ({why}; user namespaces may be off)",
            ALLOW_USERNS)


def trial_sandbox() -> subprocess.CompletedProcess[bytes]:
    """One sandbox as runs get them, running the wire module's self-check."""
    userns = private_userns() if needs_userns() else None
    filter_fd = seccomp_fd()
    fds = [fd for fd in (userns, filter_fd) if fd is not None]
    try:
        return subprocess.run(
            [*sandbox_args(2**20, userns, filter_fd), *python_command("wire.py")],
            env={}, stdin=subprocess.DEVNULL, capture_output=True, timeout=20, pass_fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
