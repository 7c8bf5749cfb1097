"""Runs inside the sandbox's child process, before the untrusted program: an audit hook that
refuses writes outside the working directory, new processes, signals, native code, network
access and reading other processes' environments. Usage: python -I -S sandbox_guard.py PROGRAM.py

This file must import only the standard library: the child runs without site-packages.
"""

import os
import sys

ROOT = os.path.realpath(os.getcwd())
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
BLOCKED = {
    "os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind",
    "socket.sendto", "ctypes.dlopen", "ctypes.cdata", "os.putenv", "os.unsetenv", "os.chdir",
    "os.setuid", "os.setgid", "resource.setrlimit",
}
NATIVE_MODULES = {"_posixsubprocess", "_ctypes", "ctypes", "_xxsubinterpreters", "mmap"}
PATH_EVENTS = {
    "os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
    "os.link", "os.symlink", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move",
}


def inside(path):
    """Whether a path lies in the sandbox's working directory."""
    if isinstance(path, int):
        return True  # an already open descriptor was checked when it was opened
    full = os.path.realpath(os.path.join(ROOT, os.fsdecode(path)))
    return full == ROOT or full.startswith(ROOT + os.sep)


def guard(event, args):
    if event in BLOCKED:
        raise PermissionError(f"sandbox: {event} is not allowed")
    if event == "import" and args[0] in NATIVE_MODULES:
        raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if path is None or isinstance(path, int):
            return
        text = os.fsdecode(path)
        if text.startswith("/proc/") and text.endswith("environ"):
            raise PermissionError("sandbox: reading a process environment is not allowed")
        writing = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & WRITE_FLAGS)
        if writing and not inside(path):
            raise PermissionError(f"sandbox: writing {text} is outside the sandbox")
    elif event in PATH_EVENTS:
        for path in args[:2]:
            if isinstance(path, (str, bytes, os.PathLike)) and not inside(path):
                raise PermissionError(f"sandbox: {event} on {os.fsdecode(path)} is not allowed")


def main():
    program = sys.argv[1]
    with open(program, encoding="utf-8") as handle:
        source = handle.read()
    code = compile(source, program, "exec")
    sys.addaudithook(guard)
    exec(code, {"__name__": "__main__", "__file__": program})


if __name__ == "__main__":
    main()
