"""A small seccomp filter for the bwrap sandboxes (bwrap --seccomp FD takes it compiled).

It refuses what a test program never needs and what widens the kernel's attack surface:
new user namespaces (as root, bwrap's --disable-userns is not available with --userns),
clone3 (whose flags a filter cannot read; glibc falls back to clone), ptrace, keyrings, bpf,
perf events, userfaultfd, io_uring, personality and modify_ldt; sockets of every family but
AF_UNIX (a network namespace still has AF_VSOCK, shared with the host and other sandboxes,
and netlink); and any syscall of another ABI (x32, i386), which
would get around a filter written for the native numbers. Only x86_64 and aarch64 have
numbers here; elsewhere there is no filter (the namespaces and limits still hold).
"""

from __future__ import annotations

import platform
import struct

CLONE_NEWUSER = 0x10000000
X32_BIT = 0x40000000
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97
LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_{LD|W|ABS, JMP|..|K, RET|K}
NR, ARCH, ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0's low word, little-endian)

# arch: (AUDIT_ARCH value, {name: number}); clone and unshare are checked for CLONE_NEWUSER.
TABLES = {
    "x86_64": (0xC000003E, {"clone": 56, "unshare": 272, "clone3": 435, "setns": 308,
                            "ptrace": 101, "add_key": 248, "request_key": 249, "keyctl": 250,
                            "perf_event_open": 298, "bpf": 321, "userfaultfd": 323,
                            "io_uring_setup": 425, "socket": 41, "socketpair": 53,
                            "personality": 135, "modify_ldt": 154}),
    "aarch64": (0xC00000B7, {"clone": 220, "unshare": 97, "clone3": 435, "setns": 268,
                             "ptrace": 117, "add_key": 217, "request_key": 218, "keyctl": 219,
                             "perf_event_open": 241, "bpf": 280, "userfaultfd": 282,
                             "io_uring_setup": 425, "socket": 198, "socketpair": 199,
                             "personality": 92}),
}
REFUSED = ("setns", "ptrace", "add_key", "request_key", "keyctl", "perf_event_open", "bpf",
           "userfaultfd", "io_uring_setup", "personality", "modify_ldt")
AF_UNIX = 1  # the one socket family a sandbox may open (its own pairs; the wire is pipes)


CODES = {"ld": LD_ABS, "jeq": JEQ, "jge": JGE, "jset": JSET, "ret": RET}
Line = str | tuple[str, int] | tuple[str, int, str | None, str | None]


def assemble(lines: list[Line]) -> bytes:
    """Raw sock_filter records; a str is a label, jumps name labels (None: the next line)."""
    places: dict[str, int] = {}
    at = 0
    for line in lines:
        if isinstance(line, str):
            places[line] = at
        else:
            at += 1
    out, at = [], 0
    for line in lines:
        if isinstance(line, str):
            continue
        name, k, *jumps = line
        jt, jf = [places[label] - at - 1 if label else 0 for label in (jumps or [None, None])]
        out.append(struct.pack("<HBBI", CODES[name], jt, jf, k))
        at += 1
    return b"".join(out)


def program() -> bytes | None:
    """The filter, or None on an architecture with no table."""
    table = TABLES.get(platform.machine())
    if table is None:
        return None
    arch, numbers = table
    return assemble([
        ("ld", ARCH),
        ("jeq", arch, None, "eperm"),  # another ABI: refused
        ("ld", NR),
        ("jge", X32_BIT, "eperm", None),
        *[("jeq", numbers[name], "eperm", None) for name in REFUSED if name in numbers],
        ("jeq", numbers["clone3"], "enosys", None),
        ("jeq", numbers["clone"], "flags", None),
        ("jeq", numbers["unshare"], "flags", None),
        ("jeq", numbers["socket"], "family", None),
        ("jeq", numbers["socketpair"], "family", None),
        ("ret", ALLOW),
        "family",
        ("ld", ARG0),
        ("jeq", AF_UNIX, "allow", "eafnosupport"),
        "allow",
        ("ret", ALLOW),
        "flags",
        ("ld", ARG0),
        ("jset", CLONE_NEWUSER, "eperm", None),
        ("ret", ALLOW),
        "eperm",
        ("ret", ERRNO | EPERM),
        "enosys",
        ("ret", ERRNO | ENOSYS),
        "eafnosupport",
        ("ret", ERRNO | EAFNOSUPPORT),
    ])
