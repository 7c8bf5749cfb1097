"""Limits that bind a sandboxed run as a whole, tried as an attacker would: memory held
outside the address space (memfd, /dev/shm), writable places, socket families, inherited
descriptors, forked CPU hogs, and the same sandbox as a user who is not root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from test_sandbox_benign import os_sandbox_here  # noqa: F401 - fails without bwrap

from think.sandbox import cgroup, launch, macos, run_tests
from think.sandbox.limits import Limits
from think.sandbox.pair import Pair
from think.sandbox.run import discard_spares

LIMITS = Limits(seconds=4, memory_mb=256)
ROOT = Path(__file__).resolve().parent.parent


def verdict(program: str, tests: str, limits: Limits = LIMITS) -> str:
    result = run_tests(program, tests, limits, "bwrap")
    assert result.status in ("passed", "failed", "memory", "timeout"), result
    return result.status if result.status != "failed" else "failed: " + result.output[-600:]


WRITES = '''
import os
def tried(path, size=4096):
    written = 0
    try:
        with open(path, "wb") as out:
            while written < size:
                written += out.write(b"z" * 65536)
                out.flush()
    except OSError:
        pass
    return written
root, dev = tried("/probe"), tried("/dev/probe")
shm = tried("/dev/shm/probe", 64 << 20)
tmp = tried("/tmp/probe")
'''


def test_only_tmp_and_a_small_dev_shm_are_writable() -> None:
    tests = ("import candidate as c\nassert c.root == 0 and c.dev == 0, (c.root, c.dev)\n"
             "assert 0 < c.shm <= 8 << 20, c.shm\nassert c.tmp == 4096 or c.tmp > 0\n")
    assert verdict(WRITES, tests) == "passed"


SOCKETS = '''
import socket
refused = {}
for family in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_VSOCK", "AF_PACKET"):
    try:
        socket.socket(getattr(socket, family), socket.SOCK_DGRAM).close()
        refused[family] = False
    except OSError:
        refused[family] = True
a, b = socket.socketpair()
a.sendall(b"ping")
unix = b.recv(4)
'''


def test_every_socket_family_but_unix_is_refused() -> None:
    tests = ("import candidate as c\nassert all(c.refused.values()), c.refused\n"
             "assert c.unix == b'ping'\n")
    assert verdict(SOCKETS, tests) == "passed"


CALLS = '''
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
personality = libc.personality(0x0008)  # ADDR_NO_RANDOMIZE
personality_errno = ctypes.get_errno()
links = []
for fd in os.listdir("/proc/self/fd"):
    try:
        links.append(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
'''


def test_personality_is_refused_and_no_namespace_descriptor_is_inherited() -> None:
    tests = ("import candidate as c\nassert c.personality == -1 and c.personality_errno == 1\n"
             "assert not [l for l in c.links if l.split(':')[0] in "
             "('user', 'mnt', 'net', 'pid', 'ipc', 'uts', 'cgroup')], c.links\n")
    assert verdict(CALLS, tests) == "passed"


def test_as_root_each_run_gets_a_control_group_and_leaves_none() -> None:
    if os.geteuid() != 0:
        pytest.skip("root makes the groups; the user's case is the next tests'")
    found = cgroup.where()
    assert found is not None, "no cgroup v1 or v2 hierarchy is writable here"
    discard_spares()
    before = {p.name for parent in found[1] for p in parent.iterdir() if p.is_dir()}
    assert verdict("x = 1", "import candidate\nassert candidate.x == 1\n") == "passed"
    discard_spares()  # the spare started for the next run has its own group till now

    def left() -> set[str]:
        after = {p.name for parent in found[1] for p in parent.iterdir() if p.is_dir()}
        return {name for name in after - before if name.startswith("think-run-")}

    give_up = time.monotonic() + 3  # groups are deleted in the background, in milliseconds
    while left() and time.monotonic() < give_up:
        time.sleep(0.02)
    assert left() == set()




def descendants(pid: int) -> set[int]:
    found = {pid}
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
            found |= descendants(int(child))
    return found


def test_every_process_of_a_started_sandbox_is_in_its_runs_group_before_the_run() -> None:
    # think moves the sandboxes in as they start (not the sandboxes themselves, before
    # bwrap): whatever bwrap had forked by then must be moved too, every time.
    if os.geteuid() != 0 or cgroup.where() is None:
        pytest.skip("root makes the groups; the user's case is the next tests'")
    for _ in range(10):
        pair = Pair("bwrap", LIMITS)
        try:
            group = pair.launcher.group
            assert group is not None
            time.sleep(0.05)  # bwrap's own processes and the interpreters are up by now
            processes = descendants(pair.judge.pid) | descendants(pair.worker.pid)
            assert len(processes) >= 4  # bwrap and its init, at least, in each
            for folder in group.folders:
                inside = set(map(int, (folder / "cgroup.procs").read_text().split()))
                assert processes <= inside, folder
            assert pair.run("x = 1", "import candidate\nassert candidate.x == 1\n").passed
        finally:
            pair.discard()


def test_a_runs_group_weighs_as_much_as_its_two_interpreters() -> None:
    if os.geteuid() != 0 or cgroup.where() is None:
        pytest.skip("root makes the groups; the user's case is the next tests'")
    group = cgroup.RunGroup.make(64, 16)
    assert group is not None
    try:
        if group.version == "v1":
            assert (group.folders[2] / "cpu.shares").read_text().strip() == "2048"
        else:
            weight = group.folders[0] / "cpu.weight"
            assert not weight.exists() or weight.read_text().strip() == "200"
    finally:
        group.remove()

MEMFD = '''
import os
held = []
for _ in range(64):  # 1 GiB in all, none of it in the address space; 16 MiB a file
    held.append(os.memfd_create("hoard"))
    for _ in range(15):
        os.write(held[-1], b"m" * (1 << 20))
def f():
    return 1
'''


def test_memory_held_in_a_memfd_counts_against_the_run() -> None:
    if os.geteuid() != 0:
        pytest.skip("only a control group counts memfd pages")
    assert verdict(MEMFD, "import candidate\nassert candidate.f() == 1\n") == "memory"


HOG = '''
import os
for _ in range(15):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
while True:
    pass
'''
WORK = "def f():\n    return sum(i * i for i in range(12_000_000))\n"


def test_a_forked_cpu_hog_does_not_starve_a_concurrent_run() -> None:
    # 16 spinning processes in one run; the other run needs about a second of CPU.
    if os.geteuid() != 0:
        pytest.skip("only a control group gives each run its share of the CPU")
    outcome: dict[str, str] = {}
    hog = threading.Thread(target=lambda: outcome.update(
        hog=run_tests(HOG, "import candidate\n", Limits(seconds=7), "bwrap").status))
    hog.start()
    threading.Event().wait(1.0)  # the hog is spinning
    outcome["work"] = verdict(WORK, "import candidate\nassert candidate.f() > 0\n",
                              Limits(seconds=4))
    hog.join()
    assert outcome == {"hog": "timeout", "work": "passed"}


NOBODY_RUN = f'''
import sys
sys.path.insert(0, sys.argv[1])
from think import sandbox
from think.sandbox.limits import Limits
from think.sandbox.pair import Pair
sandbox.tell("bwrap")
program = {WRITES!r}
tests = ("import candidate as c\\nassert c.root == 0 and c.dev == 0, (c.root, c.dev)\\n"
         "assert 0 < c.shm <= 8 << 20, c.shm\\n")
print(sandbox.run_tests(program, tests, Limits(seconds=4), "bwrap"))
# The user starts 40 more processes after the spare for the next run started: the next
# run's limit is counted when it begins, so its correct candidate may still fork.
import subprocess
others = [subprocess.Popen(["sleep", "30"]) for _ in range(40)]
program = "import os\\nos.fork() or os.fork()\\nx = 1\\n"
print(sandbox.run_tests(program, "import candidate\\nassert candidate.x == 1\\n",
                        Limits(seconds=4), "bwrap"))
for other in others:
    other.kill()
    other.wait()
# And the limit counted then still binds: a candidate that forks all it can gets about
# its 16 processes, the 8 spare and the spares it counted, never 100.
program = ("import os, time\\nmade = 0\\nfor _ in range(100):\\n    try:\\n"
           "        pid = os.fork()\\n    except OSError:\\n        break\\n"
           "    if pid == 0:\\n        time.sleep(3)\\n        os._exit(0)\\n    made += 1\\n")
print(sandbox.run_tests(program, "import candidate\\nassert 10 < candidate.made < 60, "
                        "candidate.made\\n", Limits(seconds=4), "bwrap"))
'''


def test_as_a_user_who_is_not_root_the_caps_hold_and_think_says_memory_is_per_process(
        ) -> None:
    if os.geteuid() != 0:
        pytest.skip("the test drops from root to another user to run the user's case")
    python = "/usr/bin/python3"
    assert os.path.exists(python), "the system's Python runs the sandbox as uid 65534"
    with tempfile.TemporaryDirectory() as place:  # a copy of think that uid 65534 can read
        os.chmod(place, 0o755)
        shutil.copytree(ROOT / "think" / "sandbox", Path(place) / "think" / "sandbox")
        (Path(place) / "think" / "__init__.py").write_text("")
        run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              python, "-I", "-c", NOBODY_RUN, place], capture_output=True,
                             text=True, cwd="/", env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("status='passed'") == 3, run.stdout
    assert "memory limited per process only" in run.stderr


def test_without_proc_the_users_tasks_are_counted_by_ps(monkeypatch) -> None:
    # macOS has no /proc: the count that sets RLIMIT_NPROC comes from ps.
    real = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: False if p == "/proc/self" else real(p))
    counted = launch.user_tasks(os.getuid())
    listed = subprocess.run(["ps", "-U", str(os.getuid()), "-o", "pid="], capture_output=True,
                            text=True).stdout.split()
    assert counted > 0 and abs(counted - len(listed)) <= 3


def test_the_macos_profile_reads_only_what_it_names() -> None:
    profile = macos.command("/tmp/work-1", ["/usr/bin/python3", "x"])[2]
    assert "(allow file-read-metadata)" not in profile  # no bare, everywhere rule
    assert "(allow sysctl-read)" not in profile and '(sysctl-name "hw.ncpu")' in profile
    assert '(subpath "/tmp/work-1")' in profile.split("file-read*")[1].split("(allow")[0]
    script = launch.ulimit(launch.rlimits(Limits(memory_mb=256), 20))[2]
    assert f"ulimit -d {256 * 1024}" in script
