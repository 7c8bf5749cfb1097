"""Engine kinds and their loaders: llama (a local GGUF), remote (a server), scripted (tests),
and any a package registers in the `think.engines` entry-point group.

An engine plugin is an object with `name`, `load(spec, profile, verbose) -> Engine` and,
optionally, `cache_key(spec, profile, verbose)` (engines it loads are then kept per process);
think's own llama and remote engines are registered that way (think.engine.builtin), and a
models.yaml entry picks one with `engine:`.

`load` is the one way a run gets its engine: it picks the kind a model spec asks for (or the
kind `use` selected), loads it once per process and hands the same engine to every caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from think import plugins
from think.engine.base import Engine
from think.errors import ConfigError

if TYPE_CHECKING:
    from think.config import Profile
    from think.models import ModelSpec

Loader = Callable[["ModelSpec", "Profile", bool], Engine]
CacheKey = Callable[["ModelSpec", "Profile", bool], Hashable]

_loaders: dict[str, tuple[Loader, CacheKey | None]] = {}
_engines: dict[tuple[str, Hashable], Engine] = {}
_loading = threading.Lock()  # threads asking at once share one engine, not one each
_selected: list[str] = []  # kinds chosen by `use`, innermost last


def register(kind: str, loader: Loader, cache_key: CacheKey | None = None) -> None:
    """Name a loader; with `cache_key`, engines it loads are kept for the process under it."""
    _loaders[kind] = (loader, cache_key)


def kind_for(spec: ModelSpec) -> str:
    """The kind that loads `spec`: the one `use` selected, else its models.yaml entry's
    `engine:`, else a server's or llama.cpp's."""
    if _selected:
        return _selected[-1]
    if spec.engine:
        return spec.engine
    return "remote" if spec.server is not None else "llama"


def load(spec: ModelSpec, profile: Profile, verbose: bool = False) -> Engine:
    """The engine for a model, loaded once per process where its kind caches."""
    kind = kind_for(spec)
    loader, cache_key = _loaders[kind] if kind in _loaders else _plugin(kind)
    with _loading:
        if cache_key is None:
            return loader(spec, profile, verbose)
        key = (kind, cache_key(spec, profile, verbose))
        if key not in _engines:
            _engines[key] = loader(spec, profile, verbose)
        return _engines[key]


@contextmanager
def use(engine: Engine | Loader, kind: str = "scripted") -> Iterator[None]:
    """Within the block every load gets `engine` (or what the loader makes), by the real path."""
    # An engine has `sample`; anything else given is a loader that makes one.
    loader = engine if not hasattr(engine, "sample") else _constant(engine)  # type: ignore[arg-type]
    previous = _loaders.get(kind)
    register(kind, loader)
    _selected.append(kind)
    try:
        yield
    finally:
        _selected.pop()
        if previous is None:
            _loaders.pop(kind, None)
        else:
            _loaders[kind] = previous


def _constant(engine: Engine) -> Loader:
    return lambda spec, profile, verbose: engine


def _plugin(kind: str) -> tuple[Loader, CacheKey | None]:
    """The loader of an engine registered in the `think.engines` entry-point group (think's
    own llama and remote among them); a ConfigError names an unknown kind and the known."""
    found = plugins.load(plugins.ENGINES, kind)
    if getattr(found, "name", None) != kind or not callable(getattr(found, "load", None)):
        raise ConfigError(f"entry point '{kind}' ({plugins.value_of(plugins.ENGINES, kind)}) "
                          f"is not an engine named '{kind}'",
                          "it must name an object with name and load(spec, profile, verbose)")
    return found.load, getattr(found, "cache_key", None)  # type: ignore[attr-defined]
