"""LoRA: Low-Rank Adaptation (Hu et al. 2021, arXiv:2106.09685), counted and built by hand.

A frozen weight W (d x k, maps k inputs to d outputs) gets a trainable low-rank update:

    h = W x + (alpha / r) * B A x          A: (r, k)   B: (d, r)   r << min(d, k)

so one matrix trains r (d + k) numbers instead of d k. 512 x 64 at r = 8: 4,608 instead of
32,768 (14 %). B starts at zero, so the adapted model starts *exactly* where the pretrained
one is; after training B A can be added into W ("merged") and inference costs nothing extra.

This module:
* counts LoRA parameters for one matrix, for a real ``torch`` model (with peft's rule for
  which modules a ``target_modules`` list selects), and for published architectures from
  their dimensions (GPT-3 175B, LLaMA-7B, ...);
* implements :class:`LoRALinear` by hand (peft's ``tuners/lora/layer.py`` in ~30 lines) and a
  tiny training demo that checks "B = 0 leaves the output unchanged", "merged == adapter"
  and "same A, B as peft -> same outputs".
Pure Python + torch; peft is only imported inside the comparison helper.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass

import torch
from torch import nn

from lessons.core.loop import Progress, ShouldStop, run_loop
from lessons.core.rng import seeded
from lessons.core.tensors import param_count

# --------------------------------------------------------------------------- one matrix


def matrix_count(d: int, k: int, r: int) -> dict:
    """Parameters of a d x k matrix fully fine-tuned versus its rank-r LoRA update."""
    if min(d, k, r) < 1:
        raise ValueError("d, k and r must be positive integers")
    full = d * k
    lora = r * (d + k)  # B: d x r  +  A: r x k
    return {
        "d": d, "k": k, "r": r,
        "full": full,
        "lora": lora,
        "A": r * k,
        "B": d * r,
        "percent": 100.0 * lora / full,
        "reduction": full / lora,
        # rank r cannot exceed min(d, k): beyond it B A is no longer "low rank"
        "low_rank": r < min(d, k),
    }


# --------------------------------------------------------------------------- real models
def _conv1d_type():
    try:
        from transformers.pytorch_utils import Conv1D
        return Conv1D
    except Exception:  # pragma: no cover - transformers always installed here
        return None


def in_out(module: nn.Module) -> tuple[int, int] | None:
    """(fan_in k, fan_out d) of a module LoRA can wrap, else None.

    nn.Linear stores W as (out, in); GPT-2's Conv1D stores it transposed as (in, out)
    (that is why peft needs fan_in_fan_out=True for GPT-2); an Embedding maps a one-hot of
    size num_embeddings to embedding_dim; a ConvNd maps in_channels x kernel to
    out_channels; nn.MultiheadAttention's fused in_proj maps E to 3E."""
    conv1d = _conv1d_type()
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if conv1d is not None and isinstance(module, conv1d):
        k, d = module.weight.shape
        return k, d
    if isinstance(module, nn.Embedding):
        return module.num_embeddings, module.embedding_dim
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return module.in_channels * math.prod(module.kernel_size), module.out_channels
    if isinstance(module, nn.MultiheadAttention):
        return module.embed_dim, 3 * module.embed_dim
    return None


class LoraTargetError(ValueError):
    """``target_modules`` that peft would reject (it raises a ValueError too); the message is
    written for the page."""


ALL_LINEAR = "all-linear"  # peft's shorthand (INCLUDE_LINEAR_LAYERS_SHORTHAND)


def matches(name: str, targets) -> bool:
    """peft's rule (check_target_module_exists) for a LIST of targets: a module is targeted
    when its full name equals a target or ends with '.' + target. A single STRING target is
    a regular expression that must match the whole name (``re.fullmatch``): ``'q_proj'``
    alone matches only a top-level module called q_proj, ``'.*\\.(q|v)_proj'`` every q and v
    projection."""
    if isinstance(targets, str):
        return re.fullmatch(targets, name) is not None
    return any(name == t or name.endswith("." + t) for t in targets)


def target_candidates(model: nn.Module) -> list[str]:
    """The short names (last dotted part) of every module LoRA can wrap, in model order."""
    seen: dict[str, None] = {}
    for name, mod in model.named_modules():
        if name and in_out(mod) is not None:
            seen.setdefault(name.rsplit(".", 1)[-1], None)
    return list(seen)


def _all_linear_names(model: nn.Module) -> set[str]:
    """What peft's 'all-linear' expands to: every nn.Linear / Conv1D by full name, except the
    output layer (lm_head) of a transformers model."""
    conv1d = _conv1d_type()
    kinds = (nn.Linear,) + ((conv1d,) if conv1d is not None else ())
    names = {n for n, m in model.named_modules() if n and isinstance(m, kinds)}
    try:
        from transformers import PreTrainedModel
    except ImportError:  # pragma: no cover - transformers always installed here
        PreTrainedModel = ()
    if isinstance(model, PreTrainedModel):
        out = model.get_output_embeddings()
        if out is not None:
            names -= {n for n, m in model.named_modules() if m is out}
    return names


def resolve_targets(model: nn.Module, target_modules) -> list[str]:
    """Full names of the modules peft would adapt for ``target_modules`` (a list of names /
    name suffixes, a regex string, or 'all-linear'). Raises :class:`LoraTargetError` where
    peft raises: nothing matched, or a matched module LoRA cannot wrap."""
    if target_modules is None or (not isinstance(target_modules, str) and not list(target_modules)):
        raise LoraTargetError("Choose at least one target module (peft refuses an empty target list).")
    if isinstance(target_modules, str):
        if target_modules.lower() == ALL_LINEAR:
            targets = _all_linear_names(model)
        else:
            try:
                re.compile(target_modules)
            except re.error as exc:
                raise LoraTargetError(f"'{target_modules}' is not a valid regular expression: {exc}.") from exc
            targets = target_modules
    else:
        targets = [str(t) for t in target_modules]
    names = [n for n, _ in model.named_modules() if n and matches(n, targets)]
    if not names:
        shown = sorted(targets) if isinstance(targets, set) else targets
        raise LoraTargetError(f"Target modules {shown} not found in the base model.")
    for n in names:
        mod = model.get_submodule(n)
        if in_out(mod) is None:
            raise LoraTargetError(
                f"Target module '{n}' ({type(mod).__name__}) is not supported: LoRA wraps "
                "Linear, Embedding, Conv1d/2d/3d, GPT-2's Conv1D and MultiheadAttention.")
    return names


def _lora_rows(name: str, mod: nn.Module, r: int) -> list[dict]:
    """peft's trainable parameters for one wrapped module (one row, two for attention)."""
    k, d = in_out(mod)
    if isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        if r % mod.groups:
            raise LoraTargetError(f"'{name}' is a convolution with groups={mod.groups}; peft needs the "
                                  f"rank r to be divisible by it (r={r}).")
        # lora_A: conv(in -> r, same kernel), lora_B: 1x1 conv(r -> out, groups)
        lora = r * k + d * (r // mod.groups)
        return [{"module": name, "kind": type(mod).__name__, "k_in": k, "d_out": d,
                 "frozen": mod.weight.numel(), "lora": lora}]
    if isinstance(mod, nn.MultiheadAttention):
        if not mod._qkv_same_embed_dim:
            raise LoraTargetError(f"'{name}': peft adapts MultiheadAttention only when query, key "
                                  "and value have the same size.")
        e = mod.embed_dim  # peft adapts the fused in_proj (E -> 3E) AND out_proj (E -> E)
        return [{"module": name + " (in_proj)", "kind": "MultiheadAttention.in_proj", "k_in": e,
                 "d_out": 3 * e, "frozen": mod.in_proj_weight.numel(), "lora": r * (e + 3 * e)},
                {"module": name + ".out_proj", "kind": "MultiheadAttention.out_proj", "k_in": e,
                 "d_out": e, "frozen": mod.out_proj.weight.numel(), "lora": r * (e + e)}]
    return [{"module": name, "kind": name.rsplit(".", 1)[-1], "k_in": k, "d_out": d,
             "frozen": d * k, "lora": r * (d + k)}]


def lora_breakdown(model: nn.Module, r: int, target_modules) -> list[dict]:
    """One row per targeted module: its shape, frozen parameters and LoRA parameters."""
    if not isinstance(r, int) or r < 1:
        raise LoraTargetError(f"The rank r must be a positive integer (got {r!r}).")
    rows = []
    for name in resolve_targets(model, target_modules):
        rows += _lora_rows(name, model.get_submodule(name), r)
    return rows


def lora_parameter_count(model: nn.Module, r: int, target_modules) -> int:
    """Trainable parameters that ``peft.get_peft_model(model, LoraConfig(r=r,
    target_modules=target_modules))`` creates: sum over targeted modules of r (d + k)
    (convolutions: r (in x kernel) + out r / groups; MultiheadAttention: in_proj and
    out_proj, 6 r E). Default LoRA has no bias and no modules_to_save, so nothing else
    becomes trainable. Raises :class:`LoraTargetError` where peft raises."""
    return sum(row["lora"] for row in lora_breakdown(model, r, target_modules))


def lora_summary(model: nn.Module, r: int, target_modules) -> dict:
    """Everything the counter page shows for one real model and one setting."""
    rows = lora_breakdown(model, r, target_modules)
    trainable = sum(x["lora"] for x in rows)
    total = param_count(model)
    by_kind: dict[str, dict] = {}
    for x in rows:
        agg = by_kind.setdefault(x["kind"], {"kind": x["kind"], "modules": 0, "shape (k_in x d_out)": "",
                                             "frozen": 0, "lora": 0})
        agg["modules"] += 1
        agg["shape (k_in x d_out)"] = f"{x['k_in']} x {x['d_out']}"
        agg["frozen"] += x["frozen"]
        agg["lora"] += x["lora"]
    return {
        "rows": rows,
        "by_kind": list(by_kind.values()),
        "trainable": trainable,
        "total": total,
        "share_percent": 100.0 * trainable / total if total else 0.0,
        "mb_fp32": trainable * 4 / 1e6,
        "mb_bf16": trainable * 2 / 1e6,
        "full_mb_fp32": total * 4 / 1e6,
    }


def peft_trainable_count(model: nn.Module, r: int, target_modules, fan_in_fan_out: bool = False,
                         alpha: int | None = None) -> int:
    """The reference figure: peft's own trainable count. Works on a DEEP COPY because
    get_peft_model wraps and mutates the model it is given."""
    from peft import LoraConfig, get_peft_model

    clone = copy.deepcopy(model)
    targets = target_modules if isinstance(target_modules, str) else list(target_modules)
    cfg = LoraConfig(r=r, lora_alpha=alpha or r, target_modules=targets,
                     fan_in_fan_out=fan_in_fan_out, lora_dropout=0.0)
    peft_model = get_peft_model(clone, cfg)
    trainable, _ = peft_model.get_nb_trainable_parameters()
    return int(trainable)


# --------------------------------------------------------------------------- published models
@dataclass(frozen=True)
class Architecture:
    """A transformer described by its published dimensions (no weights needed)."""

    name: str
    n_layers: int
    d_model: int
    d_ffn: int
    total_params: float  # as published
    d_kv: int | None = None  # k/v projection width when grouped-query attention shrinks it
    gated_ffn: bool = False  # LLaMA's SwiGLU has gate_proj and up_proj
    source: str = ""

    def matrices(self) -> dict[str, tuple[int, int]]:
        """(k_in, d_out) of every weight matrix in one layer, by peft/LLaMA-style names."""
        d, f, kv = self.d_model, self.d_ffn, self.d_kv or self.d_model
        m = {"q_proj": (d, d), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (d, d),
             "up_proj": (d, f), "down_proj": (f, d)}
        if self.gated_ffn:
            m["gate_proj"] = (d, f)
        return m


ARCHITECTURES = {
    a.name: a for a in [
        Architecture("GPT-3 175B", 96, 12288, 4 * 12288, 175e9, source="Brown et al. 2020, Table 2.1"),
        Architecture("LLaMA-7B", 32, 4096, 11008, 6.7e9, gated_ffn=True, source="Touvron et al. 2023, Table 2"),
        Architecture("LLaMA-2-70B", 80, 8192, 28672, 69e9, d_kv=1024, gated_ffn=True,
                     source="Touvron et al. 2023b (GQA with 8 key/value heads)"),
        Architecture("GPT-2 small (124M)", 12, 768, 3072, 124e6, source="Radford et al. 2019"),
        Architecture("BERT-base", 12, 768, 3072, 110e6, source="Devlin et al. 2019"),
    ]
}


def architecture_lora_count(arch: Architecture, r: int, targets) -> dict:
    """LoRA parameters for a published architecture: n_layers x sum r (k + d) over targets."""
    mats = arch.matrices()
    per_layer = sum(r * (k + d) for name, (k, d) in mats.items() if name in targets)
    trainable = arch.n_layers * per_layer
    return {
        "model": arch.name,
        "trainable": trainable,
        "share_percent": 100.0 * trainable / arch.total_params,
        "reduction": arch.total_params / trainable if trainable else float("inf"),
        "adapter_mb_fp16": trainable * 2 / 1e6,
        "full_checkpoint_gb_fp16": arch.total_params * 2 / 1e9,
    }


# --------------------------------------------------------------------------- LoRA by hand
class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable rank-r update, exactly like peft's lora.Linear:

        y = x W^T + b + (alpha / r) * (x A^T) B^T       x: (..., k)  A: (r, k)  B: (d, r)
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0):
        super().__init__()
        if r < 1:
            raise ValueError("rank r must be >= 1")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)  # the pretrained weight is frozen
        k, d = base.in_features, base.out_features
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r  # peft: scaling = lora_alpha / r
        self.A = nn.Parameter(torch.empty(r, k))
        self.B = nn.Parameter(torch.zeros(d, r))  # zero => B A = 0 => output unchanged at init
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # same init as peft / loralib

    def delta_weight(self) -> torch.Tensor:
        return self.scaling * (self.B @ self.A)  # (d, k), rank <= r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # two thin matmuls (k -> r -> d) instead of materialising the d x k update
        return self.base(x) + self.scaling * ((x @ self.A.T) @ self.B.T)

    def merged(self) -> nn.Linear:
        """A plain nn.Linear with W + (alpha/r) B A folded in: no extra inference cost."""
        out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        return out


def peft_outputs_with(base: nn.Linear, A: torch.Tensor, B: torch.Tensor, alpha: float,
                      x: torch.Tensor) -> torch.Tensor:
    """Outputs of peft's own LoRA layer wrapped around a COPY of ``base`` and given our A, B."""
    from peft import LoraConfig, get_peft_model

    r = A.shape[0]
    wrapper = nn.Sequential()
    wrapper.add_module("proj", copy.deepcopy(base))
    pm = get_peft_model(wrapper, LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"],
                                            lora_dropout=0.0))
    layer = pm.base_model.model.proj
    with torch.no_grad():
        layer.lora_A["default"].weight.copy_(A)
        layer.lora_B["default"].weight.copy_(B)
        return pm(x)


def lora_by_hand_demo(d: int = 64, k: int = 32, r: int = 4, alpha: float = 8.0, steps: int = 200,
                      lr: float = 0.02, true_rank: int = 2, seed: int = 0, n: int = 256,
                      max_seconds: float = 60.0, progress: Progress = None, should_stop: ShouldStop = None) -> dict:
    """Fit a frozen random layer to a target that differs by a rank-``true_rank`` change, with
    Adam on A and B only, on the shared run loop (lessons.core.loop: ``steps`` and
    ``max_seconds`` bound it, ``progress(row, run)`` after each step, ``should_stop()`` stops it).

    Returns the loss curve and the three checks the page shows:
    * ``init_max_diff``: |LoRA(x) - W x| at initialisation (0: B = 0);
    * ``merge_max_diff``: |merged(x) - LoRA(x)| after training (float rounding only);
    * ``peft_max_diff``: |peft(x) - LoRA(x)| with peft given the same A and B;
    plus ``steps_done`` and ``stopped`` (the run loop's StopReason value).
    """
    g = torch.Generator().manual_seed(seed)
    base = nn.Linear(k, d)
    with torch.no_grad():
        base.weight.copy_(torch.randn(d, k, generator=g) / math.sqrt(k))
        base.bias.copy_(torch.randn(d, generator=g) * 0.1)
    # The "task": the ideal weight is W + U V with U V of rank true_rank.
    U = torch.randn(d, true_rank, generator=g) / math.sqrt(true_rank)
    V = torch.randn(true_rank, k, generator=g) / math.sqrt(k)
    x = torch.randn(n, k, generator=g)  # (n, k)
    with torch.no_grad():
        y_target = base(x) + x @ (U @ V).T  # (n, d)

    with seeded(seed):          # A's random init: one at a time, same seed -> same A
        lora = LoRALinear(copy.deepcopy(base), r=r, alpha=alpha)
    w_before = lora.base.weight.detach().clone()
    with torch.no_grad():
        init_max_diff = (lora(x) - base(x)).abs().max().item()
    opt = torch.optim.Adam([lora.A, lora.B], lr=lr)

    def step(i: int) -> dict:
        # L(A, B) = mean over the n examples and d outputs of (W x + (alpha/r) B A x - y)^2
        loss = ((lora(x) - y_target) ** 2).mean()
        opt.zero_grad()
        loss.backward()                 # dL/dA, dL/dB only: W (lora.base) is frozen
        opt.step()                      # A, B <- Adam(A, B, g)
        return {"loss": loss.item()}

    run = run_loop(step, steps=steps, max_seconds=max_seconds, progress=progress, should_stop=should_stop)
    losses = run.series("loss")
    with torch.no_grad():
        y_lora = lora(x)
        merged = lora.merged()
        merge_max_diff = (merged(x) - y_lora).abs().max().item()
        peft_max_diff = (peft_outputs_with(base, lora.A, lora.B, alpha, x) - y_lora).abs().max().item()
        base_unchanged = bool(torch.equal(w_before, lora.base.weight))
        start_loss = ((base(x) - y_target) ** 2).mean().item()
        sv = torch.linalg.svdvals(lora.delta_weight())
    return {
        "losses": losses,
        "steps_done": run.steps_done,
        "stopped": run.stopped.value,
        "start_loss": start_loss,
        "final_loss": losses[-1] if losses else start_loss,
        "init_max_diff": init_max_diff,
        "merge_max_diff": merge_max_diff,
        "peft_max_diff": peft_max_diff,
        "base_unchanged": base_unchanged,
        "trainable": lora.A.numel() + lora.B.numel(),
        "frozen": base.weight.numel(),
        "delta_singular_values": sv.tolist(),  # at most r of them are non-zero
        "delta": lora.delta_weight().detach(),
        "true_delta": (U @ V),
    }
