"""One control group per sandboxed run, where think may make one: memory, processes and CPU
bound the run as a whole.

Per-process limits miss what a hostile program can hold outside its address space (memfd,
tmpfs pages, socket buffers) and let each of its processes have a full share of the CPU, so
one run's forks could starve another's. A run's group counts all of it: `memory.max` (and no
swap), `pids.max`, and an equal CPU weight per run whatever its process count; killing the
group ends every process in it, `setsid()` or not.

cgroup v2 is used where a group that lists `memory` and `pids` in its `cgroup.subtree_control`
is writable (root on a systemd machine, or a delegated user slice); cgroup v1's memory, pids
and cpu hierarchies where they are writable; else none, and think says that memory is limited
per process only. think moves a run's sandboxes into their group as they start, before the run
is sent to them, so nothing the run starts is ever outside it.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

V1_CONTROLLERS = ("memory", "pids", "cpu")
HEADROOM_MB = 64  # the judge's interpreter, beside the run's own memory
# A run is two interpreters (judge and worker): its group weighs as much as two processes
# outside one would, so a group costs a correct run no CPU time on a busy machine, and a
# run that forks a hundred processes still weighs only that.
V1_SHARES, V2_WEIGHT = "2048", "200"
_numbers = itertools.count()


def _mounts() -> list[tuple[str, str]]:
    """(filesystem type, mount point) of every cgroup mount, and cgroup v1's options."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if " - " not in line:
            continue
        after = line.split(" - ", 1)[1].split()
        if after and after[0] in ("cgroup", "cgroup2"):
            found.append((after[0] if after[0] == "cgroup2" else after[-1], fields[4]))
    return found


def _own_paths() -> dict[str, str]:
    """This process's group in each hierarchy: "" for v2, a controller's name for v1."""
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _v2_parent() -> Path | None:
    own = _own_paths().get("")
    for kind, mount in _mounts():
        if kind != "cgroup2" or own is None:
            continue
        here = Path(mount + own)
        for folder in (here, here.parent, Path(mount)):
            try:
                enabled = (folder / "cgroup.subtree_control").read_text().split()
            except OSError:
                continue
            if {"memory", "pids"} <= set(enabled) and os.access(folder, os.W_OK):
                return folder
    return None


def _v1_parents() -> list[Path] | None:
    own, mounts = _own_paths(), _mounts()
    parents = []
    for controller in V1_CONTROLLERS:
        mount = next((m for kind, m in mounts if kind != "cgroup2"
                      and controller in kind.split(",")), None)
        if mount is None or controller not in own:
            return None
        folder = Path(mount + own[controller])
        if not os.access(folder, os.W_OK):
            return None
        parents.append(folder)
    return parents


@cache
def where() -> tuple[str, tuple[Path, ...]] | None:
    """("v2" or "v1", the folders a run's groups are made in), or None where none can be."""
    v2 = _v2_parent()
    if v2 is not None:
        return "v2", (v2,)
    v1 = _v1_parents()
    return ("v1", tuple(v1)) if v1 else None


@dataclass
class RunGroup:
    """The group (one folder per hierarchy) of one sandboxed run."""

    version: str
    folders: tuple[Path, ...]

    @classmethod
    def make(cls, memory_mb: int, processes: int) -> RunGroup | None:
        """A new group with the run's limits, or None where think cannot make one."""
        found = where()
        if found is None:
            return None
        version, parents = found
        name = f"think-run-{os.getpid()}-{next(_numbers)}"
        group = cls(version, tuple(parent / name for parent in parents))
        try:
            for folder in group.folders:
                folder.mkdir()
            group._limit((memory_mb + HEADROOM_MB) << 20, processes)
        except OSError:
            group.remove()
            return None
        return group

    def _limit(self, memory: int, processes: int) -> None:
        if self.version == "v2":
            folder = self.folders[0]
            _write(folder / "memory.max", str(memory))
            _write(folder / "memory.swap.max", "0", optional=True)
            _write(folder / "pids.max", str(processes))
            _write(folder / "cpu.weight", V2_WEIGHT, optional=True)
            return
        memory_folder, pids_folder, cpu_folder = self.folders
        _write(memory_folder / "memory.limit_in_bytes", str(memory))
        _write(memory_folder / "memory.memsw.limit_in_bytes", str(memory), optional=True)
        _write(pids_folder / "pids.max", str(processes))
        _write(cpu_folder / "cpu.shares", V1_SHARES, optional=True)

    def adopt(self, pid: int) -> bool:
        """Move a process and every process it has started into the group: the parent first,
        so a child it forks meanwhile is born inside, then the children it had already."""
        for folder in self.folders:
            try:
                (folder / "cgroup.procs").write_text(str(pid))
            except ProcessLookupError:
                return True  # gone already: nothing of it is left outside
            except OSError:
                return False
        return all(self.adopt(child) for child in _children(pid))

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the run for the group's memory."""
        try:
            if self.version == "v2":
                events = (self.folders[0] / "memory.events").read_text().split()
                return int(dict(zip(events[::2], events[1::2], strict=False))
                           .get("oom_kill", "0")) > 0
            control = (self.folders[0] / "memory.oom_control").read_text().split()
            return int(dict(zip(control[::2], control[1::2], strict=False))
                       .get("oom_kill", "0")) > 0
        except (OSError, ValueError):
            return False

    def kill(self, rounds: int = 50) -> None:
        """End every process in the group, wherever it went (setsid, double forks)."""
        if self.version == "v2" and _write(self.folders[0] / "cgroup.kill", "1", optional=True):
            return
        for _ in range(rounds):
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.002)

    def _pids(self) -> list[int]:
        # v2 has one folder; of v1's (memory, pids, cpu), the pids one lists every process.
        folder = self.folders[0] if self.version == "v2" else self.folders[1]
        try:
            return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def retire(self) -> None:
        """Kill what is left of the run now and delete the group in the background: an
        emptied memory group takes milliseconds to delete, which no run should wait for."""
        self.kill(rounds=1)
        with _retiring_lock:
            _retiring.append(self)
            if len(_retiring) == 1:
                threading.Thread(target=_remove_retired, daemon=True).start()

    def remove(self) -> None:
        """Delete the group's folders once its processes are gone (a moment, at most)."""
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill()
                    time.sleep(0.005)


_retiring: list[RunGroup] = []
_retiring_lock = threading.Lock()


@atexit.register
def _remove_retired() -> None:
    """Delete retired groups until none is left (the background thread, and at exit)."""
    while True:
        with _retiring_lock:
            if not _retiring:
                return
            group = _retiring[0]
        group.remove()
        with _retiring_lock:
            if group in _retiring:
                _retiring.remove(group)


def _children(pid: int) -> list[int]:
    """The processes that `pid`'s threads have started."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split())
    except OSError:
        pass  # it has exited; what it started belongs to the sandbox's init, moved before
    return found


def _write(path: Path, value: str, optional: bool = False) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        if optional:
            return False
        raise
