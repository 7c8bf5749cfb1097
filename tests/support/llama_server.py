"""llama.cpp's own `llama-server` for the tests, built from the llama.cpp sources that the
installed llama-cpp-python's source distribution vendors, and kept in a cache outside the
clone (by version), so only the first run on a machine builds it.

`python -m tests.support.llama_server` builds it (if missing) and prints its path; `.ci/run`
does that before the test suite, and the tests call `llama_server_binary()`, which builds it
on first use too. Several processes building at once wait on one lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib.metadata import version
from pathlib import Path


def cache_dir() -> Path:
    """Where built servers are kept: THINK_TEST_CACHE, else the user's cache folder."""
    base = os.environ.get("THINK_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "think-tests")
    return Path(base)


def llama_server_binary() -> Path:
    """The llama-server built from this llama-cpp-python's vendored llama.cpp."""
    release = version("llama-cpp-python")
    home = cache_dir() / f"llama-server-{release}"
    binary = home / "llama-server"
    if binary.exists():
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if not binary.exists():
            _build(release, home, binary)
    return binary


def _build(release: str, home: Path, binary: Path) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=home) as work:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", f"llama-cpp-python=={release}", "-d", work, "-q"], check=True)
        archive = next(Path(work).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if "/vendor/llama.cpp/" in m.name]
            tar.extractall(work, members=members, filter="data")
        source = next(Path(work).glob("llama_cpp_python-*/vendor/llama.cpp"))
        build = Path(work) / "build"
        # CPU only, no network client; GGML_NATIVE builds for this machine's CPU, as
        # llama-cpp-python's own build does.
        subprocess.run(["cmake", "-S", str(source), "-B", str(build), "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF",
                        "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                        "-DLLAMA_BUILD_SERVER=ON", "-DBUILD_SHARED_LIBS=OFF"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j",
                        str(os.cpu_count() or 2)], check=True, stdout=subprocess.DEVNULL)
        built = build / "bin" / "llama-server"
        partial = binary.with_name("llama-server.partial")
        shutil.copy2(built, partial)
        partial.replace(binary)  # never a half-copied binary under the real name
    took = time.monotonic() - started
    (home / "build-seconds").write_text(f"{took:.0f}\n")
    print(f"built llama-server {release} in {took:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    print(llama_server_binary())
