"""Confidence from a server's log-probabilities: asked for only when the profile's vote rule
needs them, read from the stream, and a plain count (said once) when the server gives none."""

from __future__ import annotations

import json

import pytest
from support.stub_openai import StubHandler, serve

import think
from think import paths
from think.config import ServerSettings, load_profile
from think.engine.base import SampleRequest
from think.engine.prompt import Chat
from think.engine.remote import RemoteEngine

SURE = [-0.01, -8.0, -9.0, -9.5, -10.0]  # one token holds nearly all the mass
UNSURE = [-1.6, -1.6, -1.6, -1.6, -1.7]


class LogprobStub(StubHandler):
    """Choice i answers 5, very sure, when i % 3 == 0, else 4, unsure; it sends each
    token's log-probabilities only when asked (and `plain` servers never do)."""

    plain = False

    def post(self) -> None:
        request = self.read_request()
        chat = "messages" in request
        for step in range(4):
            for index in range(request.get("n", 1)):
                sure = index % 3 == 0
                piece = [" so", "\nFinal answer:", " 5" if sure else " 4", "\n"][step]
                choice = self.choice(chat, index, piece, SURE if sure else UNSURE, request)
                self.event({"choices": [choice]})
        self.done()

    def choice(self, chat: bool, index: int, piece: str, top: list[float],
               request: dict) -> dict:
        choice: dict = {"index": index, "finish_reason": None}
        if chat:
            choice["delta"] = {"content": piece}
        else:
            choice["text"] = piece
        if self.plain or not request.get("logprobs"):
            return choice
        if chat:
            choice["logprobs"] = {"content": [{"token": piece, "logprob": top[0],
                                               "top_logprobs": [{"token": "t", "logprob": v}
                                                                for v in top]}]}
        else:
            choice["logprobs"] = {"tokens": [piece], "token_logprobs": [top[0]],
                                  "top_logprobs": [{f"t{i}": v for i, v in enumerate(top)}]}
        return choice


class PlainStub(LogprobStub):
    plain = True


def request(prompt, confidence: bool) -> SampleRequest:
    return SampleRequest(prompt=prompt, n=3, max_tokens=32, answer_cue="Final answer:",
                         answer_tokens=8, confidence=confidence)


@pytest.mark.parametrize("prompt", ["Q: 2 + 2?\nA:", Chat.of(("user", "2 + 2?"))])
def test_logprobs_are_asked_for_and_read(prompt) -> None:
    httpd, url = serve(LogprobStub)
    kind = "chat" if isinstance(prompt, Chat) else "base"
    engine = RemoteEngine(ServerSettings(url=url), kind)
    result = engine.sample(request(prompt, confidence=True))
    plain = engine.sample(request(prompt, confidence=False))
    httpd.shutdown()
    asked, unasked = httpd.requests  # type: ignore[attr-defined]
    if isinstance(prompt, Chat):
        assert asked["logprobs"] is True and asked["top_logprobs"] == 5
    else:
        assert asked["logprobs"] == 5
    assert "logprobs" not in unasked and "top_logprobs" not in unasked
    sure, unsure = result.completions[0].confidence, result.completions[1].confidence
    assert sure is not None and unsure is not None
    assert sure.mean == pytest.approx(-sum(SURE) / 5, abs=1e-3)
    assert sure.mean > unsure.mean
    assert sure.logprob == pytest.approx(-0.01)
    assert all(c.confidence is None for c in plain.completions)


def weighed_profile() -> str:
    folder = paths.user_profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shipped = load_profile("default").model_dump(exclude={"name", "source"})
    (folder / "weighed.yaml").write_text(json.dumps({**shipped, "vote_rule": "cisc"}))
    return "weighed"


def test_a_cisc_vote_on_a_server_follows_the_sure_samples(capsys) -> None:
    httpd, url = serve(LogprobStub)
    engine = RemoteEngine(ServerSettings(url=url), "base")
    result = think.solve("What is 2 + 3?", budget=16, profile=weighed_profile(), engine=engine,
                         early_stop=False, seed=0)
    httpd.shutdown()
    assert httpd.requests[0]["logprobs"] == 5  # type: ignore[attr-defined]
    assert result.vote.rule == "cisc" and result.answer == "5"
    assert result.vote.counts["4"] > result.vote.counts["5"]  # the plain count says 4
    assert result.notes == [] and "note:" not in capsys.readouterr().err


def test_a_server_without_logprobs_counts_plainly_and_says_so(capsys) -> None:
    httpd, url = serve(PlainStub)
    engine = RemoteEngine(ServerSettings(url=url), "base")
    result = think.solve("What is 2 + 3?", budget=16, profile=weighed_profile(), engine=engine,
                         early_stop=False, seed=0)
    httpd.shutdown()
    assert result.vote.rule == "majority" and result.answer == "4"
    # The library tells it as a Note event that the result keeps; it prints nothing itself.
    assert [note.split(" and")[0] for note in result.notes] == \
        ["the cisc vote needs token log-probabilities"]
    assert capsys.readouterr().err == ""
