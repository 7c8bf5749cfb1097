"""The extra-buffers rule: on a CPU with AMX a probe in a child decides; elsewhere nothing changes.

Probes here are real child processes running scripts (one dies of SIGSEGV, one hangs, one
passes); the CPU is a pretend one, so the logic runs the same on any machine.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from think import paths
from think.engine.llama import extra_buffers as eb
from think.errors import ConfigError

MODEL = Path("model.gguf")
AMX_CPU = eb.Cpu("Intel(R) Xeon(R) Platinum 8480+", amx=True)
PLAIN_CPU = eb.Cpu("AMD EPYC", amx=False)
CRASH = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
PASS = [sys.executable, "-c", f"print({eb.PROBE_OK!r})"]
HANG = [sys.executable, "-c", "import time; time.sleep(60)"]
BROKEN = [sys.executable, "-c", "raise SystemExit('no such model')"]


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No verdict remembered from another test, and no override from the environment."""
    monkeypatch.setattr(eb, "_decided", {})
    monkeypatch.delenv(eb.ENV, raising=False)


class Script:
    """A probe that runs a scripted child and counts its runs."""

    def __init__(self, command: list[str], timeout: float = 30.0) -> None:
        self.command, self.timeout, self.runs = command, timeout, 0

    def __call__(self, model: Path) -> eb.Verdict:
        self.runs += 1
        return eb.run_probe(model, self.timeout, self.command)


def never(model: Path) -> eb.Verdict:
    raise AssertionError("no probe should run")


def decide(probe: eb.Probe, setting: str = "auto", cpu: eb.Cpu = AMX_CPU,
           notes: list[str] | None = None) -> eb.Decision:
    return eb.decide(setting, MODEL, cpu=cpu, probe=probe,
                     notify=(notes if notes is not None else []).append)


def test_a_probe_that_dies_of_sigsegv_turns_extra_buffers_off_with_one_note() -> None:
    notes: list[str] = []
    decision = decide(Script(CRASH), notes=notes)
    assert not decision.enabled and "SIGSEGV" in decision.reason
    assert len(notes) == 1 and "\n" not in notes[0]
    assert notes[0].startswith("note: llama.cpp's AMX probe crashed (SIGSEGV) on this CPU; "
                               "running with its extra buffer types (AMX, CPU_REPACK) off")
    assert "load.extra_buffers" in notes[0] and eb.ENV in notes[0]
    assert decision.describe(["CPU_Mapped"]) == "extra buffers off (AMX probe crashed (SIGSEGV))"


def test_the_default_note_is_one_stderr_line(capsys: pytest.CaptureFixture[str]) -> None:
    eb.decide("auto", MODEL, cpu=AMX_CPU, probe=Script(CRASH))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "SIGSEGV" in captured.err


def test_a_probe_that_exits_0_keeps_extra_buffers_on_silently() -> None:
    notes: list[str] = []
    decision = decide(Script(PASS), notes=notes)
    assert decision == eb.Decision(True, "AMX probe passed") and notes == []
    assert decision.describe(["CPU_Mapped", "AMX", "CPU_REPACK"]) == \
        "extra buffers on (AMX, CPU_REPACK; AMX probe passed)"


def test_a_windows_access_violation_is_a_crash_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # POSIX keeps only an exit status's low byte, so Windows' 0xC0000005 is played back here.
    monkeypatch.setattr(eb.subprocess, "run", lambda argv, **kwargs: subprocess.CompletedProcess(
        argv, 0xC0000005, "", ""))
    verdict = eb.run_probe(MODEL)
    assert not verdict.works and verdict.cached and "0xc0000005" in verdict.reason


def test_a_hung_probe_is_cut_at_its_timeout_and_counts_as_off() -> None:
    start = time.monotonic()
    decision = decide(Script(HANG, timeout=1.0))
    assert time.monotonic() - start < 10
    assert not decision.enabled and "hung" in decision.reason


def test_a_probe_that_fails_without_a_signal_is_off_for_this_run_only() -> None:
    decision = decide(Script(BROKEN))
    assert not decision.enabled and "no such model" in decision.reason
    eb._decided.clear()
    assert decide(Script(PASS)).enabled  # nothing was cached: the next run probes again


def test_the_verdict_is_cached_per_llama_version_and_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    crash = Script(CRASH)
    decide(crash)
    cache = paths.cache_dir() / eb.CACHE_NAME
    entries = json.loads(cache.read_text())
    assert list(entries) == [f"{eb.llama_version()} | {AMX_CPU.name}"]
    eb._decided.clear()  # a later process reads the file, probes nothing, prints nothing
    notes: list[str] = []
    again = decide(never, notes=notes)
    assert not again.enabled and again.reason.endswith(", cached") and notes == []
    other_cpu = Script(PASS)
    assert decide(other_cpu, cpu=eb.Cpu("Intel(R) Xeon(R) 6980P", amx=True)).enabled
    monkeypatch.setattr(eb, "llama_version", lambda: "0.9.0")
    other_version = Script(PASS)
    assert decide(other_version).enabled
    assert crash.runs == other_cpu.runs == other_version.runs == 1
    assert len(json.loads(cache.read_text())) == 3


def test_a_damaged_cache_file_means_probing_again() -> None:
    cache = paths.cache_dir() / eb.CACHE_NAME
    cache.parent.mkdir(parents=True)
    cache.write_text('{"x": ')
    assert decide(Script(PASS)).enabled
    assert json.loads(cache.read_text())


def test_threads_loading_at_once_share_one_probe() -> None:
    probe = Script(PASS)
    results: list[eb.Decision] = []
    threads = [threading.Thread(target=lambda: results.append(decide(probe)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert probe.runs == 1 and all(result.enabled for result in results)


def test_without_amx_no_probe_runs_and_extra_buffers_stay_on() -> None:
    decision = decide(never, cpu=PLAIN_CPU)
    assert decision == eb.Decision(True, "no AMX on this CPU")
    assert not (paths.cache_dir() / eb.CACHE_NAME).exists()


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_profile_setting_wins_over_the_probe(setting: str) -> None:
    decision = decide(never, setting=setting)
    assert decision == eb.Decision(setting == "on", f"load.extra_buffers: {setting}")


@pytest.mark.parametrize(("value", "setting"), [("on", "off"), ("off", "on"), ("OFF", "auto")])
def test_the_environment_wins_over_the_profile(monkeypatch: pytest.MonkeyPatch, value: str,
                                               setting: str) -> None:
    monkeypatch.setenv(eb.ENV, value)
    decision = decide(never, setting=setting, cpu=PLAIN_CPU)
    assert decision.enabled == (value.lower() == "on")
    assert decision.reason == f"{eb.ENV}={value.lower()}"


def test_the_environment_auto_defers_to_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eb.ENV, "auto")
    assert decide(never, cpu=PLAIN_CPU).enabled
    assert not decide(never, setting="off").enabled


def test_a_bad_environment_value_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eb.ENV, "maybe")
    with pytest.raises(ConfigError, match="auto, on, off"):
        decide(never)


def test_cpuinfo_with_amx_flags_is_an_amx_cpu() -> None:
    text = ("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) "
            "Platinum 8480+\nflags\t\t: fpu avx512f avx512_vnni amx_bf16 amx_tile amx_int8\n\n"
            "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n")
    assert eb.parse_cpuinfo(text) == AMX_CPU
    assert eb.parse_cpuinfo("model name\t: AMD EPYC\nflags\t\t: fpu avx512f\n") == PLAIN_CPU
    assert not eb.parse_cpuinfo("flags\t: amx_tile\n").amx  # tiles without a type to run


def test_apply_sets_the_field_only_where_the_struct_has_it() -> None:
    class WithField(ctypes.Structure):
        _fields_ = [("use_extra_bufts", ctypes.c_bool)]

    class WithoutField(ctypes.Structure):
        _fields_ = [("vocab_only", ctypes.c_bool)]

    params = WithField(True)
    eb.apply(params, eb.Decision(False, "test"))
    assert params.use_extra_bufts is False
    old = WithoutField()
    eb.apply(old, eb.Decision(False, "test"))
    assert not hasattr(old, "use_extra_bufts")


def test_the_probe_child_is_this_module_with_extra_buffers_forced_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def run(argv: list[str], **kwargs: object) -> object:
        seen.update(argv=argv, env=kwargs["env"], timeout=kwargs["timeout"])
        raise OSError(2, "No such file or directory")

    monkeypatch.setenv(eb.ENV, "off")
    monkeypatch.setattr(eb.subprocess, "run", run)
    verdict = eb.run_probe(MODEL)
    assert seen["argv"] == [sys.executable, "-m", "think.engine.llama.amx_probe", str(MODEL)]
    assert seen["env"][eb.ENV] == "on" and seen["timeout"] == eb.PROBE_TIMEOUT_S  # type: ignore[index]
    assert not verdict.works and not verdict.cached
