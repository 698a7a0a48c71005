"""Magnitude pruning (Han et al. 2015, "Learning both Weights and Connections for Efficient
Neural Networks"; Zhu & Gupta 2017): set the smallest-|w| weights of the linear layers to
zero and see how much quality is lost.

* unstructured: any single weight may go; the matrix keeps its shape, so a dense matmul is
  NOT faster -- the gain needs sparse kernels or a sparse storage format;
* global: one threshold over all layers (layers with many small weights lose more);
  per-layer: every layer loses the same fraction.

The mask for sparsity s keeps the (1 - s) * n largest |w|: exactly what
``torch.nn.utils.prune.L1Unstructured`` / ``global_unstructured`` do (checked in the tests).
We always prune a deep COPY: the shared tiny GPT is never changed.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lessons.core.perplexity import perplexity
from lessons.core.timing import ms_per_forward_interleaved


def prunable_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The weight matrices inside the transformer blocks: attention (c_attn, c_proj) and MLP
    (c_fc, c_proj) of GPT-2 -- HF's Conv1D, i.e. a Linear with a transposed weight -- and any
    nn.Linear. Embeddings and the (tied) LM head are left alone, as is usual."""
    from transformers.pytorch_utils import Conv1D

    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, (Conv1D, torch.nn.Linear)) and not name.endswith("lm_head"):
            out.append((name, mod))
    return out


def _n_to_prune(sparsity: float, n: int) -> int:
    # torch.nn.utils.prune._compute_nparams_toprune uses round(amount * n)
    return int(round(float(sparsity) * n))


@torch.no_grad()
def magnitude_masks(model: torch.nn.Module, sparsity: float, scope: str = "global") -> dict[str, torch.Tensor]:
    """{layer name: bool mask, True = keep}. scope 'global' or 'layer'."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError("sparsity must be within [0, 1]")
    layers = prunable_layers(model)
    masks = {}
    if scope == "layer":
        for name, mod in layers:
            w = mod.weight.abs().reshape(-1)
            k = _n_to_prune(sparsity, w.numel())
            keep = torch.ones_like(w, dtype=torch.bool)
            if k:
                keep[torch.topk(w, k, largest=False).indices] = False       # the k smallest |w|
            masks[name] = keep.view_as(mod.weight)
    elif scope == "global":
        flat = torch.cat([mod.weight.abs().reshape(-1) for _, mod in layers])  # (total,)
        k = _n_to_prune(sparsity, flat.numel())
        keep = torch.ones_like(flat, dtype=torch.bool)
        if k:
            keep[torch.topk(flat, k, largest=False).indices] = False
        i = 0
        for name, mod in layers:
            n = mod.weight.numel()
            masks[name] = keep[i:i + n].view_as(mod.weight)
            i += n
    else:
        raise ValueError("scope is 'global' or 'layer'")
    return masks


@dataclass
class Pruned:
    model: torch.nn.Module          # the pruned COPY
    sparsity: float                 # requested
    achieved: float                 # zeros / weights over the prunable layers
    per_layer: list[dict]           # name, weights, zeros, sparsity


@torch.no_grad()
def prune_copy(model: torch.nn.Module, sparsity: float, scope: str = "global") -> Pruned:
    """A deep copy of `model` with the smallest-magnitude weights set to zero."""
    masks = magnitude_masks(model, sparsity, scope)
    clone = copy.deepcopy(model).eval()
    rows, zeros, total = [], 0, 0
    for name, mod in prunable_layers(clone):
        mod.weight.mul_(masks[name])
        z = int((~masks[name]).sum())
        n = masks[name].numel()
        rows.append({"layer": name, "weights": n, "zeros": z, "sparsity": z / n})
        zeros += z
        total += n
    return Pruned(clone, sparsity, zeros / max(total, 1), rows)


def sparsity_curve(model, val_ids: torch.Tensor, sparsities: list[float], scope: str = "global",
                   block: int = 64, max_blocks: int = 16) -> list[dict]:
    """Validation perplexity of a pruned copy at each sparsity."""
    out = []
    for s in sparsities:
        p = prune_copy(model, s, scope)
        out.append({"sparsity": s, "achieved": p.achieved, "perplexity": perplexity(p.model, val_ids, block, max_blocks)})
    return out


@dataclass
class NextToken:
    tokens: list[str]               # the dense model's top-k tokens
    dense: list[float]              # their probabilities, dense model
    pruned: list[float]             # the same tokens' probabilities, pruned model
    kl: float                       # KL(dense || pruned) over the whole vocabulary, nats
    same_top1: bool
    pruned_tokens: list[str] = field(default_factory=list)   # the PRUNED model's own top-k tokens
    pruned_top: list[float] = field(default_factory=list)    # their probabilities, pruned model
    pruned_entropy: float = 0.0                              # bits, whole vocabulary
    dense_entropy: float = 0.0


@torch.no_grad()
def next_token_change(dense, pruned, tokenizer, prompt: str, top_k: int = 10) -> NextToken:
    ids = torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"][-200:]])
    if ids.shape[1] == 0:
        raise ValueError("the prompt has no tokens")
    dev = next(dense.parameters()).device
    ld = dense(ids.to(dev)).logits[0, -1].float()                      # (V,)
    lp = pruned(ids.to(dev)).logits[0, -1].float()
    pd, pp = ld.softmax(-1), lp.softmax(-1)
    kl = float(F.kl_div(lp.log_softmax(-1), ld.log_softmax(-1), log_target=True, reduction="sum"))
    top = torch.topk(pd, top_k).indices
    toks = [tokenizer.decode([int(i)]) for i in top]
    ptop = torch.topk(pp, top_k).indices
    bits = lambda p: float(-(p * p.clamp_min(1e-30).log2()).sum())  # noqa: E731
    return NextToken(toks, pd[top].tolist(), pp[top].tolist(), kl, int(pd.argmax()) == int(pp.argmax()),
                     [tokenizer.decode([int(i)]) for i in ptop], pp[ptop].tolist(), bits(pp), bits(pd))


def storage_mb(n_weights: int, sparsity: float) -> dict:
    """Bytes to store the prunable weights: dense fp32, dense int8 (see the Week 1
    quantization lesson), and CSR sparse (fp32 value + int32 column index per non-zero; row
    pointers ignored). Sparse storage only pays off above ~50% sparsity."""
    nnz = n_weights * (1 - sparsity)
    return {"dense fp32": n_weights * 4 / 1e6, "dense int8": n_weights / 1e6,
            "sparse fp32 (CSR)": nnz * 8 / 1e6}


def compare_speed(dense, pruned, block: int = 64, repeats: int = 7) -> tuple[float, float]:
    """Median ms per (1, block) forward for both models, measured INTERLEAVED so that a
    busy machine slows both equally (lessons.core.timing). Unstructured zeros do not make
    dense matmuls faster."""
    td, tp = ms_per_forward_interleaved([dense, pruned], block, repeats)
    return td, tp
