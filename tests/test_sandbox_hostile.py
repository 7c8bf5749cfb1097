"""Hostile programs through the real OS sandbox: every attack the sandbox issue reproduced
against the old audit-hook guard, and more. Each must leave the canary files outside
unchanged, never see the secrets in think's environment, never reach the loopback
listeners (TCP, UDP, unix), leave think alive with no process behind and its memory
bounded, and never be reported as passing (its tests are ones no program can pass).
"""

from __future__ import annotations

import os
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.hostile_programs import HOSTILE

from think import sandbox
from think.sandbox import Limits, run_tests
from think.sandbox.run import discard_spares

LIMITS = Limits(seconds=3)
IMPOSSIBLE = "assert add(2, 3) == 5\nassert add(2, 3) == 6\n"  # no program passes both
SECRET = "canary-secret-7f3a9c"
MARKER = "think-hostile-marker-51d2"
# THINK_HOSTILE_MODE=guard runs the suite against the in-process guard, to see it fail.
MODE = os.environ.get("THINK_HOSTILE_MODE", "bwrap")


@dataclass
class World:
    """What the programs attack: files, secrets and listeners on this side of the sandbox."""

    root: Path
    canary: Path
    tcp: socket.socket
    udp: socket.socket
    unix: socket.socket
    unix_dgram: socket.socket
    heard: list[str] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        return {"CANARY": str(self.canary), "CANARY_DIR": str(self.root), "SECRET_NAME":
                "THINK_API_KEY", "THINK_PID": str(os.getpid()), "MARKER": MARKER,
                "TCP_PORT": str(self.tcp.getsockname()[1]),
                "UDP_PORT": str(self.udp.getsockname()[1]), "UNIX": str(self.unix_path),
                "UNIX_DGRAM": str(self.unix_dgram_path)}

    @property
    def unix_path(self) -> Path:
        return self.root / "listener.sock"

    @property
    def unix_dgram_path(self) -> Path:
        return self.root / "listener.dgram"

    def listen(self) -> None:
        for sock in (self.tcp, self.unix):
            threading.Thread(target=self._accept, args=(sock,), daemon=True).start()
        for sock in (self.udp, self.unix_dgram):
            threading.Thread(target=self._receive, args=(sock,), daemon=True).start()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.heard.append(f"connection on {sock.family.name}")
            conn.close()

    def _receive(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            self.heard.append(f"datagram {data[:40]!r}")

    def reset(self) -> None:
        """The canaries as they were, so that one escape does not fail the tests after it."""
        keep = {self.canary, self.unix_path, self.unix_dgram_path}
        for path in self.root.iterdir():
            if path not in keep:
                path.unlink()
        self.canary.write_text("untouched")

    def snapshot(self) -> dict[str, bytes]:
        return {str(path): path.read_bytes() if path.is_file() else b"<other>"
                for path in sorted(self.root.rglob("*"))}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not sys.platform.startswith("linux"):
        pytest.skip("the hostile suite runs on Linux, under bubblewrap")
    if sandbox.os_sandbox() != "bwrap":
        pytest.fail("bubblewrap is missing or cannot make a sandbox: apt-get install bubblewrap")
    root = tmp_path_factory.mktemp("outside")
    canary = root / "canary.txt"
    canary.write_text("untouched")
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(root / "listener.sock"))
    unix.listen()
    unix_dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix_dgram.bind(str(root / "listener.dgram"))
    here = World(root, canary, tcp, udp, unix, unix_dgram)
    here.listen()
    saved = {name: os.environ.get(name) for name in ("THINK_API_KEY", "HF_TOKEN")}
    os.environ.update(THINK_API_KEY=SECRET, HF_TOKEN=SECRET)
    yield here
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for sock in (tcp, udp, unix, unix_dgram):
        sock.close()


def marked_processes() -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if MARKER.encode() in cmdline:
                found.append(entry.name)
    return found


def sandbox_processes() -> set[str]:
    """Processes of uid 65534 outside root's per-run namespaces (as root: the sandbox's)."""
    if os.geteuid() != 0:
        return set()
    found = set()
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == 65534:
                found.add(entry.name)
        except OSError:
            pass
    return found


def soon(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    """Whether the condition holds within `seconds`."""
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            return False
        time.sleep(0.02)
    return True


def shm_names() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_program_is_contained(name: str, world: World) -> None:
    program = HOSTILE[name]
    for key, value in world.values().items():
        program = program.replace(key.join("{}"), value)
    world.reset()
    before, shm, heard = world.snapshot(), shm_names(), len(world.heard)
    discard_spares()  # spare sandboxes wait for the next run by design; count none of them
    soon(lambda: not sandbox_processes())
    nobody = sandbox_processes()
    start = time.monotonic()
    result = run_tests(program, IMPOSSIBLE, LIMITS, MODE)
    took = time.monotonic() - start
    time.sleep(0.1)  # a packet in flight reaches the listener by now, if one was sent
    assert result.status != "passed"
    assert world.snapshot() == before, "a file outside the sandbox changed"
    assert world.canary.read_text() == "untouched"
    assert SECRET not in result.output
    assert "root:" not in result.output  # /etc/shadow or /etc/passwd was not readable
    assert world.heard[heard:] == [], "a listener outside was reached"
    assert shm_names() <= shm, "something was left in /dev/shm"
    assert took < LIMITS.seconds + 3
    discard_spares()
    # A killed namespace's processes are reaped by the kernel a moment after bwrap dies.
    assert soon(lambda: marked_processes() == []), "a process outlived the run"
    assert soon(lambda: sandbox_processes() <= nobody), "a sandboxed process outlived the run"
    assert "went through" not in result.output


def test_memory_stays_bounded_across_the_floods(world: World) -> None:
    flood = HOSTILE["output-flood"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):
        result = run_tests(flood, IMPOSSIBLE, LIMITS, MODE)
        assert result.status == "output" and len(result.output) <= 2000
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown_mb < 50


def test_the_suite_covers_every_category() -> None:
    assert len(HOSTILE) >= 25


def test_the_seccomp_filter_refuses_new_user_namespaces_and_ptrace() -> None:
    if sandbox.os_sandbox() != "bwrap":
        pytest.skip("bubblewrap only")
    probe = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
             "print('ptrace', libc.ptrace(0, 0, 0, 0), ctypes.get_errno())\n"
             "pid = os.fork()\nif pid == 0:\n    os._exit(3)\n"
             "print('fork', os.waitpid(pid, 0)[1] >> 8)\ndef add(a, b):\n    return a + b\n")
    result = run_tests(probe, "assert add(1, 2) == 3\n", LIMITS, "bwrap")
    assert result.passed
    assert "unshare -1 1" in result.output and "ptrace -1 1" in result.output
    assert "fork 3" in result.output
