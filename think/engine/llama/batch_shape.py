"""How a request's samples fit a llama.cpp context: the sequences decoded at once, the KV
cells and the widest step's rows, from the prompt, the answer cue and the lookup drafts."""

from __future__ import annotations

from dataclasses import dataclass

from think.config import KV_SLACK, MAX_BATCH_WIDTH
from think.engine.base import SampleRequest
from think.errors import DoesNotFit


@dataclass(frozen=True)
class BatchShape:
    """How a request's samples fit the KV cells allowed: `width` sequences decode at once."""

    width: int
    cells: int  # the holder's cells, padding room, and each live sample's own
    seqs: int  # the holder, the samples and the padding sequence
    rows: int  # the widest step: every sample reads its cue or a draft, plus padding
    draft: int = 0  # the longest draft the cells leave room for


def fit_batch(request: SampleRequest, prompt: int, cue: int, context: int, max_cells: int,
              batch_width: int, draft: int = 0) -> BatchShape:
    """The batch for a prompt of `prompt` tokens and an answer cue of `cue` tokens, and
    drafts of up to `draft` tokens where the cells leave room for them."""
    most = request.most_tokens(cue)
    if prompt + most > context:
        raise DoesNotFit(f"the prompt ({prompt} tokens) and its answer do not fit the model's "
                         f"context of {context} tokens", "context")
    per_sample = most + 1  # a sample's own cells: the last prompt token, then its tokens
    held = prompt - 1 + KV_SLACK  # the holder's cells, and room for padding rows
    # Fit the batch to the KV cells allowed: fewer sequences at once, never an abort.
    room = (max_cells - held) // per_sample
    if room < 1:
        raise DoesNotFit(f"the engine's {max_cells} KV cells cannot hold the prompt and one "
                         f"answer ({held + per_sample} cells)", "cells")
    width = max(1, min(request.n, batch_width, room, MAX_BATCH_WIDTH))
    # A draft past a sample's last token takes cells only where the samples leave them: it
    # never narrows the batch or refuses a request.
    draft = max(0, min(draft, (max_cells - held) // width - per_sample))
    per_sample += draft
    return BatchShape(width, held + width * per_sample, width + 2,
                      width * (max(cue, draft) + 1) + 2, draft)
