"""think's own engines as `think.engines` plugins: llama (a local GGUF through llama.cpp) and
remote (an OpenAI-compatible server), registered in pyproject.toml as a third party's are."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from think.engine.base import Engine

if TYPE_CHECKING:
    from think.config import Profile
    from think.models import ModelSpec


@dataclass(frozen=True)
class EngineKind:
    """A named way to load an engine for a model; `cache_key` keeps loaded ones per process."""

    name: str
    load: Callable[[ModelSpec, Profile, bool], Engine]
    cache_key: Callable[[ModelSpec, Profile, bool], Hashable] | None = None


def _load_remote(spec: ModelSpec, profile: Profile, verbose: bool) -> Engine:
    from think.engine.remote import RemoteEngine

    if spec.server is None:
        from think.errors import ConfigError

        raise ConfigError(f"model '{spec.name}' names the remote engine but no server",
                          "give it a base_url in models.yaml")
    return RemoteEngine(spec.server, spec.format, spec.context, rules=spec.rules)


def _load_llama(spec: ModelSpec, profile: Profile, verbose: bool) -> Engine:
    from think.engine.llama import LlamaEngine  # imports llama.cpp: keep it off start-up

    return LlamaEngine(spec.path, spec.name, spec.format, profile.load, context=spec.context,
                       verbose=verbose, chat_template=spec.chat_template, rules=spec.rules)


remote = EngineKind("remote", _load_remote, lambda spec, profile, verbose: spec.server)
llama = EngineKind("llama", _load_llama, lambda spec, profile, verbose: (spec, profile.load,
                                                                        verbose))
