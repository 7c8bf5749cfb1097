"""The weaker, opt-in mode (`--sandbox guard`), for machines with no OS sandbox: an audit
hook in the worker that refuses writes outside its folder, new processes, signals, native
code, network access and reading other processes' environments.

It lives in the untrusted interpreter, so a determined program can switch it off (PEP 578:
audit hooks are no security boundary); it stops accidents, not attacks. The verdict does
not depend on it: the judge decides in its own process. Standard library only.
"""

from __future__ import annotations

import os
import sys
from typing import Any

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
BLOCKED = {
    "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind",
    "socket.sendto", "socket.sendmsg", "ctypes.dlopen", "ctypes.cdata", "os.putenv",
    "os.unsetenv", "os.chdir", "os.setuid", "os.setgid", "resource.setrlimit",
}
NATIVE_MODULES = {"_posixsubprocess", "_ctypes", "ctypes", "_xxsubinterpreters", "mmap",
                  "_testcapi"}
PATH_EVENTS = {
    "os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
    "os.link", "os.symlink", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move",
}
DEVICES = {os.devnull}


def install(root: str) -> None:
    """Refuse, from now on in this interpreter, what a test program has no need to do."""
    root = os.path.realpath(root)

    def inside(path: Any) -> bool:
        full = os.path.realpath(os.path.join(root, os.fsdecode(path)))
        return full == root or full.startswith(root + os.sep) or full in DEVICES

    def guard(event: str, args: tuple[Any, ...]) -> None:
        if event in BLOCKED:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0] in NATIVE_MODULES:
            raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if path is None or isinstance(path, int):
                return
            if "environ" in os.fsdecode(path):
                raise PermissionError("sandbox: reading a process environment is not allowed")
            writing = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & WRITE_FLAGS)
            if writing and not inside(path):
                raise PermissionError(f"sandbox: writing {os.fsdecode(path)} is not allowed")
        elif event in PATH_EVENTS:
            for path in args[:2]:
                if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                    raise PermissionError(f"sandbox: {event} on {os.fsdecode(path)} is not "
                                          "allowed")

    sys.addaudithook(guard)
