"""`think batch --parallel` on a loopback server that answers each question with its own id,
after a random delay and with random pauses between its pieces: every record carries the
answer to its own question, whatever order the replies finish in."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest
from support.stub_openai import StubHandler, serve

QUESTIONS = 40


class EchoesTheId(StubHandler):
    """Answers `qN` to the question that names qN, in pieces, with jitter; with `single`
    set on the server it ignores `n` (one choice a request, as some servers do)."""

    def post(self) -> None:
        request = self.read_request()
        asked = request.get("prompt") or json.dumps(request.get("messages"))
        ident = re.findall(r"the token (q\d+)", asked)[-1]
        n = 1 if getattr(self.server, "single", False) else request.get("n", 1)
        chat = "messages" in request
        time.sleep(random.uniform(0, 0.05))
        try:
            for text in [f" {ident}", "\nFinal answer:", f" {ident}", "\n"]:
                for index in range(n):
                    part = {"delta": {"content": text}} if chat else {"text": text}
                    self.event({"choices": [{"index": index, "finish_reason": None, **part}]})
                self.wfile.flush()
                time.sleep(random.uniform(0, 0.01))
            for index in range(n):
                end = {"delta": {}} if chat else {"text": ""}
                self.event({"choices": [{"index": index, "finish_reason": "stop", **end}]})
            self.done()
        except OSError:
            pass  # think hung up: the vote had settled


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("budget, model", [("1", []), ("8", []), ("8", ["--model", "stub"])])
def test_every_record_carries_the_answer_to_its_own_question(
        run_cli, tmp_path: Path, budget: str, model: list[str], single: bool) -> None:
    httpd, url = serve(EchoesTheId)
    httpd.single = single  # type: ignore[attr-defined]
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"id": f"q{n}", "question": f"Repeat the token q{n}."})
                              + "\n" for n in range(QUESTIONS)))
    try:
        run = run_cli("batch", str(source), "--engine", url, *model, "--parallel", "8",
                      "-b", budget, "--task", "text", "--out", str(out))
    finally:
        httpd.shutdown()
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"q{n}" for n in range(QUESTIONS)]
    wrong = [(row["id"], row.get("answer"), row.get("error")) for row in rows
             if row.get("answer") != row["id"]
             or row["question"] != f"Repeat the token {row['id']}."]
    assert wrong == []
