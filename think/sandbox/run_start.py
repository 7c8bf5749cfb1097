"""The start of a run inside a sandbox: no descriptor but its own, its source, and the
process limit that holds now.

bwrap leaves the user namespace's descriptor open to what it runs; each sandboxed script
closes every descriptor it was not given before it reads its run (a shell step that did it
cost a process start on every sandbox).

A spare sandbox waits before its run is known. Where RLIMIT_NPROC counts every process of
the user (not root, no control group), a limit fixed when the spare started would be wrong
by the time the run begins: the user may have started more processes since, and a correct
candidate would meet EAGAIN. So think sends the limit with the source, counted when the run
begins, and it is set here, before any line of the run's code. Runs inside the sandbox:
standard library only, and no import of think.
"""

from __future__ import annotations


def close_others(keep: set[int]) -> None:
    """Close every descriptor above stderr that is not in `keep`."""
    import os

    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    for name in os.listdir(folder):
        if int(name) > 2 and int(name) not in keep:
            try:
                os.close(int(name))
            except OSError:
                pass  # the listing's own descriptor, closed already


def read_run(fd: int) -> str:
    """The run's source from `fd`, once its first line's process limit ('-': none) is set.

    The limit is set as both soft and hard, so the run cannot raise it again; a limit that
    cannot be set ends the sandbox before the run's code starts.
    """
    with open(fd, encoding="utf-8") as handle:
        limit, _, source = handle.read().partition("\n")  # waits here, a spare
    if limit.strip() not in ("", "-"):
        import resource  # only here: each import is a cost on every run

        processes = int(limit)
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    return source


def run_header(processes: int | None) -> bytes:
    """The first line think sends before a run's source."""
    return b"-\n" if processes is None else f"{processes}\n".encode()
