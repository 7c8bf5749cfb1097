"""Sampler chains (top-k, top-p, temperature, a seeded draw) and drawing one token from a batch
row, shown only the logits that can win."""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np

from think.engine.base import SampleRequest

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


def draw(sampler: ctypes.c_void_p, ctx: Any, row: int, request: SampleRequest,
         n_vocab: int) -> int:
    """The sampler chain's token for a batch row, shown only the logits that can win.

    llama_sampler_sample copies all of a row's logits (262k for Gemma 3) before top-k cuts
    them to a few dozen: most of the sampling time. Here the row's logits within a margin
    of its best are kept, for the first margin of CANDIDATE_MARGINS that keeps at least
    top_k of them; those include the top-k set, so the chain (top-k, top-p, temperature,
    seeded draw) picks exactly what it would from the whole row. With no top-k, or no
    margin wide enough, the whole row is passed as before.
    """
    if request.temperature <= 0 or request.top_k <= 0:
        return int(llama_cpp.llama_sampler_sample(sampler, ctx, row))
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, row), shape=(n_vocab,))
    best = logits.max()
    # A confident row has few logits near its best: look further down before giving up.
    for margin in CANDIDATE_MARGINS:
        ids = np.flatnonzero(logits >= best - margin)
        if len(ids) >= request.top_k:
            break
    else:
        return int(llama_cpp.llama_sampler_sample(sampler, ctx, row))
    candidates = np.empty(len(ids), TOKEN_DATA)
    candidates["id"], candidates["logit"], candidates["p"] = ids, logits[ids], 0.0
    array = llama_cpp.llama_token_data_array(
        data=candidates.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),
        size=len(ids), selected=-1, sorted=False)
    llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
    token = int(array.data[array.selected].id)
    llama_cpp.llama_sampler_accept(sampler, token)
    return token
