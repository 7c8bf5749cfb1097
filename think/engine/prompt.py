"""What a request asks the model to continue: plain text (a base model's few-shot document) or
chat messages, which each engine renders its own way (llama.cpp through the model's chat
template, a server through its chat API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class Message(NamedTuple):
    """One chat turn."""

    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class Chat:
    """A prompt as chat messages; the model speaks next, as the assistant."""

    messages: tuple[Message, ...]
    thinking: bool = True  # False: a reasoning model is asked not to think (enable_thinking)

    @classmethod
    def of(cls, *turns: tuple[str, str], thinking: bool = True) -> Chat:
        """A chat from (role, content) pairs."""
        return cls(tuple(Message(role, content) for role, content in turns), thinking)

    def then(self, *turns: tuple[str, str]) -> Chat:
        """This chat with more turns after it."""
        return Chat(self.messages + Chat.of(*turns).messages, self.thinking)

    def template_kwargs(self, model_kwargs: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
        """What the chat template is told: the model's settings, and no thinking if asked."""
        return {**dict(model_kwargs), **({} if self.thinking else {"enable_thinking": False})}

    def as_dicts(self) -> list[dict[str, str]]:
        """The messages as an OpenAI-style API or a Jinja chat template takes them."""
        return [{"role": m.role, "content": m.content} for m in self.messages]

    def __contains__(self, text: object) -> bool:
        """Whether some message contains the text (as `in` does on a text prompt)."""
        return isinstance(text, str) and any(text in m.content for m in self.messages)

    def plain(self) -> str:
        """The turns as plain text, for engines that only estimate token counts."""
        return "".join(f"<{m.role}>\n{m.content}\n" for m in self.messages) + "<assistant>\n"


Prompt = str | Chat


def prompt_text(prompt: Prompt) -> str:
    """A prompt as one text: itself, or a chat's turns in plain form."""
    return prompt if isinstance(prompt, str) else prompt.plain()
