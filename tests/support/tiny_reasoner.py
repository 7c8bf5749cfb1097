"""A tiny GGUF "reasoning model" with random weights, built at test time with the `gguf` package.

It is a real llama-architecture model (2 layers, 64 wide, about half a megabyte) that llama.cpp
and llama-server load like any other, with a Qwen-style byte-level BPE vocabulary and a
Qwen3-style chat template, so tests can run the whole sampling path on a model that "thinks":
it writes `<think>`, mostly digits and spaces, then sometimes `</think>`, and ends with
`<|im_end|>`. Its output means nothing; what matters is that the rates are known:

- after a newline (the end of the assistant header) it writes `<think>` about 60% of the time
  (single-token tags only);
- otherwise each step is a digit or a space about 80% of the time, `</think>` 3-4% and
  `<|im_end|>` 1-2%; letters and punctuation make up most of the rest, and bytes that are not
  ASCII (UTF-8 fragments) almost never come.

At temperature 0.8, over 50 seeds, 64-token samples opened with `<think>` 35 times, held a
`</think>` 33 times and ended with `<|im_end|>` 29 times.

With `single_token_tags=False` the vocabulary has no tag tokens, so `<think>` and `</think>`
are plain text that takes several byte tokens (as in a model whose tokenizer lacks them).

`python -m tests.support.tiny_reasoner FILE` writes one, for trying it by hand.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

THINK_START = "<think>"
THINK_END = "</think>"

# Qwen3's chat template, less its tool calling: the same turns, the same handling of an
# assistant's `reasoning_content` (and of `<think>` inside its content), and the same empty
# think block when `enable_thinking` is false. llama-server reads the reasoning markers off
# how the template renders `reasoning_content`, so keeping this shape is what makes it treat
# the model as one that thinks.
QWEN3_STYLE_TEMPLATE = """\
{%- if messages[0].role == 'system' %}
    {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- set ns = namespace(last_query_index=messages|length - 1, found=false) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if not ns.found and message.role == 'user' %}
        {%- set ns.found = true %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}
    {%- elif message.role == 'assistant' %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- elif '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n')\
.split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index and (loop.last or reasoning_content) %}
            {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n')
                + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

N_EMBD, N_LAYERS, N_HEADS, N_FF, CONTEXT = 64, 2, 2, 128, 4096
HEAD_DIM = N_EMBD // N_HEADS

# Weights of the next token, relative (the model turns them into its logits); what is not
# named here gets RARE, so it is in the vocabulary but hardly ever drawn.
DIGIT, SPACE, NEWLINE, LETTER, PUNCT = 6.0, 15.0, 1.5, 0.3, 0.5
OTHER_ASCII, RARE = 0.02, 1e-4
TAG_WEIGHTS = {THINK_END: 4.0, "<|im_end|>": 2.0, THINK_START: 0.2}
AFTER_NEWLINE_THINK = 1.5  # after "\n", <think> weighs this much times all the others together
# A short list: llama.cpp refuses a vocabulary without the merges key (and gguf drops an
# empty list), but needs no more than a few.
MERGES = [("Ġ", "Ġ"), ("Ċ", "Ċ")]


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level BPE alphabet: a printable character standing for each byte."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:  # control bytes and the like map past 255, in order
            chars[byte] = chr(256 + extra)
            extra += 1
    return chars


def _vocabulary(single_token_tags: bool) -> tuple[list[str], list[int]]:
    """Tokens and their types: the 256 bytes, the merges, then the special tokens."""
    import gguf

    tokens = list(_byte_to_unicode().values()) + ["".join(pair) for pair in MERGES]
    types = [gguf.TokenType.NORMAL] * len(tokens)
    # Control tokens are never read from plain text and print only when asked for specials.
    for special in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        tokens.append(special)
        types.append(gguf.TokenType.CONTROL)
    if single_token_tags:
        # USER_DEFINED, as Qwen3's converted vocabulary has them: llama.cpp matches them in
        # text even without parse_special and prints them even without special=True, so a
        # sampled </think> reaches the text as "</think>".
        for tag in (THINK_START, THINK_END):
            tokens.append(tag)
            types.append(gguf.TokenType.USER_DEFINED)
    return tokens, [int(t) for t in types]


def _next_token_weights(tokens: list[str]) -> np.ndarray:
    """Each token's weight as the next token, whatever came before."""
    text_of = {char: bytes([byte]) for byte, char in _byte_to_unicode().items()}
    weights = np.full(len(tokens), RARE)
    for index, token in enumerate(tokens):
        raw = text_of.get(token)
        if token in TAG_WEIGHTS:
            weights[index] = TAG_WEIGHTS[token]
        elif raw is None:
            continue  # a merge or a special token not listed: rare
        elif raw.isdigit():
            weights[index] = DIGIT
        elif raw == b" ":
            weights[index] = SPACE
        elif raw == b"\n":
            weights[index] = NEWLINE
        elif raw.isalpha() and raw.isascii():
            weights[index] = LETTER
        elif raw in b".,+-=*()":
            weights[index] = PUNCT
        elif 32 < raw[0] < 127:
            weights[index] = OTHER_ASCII
    return weights


def _embeddings(rng: np.random.Generator, n_vocab: int, newline: int) -> np.ndarray:
    """Token embeddings whose RMS-normalised form is fixed where it matters.

    Every row, once RMS-normalised (norm sqrt(N_EMBD)), has 6 on dimension 0: the output layer
    reads its per-token bias from there, so the next-token rates hold whatever the token. The
    newline row also has 4 on dimension 1, which the output layer turns into a boost for
    <think>. The remaining dimensions are random, filling the row to its norm; they give each
    (token, next token) pair a little noise, so the rates wobble instead of being flat.
    """
    rows = np.zeros((n_vocab, N_EMBD))
    rows[:, 0] = 6.0
    rows[newline, 1] = 4.0
    rest = rng.standard_normal((n_vocab, N_EMBD - 2))
    rest /= np.linalg.norm(rest, axis=1, keepdims=True)
    left = np.sqrt(N_EMBD - (rows[:, :2] ** 2).sum(axis=1, keepdims=True))
    rows[:, 2:] = rest * left
    return rows


def _output_layer(rng: np.random.Generator, weights: np.ndarray, think_start: int | None
                  ) -> np.ndarray:
    """Logits = this @ normalised hidden state: the bias on dimension 0, the newline boost on
    dimension 1, and small random weights elsewhere (about 0.3 of logit noise)."""
    logits = np.log(weights)
    out = rng.standard_normal((len(weights), N_EMBD)) * 0.3 / math.sqrt(N_EMBD - 2)
    out[:, 0] = logits / 6.0
    out[:, 1] = 0.0
    if think_start is not None:
        # The weight that makes <think> AFTER_NEWLINE_THINK times everything else after "\n".
        others = weights.sum() - weights[think_start]
        boost = math.log(AFTER_NEWLINE_THINK * others / weights[think_start])
        out[think_start, 1] = boost / 4.0
    return out


def _layer_tensors(rng: np.random.Generator, layer: int) -> dict[str, np.ndarray]:
    """One block's weights. gguf writes a numpy array's shape reversed, so an (out, in) array
    is the {in, out} tensor that llama.cpp's matmul expects. The attention and feed-forward
    outputs are small, so the residual stream stays close to the token's embedding and the
    rates above survive the layers; the blocks still compute something, for real."""
    def normal(shape: tuple[int, int], scale: float) -> np.ndarray:
        return rng.standard_normal(shape) * scale / math.sqrt(shape[1])

    prefix = f"blk.{layer}."
    return {
        prefix + "attn_norm.weight": np.ones(N_EMBD),
        prefix + "attn_q.weight": normal((N_HEADS * HEAD_DIM, N_EMBD), 1.0),
        prefix + "attn_k.weight": normal((N_HEADS * HEAD_DIM, N_EMBD), 1.0),
        prefix + "attn_v.weight": normal((N_HEADS * HEAD_DIM, N_EMBD), 1.0),
        prefix + "attn_output.weight": normal((N_EMBD, N_HEADS * HEAD_DIM), 0.05),
        prefix + "ffn_norm.weight": np.ones(N_EMBD),
        prefix + "ffn_gate.weight": normal((N_FF, N_EMBD), 1.0),
        prefix + "ffn_up.weight": normal((N_FF, N_EMBD), 1.0),
        prefix + "ffn_down.weight": normal((N_EMBD, N_FF), 0.05),
    }


def build_tiny_reasoner(path: Path, single_token_tags: bool = True, seed: int = 0,
                        context: int | None = None, chat_template: bool = True) -> Path:
    """Write the tiny reasoning model to `path` (F32, about half a megabyte); returns path.
    Without its chat template it is, to think, a base model."""
    import gguf  # a test dependency only

    rng = np.random.default_rng(seed)
    tokens, types = _vocabulary(single_token_tags)
    ids = {token: index for index, token in enumerate(tokens)}
    newline = ids[_byte_to_unicode()[ord("\n")]]
    think_start = ids.get(THINK_START)
    weights = _next_token_weights(tokens)

    tensors = {"token_embd.weight": _embeddings(rng, len(tokens), newline)}
    for layer in range(N_LAYERS):
        tensors.update(_layer_tensors(rng, layer))
    tensors["output_norm.weight"] = np.ones(N_EMBD)
    tensors["output.weight"] = _output_layer(rng, weights, think_start)

    path = Path(path)
    writer = gguf.GGUFWriter(str(path), "llama")  # writes general.architecture itself
    writer.add_name("tiny-reasoner")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(CONTEXT if context is None else context)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEADS)
    writer.add_head_count_kv(N_HEADS)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(len(tokens))

    writer.add_tokenizer_model("gpt2")  # byte-level BPE
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([" ".join(pair) for pair in MERGES])
    # Qwen-style: no BOS in front of prompts, and a turn ends with <|im_end|>.
    writer.add_bos_token_id(ids["<|endoftext|>"])
    writer.add_eos_token_id(ids["<|im_end|>"])
    writer.add_eot_token_id(ids["<|im_end|>"])
    writer.add_pad_token_id(ids["<|endoftext|>"])
    writer.add_add_bos_token(False)
    if chat_template:
        writer.add_chat_template(QWEN3_STYLE_TEMPLATE)

    for name, array in tensors.items():
        writer.add_tensor(name, array.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":
    print(build_tiny_reasoner(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-reasoner.gguf")))
