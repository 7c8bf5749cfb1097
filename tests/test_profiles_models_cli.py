"""`think profiles` and `think models`: listing, copying, choosing, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.errors import one_error_line

from think import paths


def test_profiles_list_marks_the_active_one(run_cli, monkeypatch) -> None:
    run = run_cli("profiles", "list")
    assert run.code == 0 and "* default" in run.stdout and "cpu-laptop" in run.stdout
    monkeypatch.setenv("THINK_PROFILE", "nvidia-gpu")
    assert "* nvidia-gpu" in run_cli("profiles", "list").stdout


def test_profiles_show_prints_yaml_and_plans(run_cli) -> None:
    run = run_cli("profiles", "show", "default")
    assert "stages:" in run.stdout and "budget 20 -> self-consistency vote" in run.stdout


def test_new_copies_use_selects_and_path_finds(run_cli) -> None:
    run = run_cli("profiles", "new", "mine", "--from", "cpu-laptop")
    assert run.code == 0
    copied = Path(run.stdout.strip().splitlines()[-1])
    assert copied.parent == paths.user_profiles_dir() and "batch_width: 16" in copied.read_text()
    assert run_cli("profiles", "use", "mine").code == 0
    assert "* mine" in run_cli("profiles", "list").stdout
    assert run_cli("profiles", "path", "mine").stdout.strip() == str(copied)
    again = run_cli("profiles", "new", "mine")
    assert again.code == 2 and "--force" in again.stderr
    forced = run_cli("profiles", "new", "mine", "--force")
    assert forced.code == 0 and "kept the old one" in forced.stdout
    assert list(copied.parent.glob("mine.yaml.bak-*"))


def test_validate_names_field_and_line(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  - {from_budget: 1, strategy: direct}\ntemperature: 5\n")
    run = run_cli("profiles", "validate", str(bad))
    assert run.code == 1 and "line 3" in run.stderr and "'temperature'" in run.stderr
    good = tmp_path / "good.yaml"
    good.write_text("stages:\n  - {from_budget: 1, strategy: direct}\n")
    assert "valid profile" in run_cli("profiles", "validate", str(good)).stdout
    missing = run_cli("profiles", "validate", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "not found" in missing.stderr


def test_unknown_names_are_clear_errors(run_cli) -> None:
    for args in (("profiles", "show", "nope"), ("profiles", "use", "nope"),
                 ("models", "path", "nope"), ("models", "pull", "nope"),
                 ("models", "use", "nope")):
        run = run_cli(*args)
        assert run.code == 2 and run.stderr.startswith("Error: ") and "Traceback" not in run.stderr


def test_a_config_directory_that_cannot_be_written(run_cli) -> None:
    home = paths.config_dir().parent
    home.mkdir(parents=True, exist_ok=True)
    paths.config_dir().write_text("a file where the folder should be")
    run = run_cli("profiles", "new", "mine")
    assert run.code == 1 and "cannot write" in run.stderr and "Traceback" not in run.stderr
    assert paths.config_dir().read_text() == "a file where the folder should be"


def test_models_list_shows_the_registry(run_cli) -> None:
    run = run_cli("models", "list")
    assert "* gemma3-270m" in run.stdout and "qwen2.5-1.5b-instruct" in run.stdout
    assert "not downloaded" in run.stdout


def test_models_add_rejects_a_file_that_is_not_gguf(run_cli, tmp_path: Path) -> None:
    fake = tmp_path / "x.gguf"
    fake.write_text("nope")
    run = run_cli("models", "add", "x", str(fake))
    assert run.code == 1 and "not a GGUF" in run.stderr
    assert not paths.user_models_file().exists()


@pytest.mark.real
def test_models_add_reads_the_gguf_metadata(run_cli) -> None:
    from think.models import resolve

    gguf = resolve("gemma3-270m").path
    run = run_cli("models", "add", "my-gemma", str(gguf))
    assert run.code == 0, run.stderr
    entry = resolve("my-gemma")
    assert entry.path == gguf and entry.context == 32768
    assert run_cli("models", "use", "my-gemma").code == 0
    assert resolve().name == "my-gemma"
    assert run_cli("models", "rm", "my-gemma").code == 0 and gguf.exists()
    assert resolve().name == "gemma3-270m"  # the default falls back to the registry's


@pytest.mark.parametrize("context", [100, 0])
def test_models_add_of_a_model_with_too_short_a_context_is_one_line(
        run_cli, tmp_path: Path, context: int) -> None:
    from support.tiny_reasoner import build_tiny_reasoner

    short = build_tiny_reasoner(tmp_path / "short.gguf", context=context)
    run = run_cli("models", "add", "short", str(short))
    assert run.code == 2, run.stderr
    assert f"states a context of {context} tokens; think needs a model of at least 256" in (
        one_error_line(run.stderr))
    assert not paths.user_models_file().exists()
