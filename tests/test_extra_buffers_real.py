"""The extra-buffers rule with llama.cpp itself: the real probe in a real child, and every place
that loads a model (engine, think solve, the benchmark's Llama baseline) following the verdict."""

from __future__ import annotations

import json
import sys
import time

import pytest

from think import paths
from think.config import LoadSettings
from think.engine import registry
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.llama import extra_buffers as eb
from think.engine.llama.system import system_info
from think.models import resolve

pytestmark = pytest.mark.real

PRETEND_AMX = eb.Cpu("Pretend Xeon with AMX", amx=True)
CRASH = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eb, "_decided", {})
    monkeypatch.delenv(eb.ENV, raising=False)


def test_the_real_probe_loads_the_embedded_model_in_a_child_and_gives_a_verdict() -> None:
    spec = resolve()
    notes: list[str] = []
    start = time.monotonic()
    decision = eb.decide("auto", spec.path, cpu=PRETEND_AMX, notify=notes.append)
    seconds = time.monotonic() - start
    # Here the CPU has no AMX, so the extra buffers the child loads (CPU_REPACK) work.
    assert decision == eb.Decision(True, "AMX probe passed") and notes == []
    assert seconds < eb.PROBE_TIMEOUT_S
    cache = json.loads((paths.cache_dir() / eb.CACHE_NAME).read_text())
    assert cache == {f"{eb.llama_version()} | {PRETEND_AMX.name}":
                     {"works": True, "reason": "AMX probe passed"}}


def test_the_engine_loads_with_the_buffer_types_it_was_told() -> None:
    spec = resolve()
    request = SampleRequest(prompt="2 + 2 =", n=2, max_tokens=4, temperature=0)
    texts = {}
    for setting in ("off", "on", "auto"):
        engine = LlamaEngine(spec.path, spec.name, spec.format,
                             LoadSettings(extra_buffers=setting))
        try:
            assert engine.extra_buffers.enabled == (setting != "off")
            if setting == "off":
                assert "CPU_REPACK" not in engine.buffer_types
            elif "REPACK = 1" in system_info():
                assert "CPU_REPACK" in engine.buffer_types
            texts[setting] = [c.text for c in engine.sample(request).completions]
        finally:
            engine.close()
    if not eb.this_cpu().amx:
        assert eb.decide("auto", spec.path).reason == "no AMX on this CPU"
    assert all(len(t) == 2 for t in texts.values())


def test_solve_on_an_amx_cpu_whose_probe_crashes_prints_one_note_and_answers(
        run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eb, "this_cpu", lambda: PRETEND_AMX)
    monkeypatch.setattr(eb, "_default_probe", lambda model: eb.run_probe(model, command=CRASH))
    monkeypatch.setattr(registry, "_engines", {})
    run = run_cli("solve", "What is 2 + 3?", "--budget", "1", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["answer"] is not None
    notes = [line for line in run.stderr.splitlines() if line.startswith("note: ")]
    assert notes == [eb.crash_note("AMX probe crashed (SIGSEGV)")]
    assert "Traceback" not in run.stderr
    (engine,) = registry._engines.values()
    assert not engine.extra_buffers.enabled and "CPU_REPACK" not in engine.buffer_types
    # The next run reads the verdict: no probe, no note.
    monkeypatch.setattr(eb, "_decided", {})
    monkeypatch.setattr(eb, "_default_probe", lambda model: pytest.fail("probed again"))
    monkeypatch.setattr(registry, "_engines", {})
    again = run_cli("solve", "What is 2 + 3?", "--budget", "1")
    assert again.code == 0 and "note: llama.cpp" not in again.stderr


def test_the_benchmark_baseline_llama_gets_the_same_setting() -> None:
    from think.engine.llama import system as module

    spec = resolve()
    module.set_verbose(False)  # think's log hook, which records the buffer types loaded
    for enabled in (False, True):
        module._buffer_types.clear()
        llama = eb.baseline_llama(spec.path, eb.Decision(enabled, "test"), n_ctx=256,
                                  verbose=False)
        try:
            assert llama.model_params.use_extra_bufts is enabled
            if not enabled:
                assert "CPU_REPACK" not in module._buffer_types
            elif "REPACK = 1" in system_info():
                assert "CPU_REPACK" in module._buffer_types
            assert llama.create_completion("2 + 2 =", max_tokens=2)["choices"]
        finally:
            llama.close()
    import llama_cpp.llama_cpp as low

    assert low.llama_model_default_params().use_extra_bufts  # the defaults are left as found
