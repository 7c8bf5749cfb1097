"""Token counts for the server engine: the server's own where it has a tokenizer endpoint
(llama-server's /tokenize), else an estimate; and the room a server needs past a thinking cap
to close the block itself."""

from __future__ import annotations

from dataclasses import replace

from think.engine.base import SampleRequest
from think.engine.prompt import Chat
from think.engine.server_client import ServerClient
from think.engine.thinking import Reasoning

CHARS_PER_TOKEN = 4  # the estimate where the server cannot count (no standard endpoint)
KEPT_COUNTS = 64
ASK = "Give only the final answer, after '{cue}'."  # the follow-up turn of a chain cut short
TURN_TOKENS = 8  # a chat template's marks around the follow-up's two new turns


def capped(request: SampleRequest, native_cap: bool) -> SampleRequest:
    """The request as sent: a chain with a cap on a server that keeps caps itself is treated
    as a reasoning model's, so the cap and the answer's room go with its first request; a
    model that does not think ignores the cap and answers within max_tokens."""
    prompt = request.prompt
    if request.reasoning is None and native_cap and request.answer_cue \
            and isinstance(prompt, Chat) and prompt.thinking:
        return replace(request, reasoning=Reasoning())
    return request


def held_for_follow_up(request: SampleRequest, prompt_tokens: int, ask_tokens: int
                       ) -> SampleRequest:
    """The request with its thinking held so that, cut at the cap, the follow-up asking for
    its answer fits the plan too: that request re-sends the prompt, the thinking and the ask,
    so the plan's cap pays for the thinking twice and the prompt once more."""
    room = request.max_tokens - prompt_tokens - ask_tokens - TURN_TOKENS
    return replace(request, max_tokens=max(1, min(request.max_tokens, room // 2)))


def held_note(model: str, held: int, planned: int, native_cap: bool) -> str:
    """Why a server was asked for less thinking than the plan shows (said once a run)."""
    why = ("the server's own close at the cap is paid from it" if native_cap else
           "it is not known to keep a thinking cap, and a chain cut there is asked again, "
           "its thinking re-sent")
    return f"{model} thinks at most {held} of the plan's {planned} tokens, so that its bill " \
        f"keeps to the plan: {why}"


class ServerCounts:
    """Counts asked of one server, remembered: planning asks for the same prompt many times,
    and a server without the endpoint is asked only once."""

    def __init__(self, client: ServerClient) -> None:
        self.client = client
        self.tokenizes: bool | None = None  # learnt from the first count asked
        self._counts: dict[str, int] = {}
        # Closing room by (stop message, end tag): asked for on every streamed thinking piece,
        # so it is kept apart from the prompt counts, which are cleared when they pile up.
        self._rooms: dict[tuple[str, str], int] = {}

    def tokens(self, text: str) -> int:
        if self.tokenizes is not False and text not in self._counts:
            if len(self._counts) > KEPT_COUNTS:
                self._counts.clear()
            counted = self.client.count_tokens(text)
            self.tokenizes = counted is not None
            if counted is not None:
                self._counts[text] = counted
        if text in self._counts:
            return max(1, self._counts[text])
        return max(1, len(text) // CHARS_PER_TOKEN)

    def as_sent(self, request: SampleRequest, native_cap: bool, prompt_tokens: int
                ) -> SampleRequest:
        """The request with its thinking cap cut to what keeps its bill to the plan: on a
        server that closes the block itself, less the close it writes; elsewhere (a chat) held
        for the follow-up that asks a chain cut there for its answer."""
        if native_cap and request.reasoning is not None:
            room = self.close_room(request.reasoning)
            return replace(request, max_tokens=max(1, request.max_tokens - room)) if room \
                else request
        if not request.answer_cue or native_cap or not isinstance(request.prompt, Chat):
            return request
        # The follow-up re-sends the thinking with think's close (its stop message).
        said = (request.reasoning or Reasoning()).closing(request.answer_cue, forced=True)
        return held_for_follow_up(request, prompt_tokens,
                                  self.tokens(ASK.format(cue=request.answer_cue) + said))

    def close_room(self, reasoning: Reasoning | None) -> int:
        """The tokens a server that keeps the thinking cap itself (llama-server, which has
        /tokenize) writes past it to close the block: its stop message and the end tag. The
        engine waits for them before it cuts a sample, so a native close needs no second
        request; the planner counts them as the forced sample's cue. Elsewhere (vLLM closes
        with the end tag alone) none: think cuts at the cap."""
        if reasoning is None or self.tokenizes is False:
            return 0
        key = (reasoning.stop_message, reasoning.end)
        if key not in self._rooms:
            counted = self.tokens(reasoning.closing(None, forced=True))
            if not self.tokenizes:
                return 0
            self._rooms[key] = counted + 2
        return self._rooms[key]
