"""macOS: the command under sandbox-exec with a deny-by-default profile.

The profile allows reading the system and the Python installation, running that Python,
and writing only the run's own folder and /dev/null; it denies the network and everything
else. It has not been run in think's CI, which is Linux (sandbox-exec is deprecated by
Apple but is what Codex CLI and sandbox-runtime use too).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LIB = Path(__file__).parent

PROFILE = """(version 1)
(deny default)
(allow process-exec (literal "{python}"))
(allow process-fork)
(allow signal (target self))
(allow sysctl-read)
(allow file-read* (subpath "/usr/lib") (subpath "/System") (subpath "/Library/Apple")
       (subpath "/private/var/db/dyld") (subpath "{prefix}")
       (subpath "{lib}")
       (literal "/dev/null") (literal "/dev/urandom") (literal "/dev/random")
       (literal "/") (literal "/private") (literal "/var"))
(allow file-read-metadata)
(allow file-write* (subpath "{workdir}") (literal "/dev/null"))
(deny network*)
"""


def quoted(path: str) -> str:
    return os.path.realpath(path).replace("\\", "\\\\").replace('"', '\\"')


def command(workdir: str, argv: list[str]) -> list[str]:
    """`argv` under sandbox-exec, writing only to `workdir`."""
    profile = PROFILE.format(python=quoted(argv[0]), prefix=quoted(sys.base_prefix),
                             lib=quoted(str(LIB)), workdir=quoted(workdir))
    return ["sandbox-exec", "-p", profile, *argv]
