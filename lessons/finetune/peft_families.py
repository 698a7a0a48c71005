"""The three families of parameter-efficient fine-tuning (Lialin et al. 2023, "Scaling Down
to Scale Up"), counted on one real model:

* **selective** - train a chosen subset of the existing weights: biases only (BitFit,
  Ben Zaken et al. 2021), the normalisation layers only, or the last block only;
* **reparameterization** - train a low-rank re-parameterisation of weight updates (LoRA);
* **additive** - add new trainable parts: bottleneck adapters (Houlsby et al. 2019: a
  d -> m -> d MLP after the attention and after the feed-forward sub-layer of every block),
  soft prompts (prompt tuning, n x d) or per-layer key/value prefixes (prefix tuning,
  n x layers x 2 x d).

Counts come from the real module tree; the LoRA, prompt- and prefix-tuning counts equal
peft's and the adapter count equals the parameters of adapters actually inserted (tests).
"""
from __future__ import annotations

import copy
import re

import torch
from torch import nn

from lessons.core.tensors import param_count
from lessons.finetune import lora as lora_lib


# --------------------------------------------------------------------------- model anatomy
def _config(model):
    return getattr(model, "config", None)


def n_layers(model) -> int:
    cfg = _config(model)
    return int(getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer"))


def d_model(model) -> int:
    return int(model.get_input_embeddings().weight.shape[1])


_BLOCK = re.compile(r"\.(h|layers|layer)\.(\d+)\.")


def block_index(name: str) -> int | None:
    m = _BLOCK.search("." + name)
    return int(m.group(2)) if m else None


# --------------------------------------------------------------------------- selective
def bias_only(model) -> int:
    """BitFit: every bias vector. (Llama-family models have none at all: 0.)"""
    return sum(p.numel() for n, p in model.named_parameters() if n.endswith("bias"))


def norms_only(model) -> int:
    return sum(p.numel() for m in model.modules() if "Norm" in type(m).__name__
               for p in m.parameters(recurse=False))


def last_block_only(model) -> int:
    last = n_layers(model) - 1
    return sum(p.numel() for n, p in model.named_parameters() if block_index(n) == last)


# --------------------------------------------------------------------------- additive: adapters
class BottleneckAdapter(nn.Module):
    """h + W_up(GELU(W_down h)): d -> m -> d with biases, 2dm + m + d parameters.
    W_up starts at zero, so an inserted adapter leaves the model's output unchanged."""

    def __init__(self, d: int, m: int):
        super().__init__()
        self.down = nn.Linear(d, m)
        self.up = nn.Linear(m, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, T, d)
        return h + self.up(nn.functional.gelu(self.down(h)))


class WithAdapter(nn.Module):
    """Runs the wrapped sub-layer's output projection, then the adapter."""

    def __init__(self, inner: nn.Module, adapter: BottleneckAdapter):
        super().__init__()
        self.inner, self.adapter = inner, adapter

    def forward(self, *args, **kwargs):
        return self.adapter(self.inner(*args, **kwargs))


# Output projections of the attention and feed-forward sub-layers, per architecture.
_ADAPTER_SITES = [r"attn\.c_proj$", r"mlp\.c_proj$",                          # GPT-2
                  r"self_attn\.o_proj$", r"mlp\.down_proj$",                   # Llama
                  r"attention\.output\.dense$", r"layer\.\d+\.output\.dense$"]  # BERT


def adapter_sites(model) -> list[str]:
    return [n for n, _ in model.named_modules() if any(re.search(p, n) for p in _ADAPTER_SITES)]


def bottleneck_count(model, m: int) -> int:
    d = d_model(model)
    return len(adapter_sites(model)) * (2 * d * m + m + d)


def add_bottleneck_adapters(model, m: int = 16):
    """Insert Houlsby adapters into a model the caller OWNS; freezes everything else.
    Returns the list of inserted adapters."""
    d = d_model(model)
    for p in model.parameters():
        p.requires_grad_(False)
    added = []
    for name in adapter_sites(model):
        parent_name, child = name.rsplit(".", 1)
        parent = model.get_submodule(parent_name)
        ad = BottleneckAdapter(d, m).to(next(model.parameters()).device)
        setattr(parent, child, WithAdapter(getattr(parent, child), ad))
        added.append(ad)
    return added


# --------------------------------------------------------------------------- additive: prompts
def prompt_tuning_count(model, n_virtual: int) -> int:
    return n_virtual * d_model(model)


def prefix_tuning_count(model, n_virtual: int) -> int:
    """A key and a value vector per virtual token in every layer (peft without projection)."""
    return n_virtual * n_layers(model) * 2 * d_model(model)


def peft_count(model, kind: str, n_virtual: int = 20) -> int:
    """peft's trainable count for prompt or prefix tuning, on a deep copy."""
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model

    cfg = (PromptTuningConfig if kind == "prompt" else PrefixTuningConfig)(
        task_type="CAUSAL_LM", num_virtual_tokens=n_virtual)
    return int(get_peft_model(copy.deepcopy(model), cfg).get_nb_trainable_parameters()[0])


# --------------------------------------------------------------------------- the comparison
def compare(model, *, r: int = 8, lora_targets=("c_attn",), all_linear=None, bottleneck: int = 16,
            n_virtual: int = 20) -> list[dict]:
    """Rows {family, method, trainable, share_percent, detail} for one model."""
    total = param_count(model)
    L, d = n_layers(model), d_model(model)
    if all_linear is None:
        all_linear = [c for c in lora_lib.target_candidates(model)
                      if c not in ("wte", "wpe", "lm_head", "embed_tokens", "word_embeddings",
                                   "position_embeddings", "token_type_embeddings")]
    sites = len(adapter_sites(model))
    rows = [
        ("full fine-tuning", "all weights", total, f"{total:,} weights"),
        ("selective", "biases only (BitFit)", bias_only(model), "every bias vector"),
        ("selective", "norm layers only", norms_only(model), "LayerNorm / RMSNorm scales (and shifts)"),
        ("selective", "last block only", last_block_only(model), f"block {L - 1} of {L}"),
        ("reparameterization", f"LoRA r={r} on {', '.join(lora_targets)}",
         lora_lib.lora_parameter_count(model, r, lora_targets), "r(d_out + k_in) per module"),
        ("reparameterization", f"LoRA r={r} on all linear layers",
         lora_lib.lora_parameter_count(model, r, all_linear), ", ".join(all_linear)),
        ("additive", f"bottleneck adapters m={bottleneck}", bottleneck_count(model, bottleneck),
         f"{sites} adapters x (2·{d}·{bottleneck} + {bottleneck} + {d})"),
        ("additive", f"prompt tuning, {n_virtual} virtual tokens", prompt_tuning_count(model, n_virtual),
         f"{n_virtual} x {d}"),
        ("additive", f"prefix tuning, {n_virtual} virtual tokens", prefix_tuning_count(model, n_virtual),
         f"{n_virtual} x {L} layers x 2 (key, value) x {d}"),
    ]
    return [{"family": f, "method": m, "trainable": n, "share_percent": 100.0 * n / total, "detail": det}
            for f, m, n, det in rows]
