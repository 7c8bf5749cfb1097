"""macOS: the command under sandbox-exec with a deny-by-default profile.

The profile allows reading the system, the Python installation and the run's own folder,
the metadata of the folders above them alone, the few kernel settings an interpreter asks
for, running that Python, and writing only the run's own folder and /dev/null; it denies the
network and everything else. macOS ignores RLIMIT_AS: memory is bounded by RLIMIT_DATA there
(launch.ulimit), as far as the kernel honours it. It has not been run in think's CI, which
is Linux (sandbox-exec is deprecated by Apple but is what Codex CLI and sandbox-runtime use
too); its tests build the command and the profile without running them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LIB = Path(__file__).parent

# What an interpreter reads of the kernel's settings at start-up and in the standard
# library (os.cpu_count, platform, the allocator); nothing else of sysctl is readable.
SYSCTLS = ("hw.ncpu", "hw.activecpu", "hw.logicalcpu", "hw.physicalcpu", "hw.pagesize",
           "hw.pagesize_compat", "hw.cachelinesize", "hw.memsize", "hw.machine", "hw.model",
           "kern.osrelease", "kern.ostype", "kern.osversion", "kern.osproductversion",
           "kern.version", "kern.argmax", "kern.usrstack64", "sysctl.proc_cputype",
           "sysctl.proc_translated")

PROFILE = """(version 1)
(deny default)
(allow process-exec (literal "{python}"))
(allow process-fork)
(allow signal (target self))
(allow sysctl-read {sysctls} (sysctl-name-prefix "hw.optional."))
(allow file-read* (subpath "/usr/lib") (subpath "/System") (subpath "/Library/Apple")
       (subpath "/private/var/db/dyld") (subpath "{prefix}")
       (subpath "{lib}") (subpath "{workdir}")
       (literal "/dev/null") (literal "/dev/urandom") (literal "/dev/random"))
(allow file-read-metadata (literal "/") (literal "/private") (literal "/var")
       (literal "/usr") (literal "/Library") {parents})
(allow file-write* (subpath "{workdir}") (literal "/dev/null"))
(deny network*)
"""


def quoted(path: str) -> str:
    return os.path.realpath(path).replace("\\", "\\\\").replace('"', '\\"')


def command(workdir: str, argv: list[str]) -> list[str]:
    """`argv` under sandbox-exec, writing only to `workdir`."""
    # The folders above what it reads: their metadata alone (stat), so paths resolve.
    above = {str(parent) for place in (sys.base_prefix, str(LIB), workdir, argv[0])
             for parent in Path(os.path.realpath(place)).parents}
    parents = " ".join(f'(literal "{quoted(folder)}")' for folder in sorted(above))
    sysctls = " ".join(f'(sysctl-name "{name}")' for name in SYSCTLS)
    profile = PROFILE.format(python=quoted(argv[0]), prefix=quoted(sys.base_prefix),
                             lib=quoted(str(LIB)), workdir=quoted(workdir), parents=parents,
                             sysctls=sysctls)
    return ["sandbox-exec", "-p", profile, *argv]
