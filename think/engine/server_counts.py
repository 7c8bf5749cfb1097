"""Token counts for the server engine: the server's own where it has a tokenizer endpoint
(llama-server's /tokenize), else an estimate; and the room a server needs past a thinking cap
to close the block itself."""

from __future__ import annotations

from think.engine.server_client import ServerClient
from think.engine.thinking import Reasoning

CHARS_PER_TOKEN = 4  # the estimate where the server cannot count (no standard endpoint)
KEPT_COUNTS = 64


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
