"""Self-attention: by hand on a toy example, and on two real pretrained transformers.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + mask) V        (Vaswani et al., 2017)

Each query row asks "which positions are relevant to me?"; the softmax turns the scaled
dot products into weights that sum to 1 along the row, and the output is the weighted sum
of the value vectors. Multi-head attention runs this once per head on smaller slices.

Mask convention (the same as ``torch.nn.functional.scaled_dot_product_attention``):
* a **boolean** mask is True where attention is ALLOWED (keep) and False where it is
  blocked; blocked scores become -inf before the softmax, so they get weight exactly 0;
* a **float** mask is ADDED to the scores (0 = keep, -inf or a large negative = block).
A row whose every key is blocked has no defined softmax. Like torch's SDPA (since its
"safe softmax" change, PyTorch 2.5) we give such a row all-zero weights, so its output is 0
rather than NaN.

The real-model part returns the model's own ``output_attentions`` for plotting and can
recompute any layer *by hand* from the layer's input (projections, RoPE, grouped-query
heads) to show that nothing is hidden. This module never imports streamlit.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch

from lessons.core import pieces
from lessons.core.tensors import causal_mask, is_decoder

MAX_TOKENS = 64  # real attention maps are computed for at most this many tokens


# --------------------------------------------------------------------------- by hand
@dataclass
class AttentionSteps:
    """Every intermediate of one attention call (shapes for q: (..., T_q, d_k))."""

    scores: torch.Tensor         # Q K^T                      (..., T_q, T_k)
    scaled: torch.Tensor         # Q K^T * scale              (..., T_q, T_k)
    masked: torch.Tensor         # after the mask (-inf where blocked)
    weights: torch.Tensor        # softmax over the last axis (rows sum to 1)
    output: torch.Tensor         # weights @ V                (..., T_q, d_v)
    scale: float


def attention_steps(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    mask: torch.Tensor | None = None, scale: float | None = None) -> AttentionSteps:
    """Scaled dot-product attention, keeping every intermediate.

    q: (..., T_q, d_k), k: (..., T_k, d_k), v: (..., T_k, d_v); mask broadcastable to
    (..., T_q, T_k), boolean True = keep or float added to the scores (see module doc).
    """
    d_k = q.size(-1)
    scale = 1.0 / math.sqrt(d_k) if scale is None else scale
    # Why divide by sqrt(d_k): for unit-variance q and k the dot product has variance d_k;
    # scaling brings it back to ~1 so the softmax does not saturate into a one-hot.
    scores = q @ k.transpose(-2, -1)                     # (..., T_q, T_k)
    scaled = scores * scale
    if mask is None:
        masked = scaled
    elif mask.dtype == torch.bool:
        masked = scaled.masked_fill(~mask, float("-inf"))
    else:
        masked = scaled + mask
    weights = torch.softmax(masked, dim=-1)              # each row sums to 1 ...
    # ... except a fully blocked row: softmax of all -inf is NaN; torch's SDPA returns 0.
    blocked = torch.isneginf(masked).all(dim=-1, keepdim=True)
    weights = weights.masked_fill(blocked, 0.0)
    output = weights @ v                                 # (..., T_q, d_v)
    return AttentionSteps(scores, scaled, masked, weights, output, scale)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns ``(output, weights)``; ``output`` equals
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)``.
    Boolean mask: True = keep (torch's convention); float mask: added to the scores."""
    s = attention_steps(q, k, v, mask)
    return s.output, s.weights


@dataclass
class ToyExample:
    words: list[str]
    x: torch.Tensor      # (T, d_model)  one made-up embedding per word
    w_q: torch.Tensor    # (d_model, d_k)
    w_k: torch.Tensor    # (d_model, d_k)
    w_v: torch.Tensor    # (d_model, d_k)
    q: torch.Tensor      # (T, d_k) = x @ w_q
    k: torch.Tensor      # (T, d_k)
    v: torch.Tensor      # (T, d_k)
    steps: AttentionSteps
    mask: torch.Tensor | None


def word_embedding(word: str, d_model: int = 8, seed: int = 0) -> torch.Tensor:
    """The toy lookup table: a fixed random vector per (seed, word), rounded to 2 decimals.
    A stable hash (not Python's salted hash()) keeps it the same in every process."""
    h = int.from_bytes(hashlib.sha256(f"{int(seed)}\x00{word}".encode()).digest()[:8], "little")
    g = torch.Generator().manual_seed(h)
    return torch.randn(d_model, generator=g).round(decimals=2)


def toy_example(words: list[str], d_k: int = 4, d_model: int = 8, seed: int = 0,
                causal: bool = False, scale: bool = True) -> ToyExample:
    """A tiny, fully visible attention layer: seeded random embeddings and projections.

    Each distinct WORD gets its own made-up embedding (a lookup table, like a real model's
    embedding matrix, drawn from the seed and the word), so the same word always has the
    same row of X -- and therefore the same q, k and v. There is no positional encoding
    here. ``scale=False`` skips the 1/sqrt(d_k) (to see why it is there)."""
    if not 1 <= len(words) <= 6:
        raise ValueError("Use between 1 and 6 words.")
    if not 1 <= d_k <= 8:
        raise ValueError("d_k must be between 1 and 8.")
    g = torch.Generator().manual_seed(int(seed))
    t = len(words)
    x = torch.stack([word_embedding(w, d_model, seed) for w in words])  # (T, d_model)
    # Projections scaled by 1/sqrt(d_model) so q, k, v have roughly unit variance.
    w_q, w_k, w_v = (
        (torch.randn(d_model, d_k, generator=g) / math.sqrt(d_model)).round(decimals=2) for _ in range(3)
    )
    q, k, v = x @ w_q, x @ w_k, x @ w_v                  # (T, d_k) each
    mask = causal_mask(t) if causal else None
    steps = attention_steps(q, k, v, mask, scale=None if scale else 1.0)
    return ToyExample(list(words), x, w_q, w_k, w_v, q, k, v, steps, mask)


def torch_difference(ex: ToyExample) -> float:
    """max |our output - torch.nn.functional.scaled_dot_product_attention| for the toy example
    (the page shows it, so a learner can see the by-hand numbers are the library's)."""
    ref = torch.nn.functional.scaled_dot_product_attention(
        ex.q, ex.k, ex.v, attn_mask=ex.mask, scale=ex.steps.scale)
    return float((ex.steps.output - ref).abs().max())


# --------------------------------------------------------------------------- real models
@dataclass
class AttentionRun:
    """One forward pass of a real model on the learner's text, with attentions kept."""

    model_name: str
    kind: str                    # "encoder (bidirectional)" or "decoder (causal)"
    labels: list[str]            # readable token labels (T,)
    ids: list[int]
    attentions: torch.Tensor     # (L, H, T, T) the model's own output_attentions, float32 CPU
    hidden_states: torch.Tensor  # (L+1, T, D) input of layer l is hidden_states[l]
    n_tokens_full: int           # before cutting at max_tokens
    max_tokens: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    positions: str               # how the model encodes positions

    @property
    def truncated(self) -> bool:
        return self.n_tokens_full > self.max_tokens

    @property
    def n_layers(self) -> int:
        return self.attentions.shape[0]

    def kv_head(self, head: int) -> int:
        """Grouped-query attention: query head h reads key/value head h // (H / H_kv)."""
        return head // (self.n_heads // self.n_kv_heads)


def run_attention(lm, text: str, max_tokens: int = MAX_TOKENS) -> AttentionRun:
    """Tokenize (cut at ``max_tokens``), run the model once with attentions and hidden states."""
    model, tokenizer = lm.model, lm.tokenizer
    decoder = is_decoder(model)
    full = tokenizer(text)["input_ids"]
    if decoder:
        ids = list(full[:max_tokens])
    else:  # keep [CLS] ... [SEP] around the cut
        ids = list(tokenizer(text, truncation=True, max_length=max_tokens)["input_ids"])
    x = torch.tensor([ids], device=lm.device)
    with torch.no_grad():
        out = model(input_ids=x, attention_mask=torch.ones_like(x), output_attentions=True,
                    output_hidden_states=True)
    att = torch.stack(out.attentions)[:, 0].float().cpu()           # (L, H, T, T)
    hs = torch.stack(out.hidden_states)[:, 0].float().cpu()         # (L+1, T, D)
    cfg = model.config
    scheme = pieces.BYTE_LEVEL if decoder else pieces.WORDPIECE
    labels = [pieces.readable_piece(p, scheme) for p in tokenizer.convert_ids_to_tokens(ids)]
    n_heads = cfg.num_attention_heads
    return AttentionRun(
        model_name=lm.name,
        kind="decoder (causal)" if decoder else "encoder (bidirectional)",
        labels=labels,
        ids=ids,
        attentions=att,
        hidden_states=hs,
        n_tokens_full=len(full),
        max_tokens=max_tokens,
        n_heads=n_heads,
        n_kv_heads=getattr(cfg, "num_key_value_heads", None) or n_heads,
        head_dim=getattr(cfg, "head_dim", None) or cfg.hidden_size // n_heads,
        positions="rotary (RoPE) inside attention" if decoder else "learned absolute, added to embeddings",
    )


def recompute_layer(lm, run: AttentionRun, layer: int) -> torch.Tensor:
    """Attention weights of one layer computed BY HAND from that layer's input hidden
    state with our own :func:`attention_steps` -> (H, T, T). Equals the model's own.

    Encoder (BERT): q = W_q h + b_q, k = W_k h + b_k, split into 12 heads of 32.
    Decoder (Llama): h -> RMSNorm -> q (9 heads x 64), k (3 heads x 64) -> rotate q and k by
    position (RoPE) -> each group of 3 query heads shares one key head -> causal mask.
    """
    model = lm.model
    h = run.hidden_states[layer][None].to(lm.device)                     # (1, T, D)
    t = h.shape[1]
    with torch.no_grad():
        if is_decoder(model):
            from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

            blk = model.model.layers[layer]
            x = blk.input_layernorm(h)
            q = blk.self_attn.q_proj(x).view(1, t, run.n_heads, run.head_dim).transpose(1, 2)     # (1, H, T, hd)
            k = blk.self_attn.k_proj(x).view(1, t, run.n_kv_heads, run.head_dim).transpose(1, 2)  # (1, H_kv, T, hd)
            cos, sin = model.model.rotary_emb(x, torch.arange(t, device=h.device)[None])
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            k = k.repeat_interleave(run.n_heads // run.n_kv_heads, dim=1)  # GQA: (1, H, T, hd)
            mask = causal_mask(t, device=h.device)
        else:
            sa = model.encoder.layer[layer].attention.self
            q = sa.query(h).view(1, t, run.n_heads, run.head_dim).transpose(1, 2)                  # (1, H, T, hd)
            k = sa.key(h).view(1, t, run.n_heads, run.head_dim).transpose(1, 2)
            mask = None
        v = torch.zeros_like(q)  # only the weights are compared here
        steps = attention_steps(q, k, v, mask)
    return steps.weights[0].float().cpu()


def head_average(run: AttentionRun, layer: int) -> torch.Tensor:
    """(T, T) mean over the heads of one layer."""
    return run.attentions[layer].mean(0)


def attends_to(run: AttentionRun, layer: int, head: int | None, query: int) -> torch.Tensor:
    """(T,) how much token ``query`` attends to every token (head None = average of heads)."""
    m = head_average(run, layer) if head is None else run.attentions[layer, head]
    return m[query]


def upper_triangle_max(weights: torch.Tensor) -> float:
    """Largest weight above the diagonal (0 for a causal model: no peeking at the future)."""
    t = weights.shape[-1]
    above = ~causal_mask(t)
    return float(weights[..., above].max()) if t > 1 else 0.0
