"""Shell completion: the scripts for bash, zsh and fish, and what the real `think` offers
when a shell asks it to complete profile and model names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

THINK = str(Path(sys.executable).with_name("think"))  # the installed console script


def think(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([THINK, *args], env={**os.environ, **env}, text=True,
                          capture_output=True, timeout=60, check=False)


def script(shell: str) -> str:
    run = think("--show-completion", shell, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert run.returncode == 0, run.stderr
    return run.stdout


def bash_offers(line: str) -> list[str]:
    """What bash's completion protocol gets back for a command line (ending in the word
    being completed): COMP_WORDS as bash joins them, COMP_CWORD the word's index."""
    words = line.split(" ")
    run = think(_THINK_COMPLETE="complete_bash", COMP_WORDS=" ".join(words),
                COMP_CWORD=str(len(words) - 1))
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_the_bash_script_is_valid_bash(tmp_path: Path) -> None:
    text = script("bash")
    assert "_THINK_COMPLETE=complete_bash" in text and "complete -o default" in text
    file = tmp_path / "think.bash"
    file.write_text(text)
    checked = subprocess.run(["bash", "-n", str(file)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts(shell: str) -> None:
    text = script(shell)
    assert text.strip() and "think" in text and f"complete_{shell}" in text


def test_profile_names_complete() -> None:
    offered = bash_offers("think solve x -p ")
    assert {"default", "reasoning", "cpu-laptop"} <= set(offered)
    assert bash_offers("think solve x --profile rea") == ["reasoning"]
    assert {"default", "reasoning"} <= set(bash_offers("think profiles show "))
    assert bash_offers("think profiles use def") == ["default"]


def test_model_names_complete() -> None:
    assert {"gemma3-270m", "qwen3-1.7b"} <= set(bash_offers("think solve x -m "))
    assert "qwen3-1.7b" in bash_offers("think bench speed --model qwen3")


def test_a_users_own_profile_and_model_complete(think_home: Path) -> None:
    from think import paths

    paths.user_profiles_dir().mkdir(parents=True)
    (paths.user_profiles_dir() / "mine.yaml").write_text("stages: []\n")
    paths.user_models_file().write_text("models:\n  my-model: {path: /x.gguf}\n")
    assert "mine" in bash_offers("think solve x -p ")
    assert bash_offers("think solve x -m my") == ["my-model"]


def test_completion_in_bash_itself(tmp_path: Path) -> None:
    """The script sourced into a real bash, its function called as bash calls it on Tab."""
    if not shutil.which("bash"):
        pytest.fail("these tests need bash")
    file = tmp_path / "think.bash"
    file.write_text(script("bash"))
    program = (f'source {file}; COMP_WORDS=(think solve x -p ""); COMP_CWORD=4; '
               '_think_completion think; printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{Path(THINK).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(["bash", "--norc", "-c", program], env=env, text=True,
                         capture_output=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert {"default", "reasoning"} <= set(run.stdout.split())
