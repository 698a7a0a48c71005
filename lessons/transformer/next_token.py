"""One next-token prediction through a decoder, stage by stage (SmolLM2-135M, Llama family).

    ids (1, T) -> embed_tokens -> x_0 (1, T, D)
    for each of the L blocks:  x = x + Attn(RMSNorm(x));  x = x + MLP(RMSNorm(x))   (1, T, D)
    h = RMSNorm(x_L) (1, T, D) -> h[-1] (D,) -> logits = W_E h (V,) -> softmax -> p (V,)

SmolLM2: D = 576, L = 30, V = 49,152; the output matrix is the *same* as the embedding
table (tied weights). There is no position vector added to the embeddings: positions enter
inside every attention layer by rotating queries and keys (RoPE).

We run the decoder stack once through a per-call view whose final norm is the identity
(hidden states after every block, the last one before the norm; the shared model is never
hooked or changed) and redo the last steps (norm, lm_head, softmax) by hand so the page can
show them; the tests check that the by-hand top-10 equals the model's own logits.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from lessons.core import pieces

MAX_TOKENS = 64


@dataclass
class Stage:
    step: str
    shape: str
    what: str


@dataclass
class NextTokenTrace:
    labels: list[str]              # readable prompt tokens (T,)
    ids: list[int]
    n_tokens_full: int
    stages: list[Stage]
    embeddings: torch.Tensor       # (T, D) rows of the embedding table
    block_outputs: torch.Tensor    # (L, T, D) output of every block (before the final norm)
    final_hidden: torch.Tensor     # (D,) last position after the final RMSNorm
    logits: torch.Tensor           # (V,)
    probs: torch.Tensor            # (V,)
    top_ids: list[int]             # top-k by probability
    top_labels: list[str]
    top_probs: list[float]
    top_logits: list[float]
    lens_labels: list[str]         # "logit lens": the top token if we read out after block l
    lens_probs: list[float]

    @property
    def truncated(self) -> bool:
        return self.n_tokens_full > len(self.ids)


def _shape(t) -> str:
    """Python's tuple notation: (1, 5, 576), (49152,) -- no thousands separators, which
    would read like extra dimensions."""
    return str(tuple(int(d) for d in t))


def _without_final_norm(core: torch.nn.Module) -> torch.nn.Module:
    """A per-call view of the decoder stack whose final norm is the identity, so its last
    hidden state is the last block's output before the norm. The view shares every weight
    with ``core``; ``core`` (the model every session shares) is not changed: no hook is
    registered and no module is swapped on it, so concurrent forward passes stay correct."""
    try:  # transformers >= 5 records hidden states with hooks it installs once per model
        from transformers.utils.output_capturing import maybe_install_capturing_hooks

        maybe_install_capturing_hooks(core)   # (thread-safe; done here so the view inherits them)
    except ImportError:  # older transformers collect hidden states inside forward()
        pass
    view = copy.copy(core)                    # a new Module object with the same attributes
    view._modules = dict(core._modules)       # its own child table (the children are shared)
    view._modules["norm"] = torch.nn.Identity()
    return view


def trace(lm, prompt: str, top_k: int = 10, max_tokens: int = MAX_TOKENS) -> NextTokenTrace:
    """Run one next-token prediction and keep every stage's tensor."""
    model, tokenizer = lm.model, lm.tokenizer
    core = model.model
    full = tokenizer(prompt)["input_ids"]
    ids = list(full[-max_tokens:])  # keep the END: that is what the next token continues
    x = torch.tensor([ids], device=lm.device)                              # (1, T)
    with torch.no_grad():
        emb = core.embed_tokens(x)                                         # (1, T, D) lookup
        # hidden_states: [embeddings, after block 0, ..., after block L-1]; the view's final
        # norm is the identity, so the last entry is the last block's output BEFORE the norm
        out = _without_final_norm(core)(input_ids=x, output_hidden_states=True)
        blocks = list(out.hidden_states[1:])                               # L x (1, T, D)
        final = core.norm(blocks[-1])                                      # (1, T, D)
        last = final[0, -1]                                                # (D,)
        logits = model.lm_head(last)                                       # (V,)
        probs = torch.softmax(logits.float(), dim=-1)
        # logit lens: read every block's last position out through the final norm + lm_head
        stack = torch.stack([b[0, -1] for b in blocks])                    # (L, D)
        lens = torch.softmax(model.lm_head(core.norm(stack)).float(), dim=-1)  # (L, V)
        lens_p, lens_i = lens.max(-1)
    top_p, top_i = probs.topk(top_k)
    scheme = pieces.BYTE_LEVEL
    lab = lambda i: pieces.readable_piece(tokenizer.convert_ids_to_tokens([int(i)])[0], scheme)  # noqa: E731
    cfg = model.config
    T, D, V, L = len(ids), cfg.hidden_size, logits.shape[-1], len(blocks)
    n_kv = getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)
    stages = [
        Stage("1. tokens → ids", _shape((1, T)), f"the tokenizer maps your text to {T} integer ids"),
        Stage("2. token embeddings", _shape(emb.shape),
              f"row lookup in the {V:,} × {D} embedding table; no position vector is added"),
        Stage(f"3. {L} decoder blocks", f"{_shape((1, T, D))} → {_shape((1, T, D))}",
              f"each: RMSNorm → attention ({cfg.num_attention_heads} query heads, {n_kv} key/value heads, "
              f"RoPE on q and k, causal) + residual → RMSNorm → MLP {D}→{cfg.intermediate_size}→{D} + residual"),
        Stage("4. final RMSNorm", _shape(final.shape), "normalise every position's vector"),
        Stage("5. last position", _shape(last.shape), "only the last token's vector predicts what comes next"),
        Stage("6. logits = W_E · h", _shape(logits.shape),
              "one score per vocabulary entry (the output matrix is the embedding table, tied)"),
        Stage("7. softmax", _shape(probs.shape), f"probabilities, sum = {float(probs.sum()):.4f}"),
        Stage(f"8. top-{top_k}", _shape((top_k,)), "the most likely next tokens"),
    ]
    return NextTokenTrace(
        labels=[pieces.readable_piece(p, scheme) for p in tokenizer.convert_ids_to_tokens(ids)],
        ids=ids,
        n_tokens_full=len(full),
        stages=stages,
        embeddings=emb[0].float().cpu(),
        block_outputs=torch.stack([b[0] for b in blocks]).float().cpu(),
        final_hidden=last.float().cpu(),
        logits=logits.float().cpu(),
        probs=probs.cpu(),
        top_ids=[int(i) for i in top_i],
        top_labels=[lab(i) for i in top_i],
        top_probs=[float(p) for p in top_p],
        top_logits=[float(logits[i]) for i in top_i],
        lens_labels=[lab(i) for i in lens_i],
        lens_probs=[float(p) for p in lens_p],
    )
