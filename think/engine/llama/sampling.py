"""Sampler chains (top-k, top-p, temperature, a seeded draw) and drawing one token from a batch
row, shown only the logits that can win."""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np

from think.engine.base import TOP_LOGPROBS, SampleRequest

# A sampler is shown the logits within the first of these margins of a row's best that holds
# the top-k (see draw). The margins only set the cost: on Gemma 3 a margin of 12 keeps a few
# hundred of 262k logits and is too narrow for one row in five; 24 keeps thousands.
CANDIDATE_MARGINS = (12.0, 18.0, 24.0)
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


def new_sampler(request: SampleRequest, seed: int, end_tokens: list[int],
                n_vocab: int) -> ctypes.c_void_p:
    """A sampler chain for one sample; `end_tokens` are banned when the request ignores EOS."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    if request.temperature <= 0:
        if request.ignore_eos:
            _ban(chain, end_tokens, n_vocab)
        add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    if request.top_k > 0:
        add(chain, llama_cpp.llama_sampler_init_top_k(request.top_k))
    add(chain, llama_cpp.llama_sampler_init_top_p(request.top_p, 1))
    if request.min_p > 0:
        add(chain, llama_cpp.llama_sampler_init_min_p(request.min_p, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(request.temperature))
    if request.ignore_eos:
        _ban(chain, end_tokens, n_vocab)
    add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain


def free_sampler(sampler: ctypes.c_void_p) -> None:
    """Release a chain made by new_sampler."""
    llama_cpp.llama_sampler_free(sampler)


def _ban(chain: ctypes.c_void_p, ends: list[int], n_vocab: int) -> None:
    biases = (llama_cpp.llama_logit_bias * len(ends))(
        *[llama_cpp.llama_logit_bias(token, float("-inf")) for token in ends])
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_logit_bias(
        n_vocab, len(ends), biases))


Drawn = tuple[int, float, float]  # the token, its log-probability, its DeepConf confidence


def scores(logits: np.ndarray, best: float, token: int, candidates: np.ndarray | None,
           scratch: np.ndarray) -> tuple[float, float]:
    """The drawn token's log-probability and its confidence (minus the mean of the row's
    TOP_LOGPROBS best log-probabilities), normalised over the whole vocabulary.

    These are the model's own probabilities (temperature 1), as DeepConf reads them. The
    logsumexp over the row is the cost (one exp per logit, in place in `scratch`); the top-k
    come from the row's candidates when draw has them, which always hold the top-k.
    """
    np.subtract(logits, best, out=scratch)
    np.exp(scratch, out=scratch)
    norm = best + float(np.log(scratch.sum(dtype=np.float64)))
    pool = logits if candidates is None else candidates
    k = min(TOP_LOGPROBS, len(pool))
    top = np.partition(pool, len(pool) - k)[len(pool) - k:]
    return float(logits[token]) - norm, norm - float(top.mean(dtype=np.float64))


def draw(sampler: ctypes.c_void_p, ctx: Any, row: int, request: SampleRequest,
         n_vocab: int, scratch: np.ndarray | None = None,
         ends: frozenset[int] = frozenset()) -> Drawn:
    """The sampler chain's token for a batch row, shown only the logits that can win, with
    its log-probability and confidence when a `scratch` row is given (see scores). `ends`
    are the model's end tokens, which the chain bans when the request ignores them.

    llama_sampler_sample copies all of a row's logits (262k for Gemma 3) before top-k cuts
    them to a few dozen: most of the sampling time. Here the row's logits within a margin
    of its best are kept, for the first margin of CANDIDATE_MARGINS that keeps at least
    top_k of them; those include the top-k set, so the chain (top-k, top-p, temperature,
    seeded draw) picks exactly what it would from the whole row. With no top-k, or no
    margin wide enough, the whole row is passed as before.
    """
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, row), shape=(n_vocab,))
    if request.temperature <= 0:
        # Greedy: the first of the highest logits, as llama.cpp's greedy sampler picks it,
        # without the chain's copy of the whole row (a tenth of the time on 262k logits);
        # the chain still decides when that is an end token the request bans.
        token = int(logits.argmax())
        if not (request.ignore_eos and token in ends):
            if scratch is None:
                return token, 0.0, 0.0
            return (token, *scores(logits, float(logits[token]), token, None, scratch))
    if request.temperature <= 0 or request.top_k <= 0:
        return _whole_row(sampler, ctx, row, logits, scratch)
    best = logits.max()
    # A confident row has few logits near its best: look further down before giving up.
    for margin in CANDIDATE_MARGINS:
        ids = np.flatnonzero(logits >= best - margin)
        if len(ids) >= request.top_k:
            break
    else:
        return _whole_row(sampler, ctx, row, logits, scratch)
    candidates = np.empty(len(ids), TOKEN_DATA)
    candidates["id"], candidates["logit"], candidates["p"] = ids, logits[ids], 0.0
    array = llama_cpp.llama_token_data_array(
        data=candidates.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),
        size=len(ids), selected=-1, sorted=False)
    llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
    token = int(array.data[array.selected].id)
    llama_cpp.llama_sampler_accept(sampler, token)
    if scratch is None:
        return token, 0.0, 0.0
    # The chain rewrote the candidates' logits (temperature, top-p): read the row's own.
    return (token, *scores(logits, float(best), token, logits[ids], scratch))


def _whole_row(sampler: ctypes.c_void_p, ctx: Any, row: int, logits: np.ndarray,
               scratch: np.ndarray | None) -> Drawn:
    """The chain's token from the whole row (greedy, no top-k, or a flat row)."""
    # The chain copies the logits and leaves the row as it was, so scores read it after.
    token = int(llama_cpp.llama_sampler_sample(sampler, ctx, row))
    if scratch is None:
        return token, 0.0, 0.0
    return (token, *scores(logits, float(logits.max()), token, None, scratch))
