"""Model text never drives the terminal: a completion holding a clipboard write (OSC 52), a
title change or a clear screen reaches neither the plain lines, the live view nor the
printed answer; --json keeps the text as the model wrote it."""

from __future__ import annotations

import json
import sys
import time

import pytest
from support.stub_openai import StubHandler, serve
from support.terminal import on_terminal

from think.engine.scripted import ScriptedEngine
from think.ui.terminal_text import printable

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"  # would put `rm -rf ~` on the clipboard
CLEAR, TITLE = "\x1b[2J", "\x1b]0;owned\x1b\\"
CODE_Q = "Write a Python function add(a, b) that returns a + b."
HOSTILE_CODE = (f"```python\ndef add(a, b):\n    return a + b  # {CLIPBOARD}{CLEAR}{TITLE}"
                "\x9b2Jdone\n```")
CONTROL_BYTES = ("\x1b", "\x07", "\x9b", "\r", "52;c;", "owned")


@pytest.mark.parametrize("raw, shown", [
    (f"ok {CLIPBOARD}done", "ok done"), (f"{CLEAR}x", "x"), (f"{TITLE}y", "y"),
    ("a\x1bcb", "ab"), ("a\rb\x08c\x07", "abc"), ("\x9b2Jz", "z"),
    ("\x1b[31mred\x1b[0m", "red"), ("x\u202egnp.exe", "xgnp.exe"),
    ("\x1bP1;2|data\x1b\\after", "after"), ("unterminated\x1b]52;c;cm0=", "unterminated"),
    ("tab\there\nline two · é 日本 ✓", "tab\there\nline two · é 日本 ✓"),
])
def test_control_sequences_are_removed_and_text_kept(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.fixture
def hostile(use_engine) -> ScriptedEngine:
    engine = ScriptedEngine(respond=lambda request, i: f" {TITLE}thinking\r {CLEAR}\n"
                            + HOSTILE_CODE)
    use_engine(engine)
    return engine


def test_plain_lines_and_the_answer_carry_no_control_sequence(run_cli, hostile) -> None:
    run = run_cli("solve", CODE_Q, "--task", "code", "--sandbox", "none", "-b", "8", "-v",
                  "--seed", "1")
    assert run.code == 0, run.stderr
    for text in (run.stdout, run.stderr):
        assert not [c for c in CONTROL_BYTES if c in text], text
    assert "return a + b  # done" in run.stdout  # the answer itself is all there
    assert "think: answer def add(a, b)" in run.stderr


def test_json_keeps_the_model_text_as_it_was(run_cli, hostile) -> None:
    run = run_cli("solve", CODE_Q, "--task", "code", "--sandbox", "none", "-b", "8", "--json",
                  "--seed", "1")
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout  # JSON escapes it, and a reader decodes it back
    data = json.loads(run.stdout)
    assert CLIPBOARD in data["answer"] and CLEAR in data["answer"]
    assert CLIPBOARD in data["samples"][0]["text"]


class HostileChat(StubHandler):
    """A server whose model streams control sequences token by token, then code holding
    more, slowly enough that the live view draws the tail."""

    def post(self) -> None:
        try:
            request = self.read_request()
            pieces = [" thinking", f" {CLIPBOARD}", f" {CLEAR}", f" {TITLE}\r", " more\n",
                      HOSTILE_CODE]
            for piece in pieces:
                for index in range(request.get("n", 1)):
                    body = {"delta": {"content": piece}} if "messages" in request \
                        else {"text": piece}
                    self.event({"choices": [{"index": index, "finish_reason": None, **body}]})
                self.wfile.flush()
                time.sleep(0.3)
            for index in range(request.get("n", 1)):
                self.event({"choices": [{"index": index, "finish_reason": "stop",
                                         **({"delta": {}} if "messages" in request
                                            else {"text": ""})}]})
            self.done()
        except (BrokenPipeError, ConnectionResetError):
            pass


def on_a_terminal(*args: str) -> tuple[bytes, str, int]:
    """The bytes think wrote to its terminal (stderr, a pty), its stdout and exit code."""
    chunks, out, code = on_terminal([sys.executable, "-m", "think", *args], 120)
    return b"".join(chunks), out, code


def test_the_live_view_draws_no_control_sequence_of_the_model() -> None:
    httpd, url = serve(HostileChat)
    try:
        seen, out, code = on_a_terminal("solve", CODE_Q, "--task", "code", "--sandbox", "none",
                                        "-b", "8", "--engine", url, "--model", "stub",
                                        "--no-log")
    finally:
        httpd.shutdown()
    assert code == 0, seen.decode(errors="replace")[-2000:]
    screen = seen.decode(errors="replace")
    assert "thinking" in screen  # the live view drew the streamed tail
    # Rich's own cursor moves and colours remain; none of the model's sequences do.
    for sequence in ("\x1b]52", "52;c;", "\x1b[2J", "\x1b]0;", "owned", "\x9b"):
        assert sequence not in screen, sequence
    assert not [c for c in CONTROL_BYTES if c in out] and "return a + b  # done" in out


def test_the_history_shows_the_answer_without_its_control_sequences(run_cli, hostile) -> None:
    assert run_cli("solve", CODE_Q, "--task", "code", "--sandbox", "none", "-b", "8").code == 0
    for shown in (run_cli("logs"), run_cli("logs", "show", "1")):
        assert shown.code == 0 and "def add(a, b)" in shown.stdout
        assert not [c for c in CONTROL_BYTES if c in shown.stdout], shown.stdout
    kept = json.loads(run_cli("logs", "show", "1", "--json").stdout)
    assert CLIPBOARD in kept["answer"]
