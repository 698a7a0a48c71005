"""Quantization: how numbers are stored, what memory a model needs, and what rounding the
weights does to a real model.

A floating-point number is (-1)^sign x 1.mantissa x 2^(exponent - bias):

    format  sign exponent mantissa  bias   max          eps (1 ulp at 1.0)
    fp32     1     8        23      127   3.4e38       1.2e-7
    fp16     1     5        10       15   65504        9.8e-4
    bf16     1     8         7      127   3.4e38       7.8e-3

bf16 keeps fp32's exponent (same range, no overflow) and gives up mantissa (precision);
fp16 keeps more precision but overflows above 65504. int8 is not floating point at all: a
tensor is stored as integers -127..127 and one scale (absmax / 127), x ~ q * scale.

The encoders below are written by hand (round-to-nearest, ties-to-even, with subnormals,
overflow to infinity). They round the exact value of the input ONCE (as numpy's float64 ->
float16 cast does). Tests check them bit for bit against torch's own conversions for every
float32 input. For a float64 input that float32 cannot represent exactly they can differ
from torch by one step: torch converts float64 -> bf16/fp16 through float32, rounding
TWICE. Example: 1 + 2^-8 + 2^-30 to bf16 is 1.0078125 here (the value lies above the
halfway point 1 + 2^-8), but torch first rounds it to the float32 1 + 2^-8 (a tie) and
then ties-to-even gives 1.0.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction

import torch

FORMATS = {  # name: (exponent bits, mantissa bits)
    "fp32": (8, 23),
    "fp16": (5, 10),
    "bf16": (8, 7),
}
TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
BYTES_PER_PARAM = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}


@dataclass
class FloatLayout:
    fmt: str
    bits: int            # the raw bit pattern as an unsigned integer
    sign: str            # "0"/"1"
    exponent: str        # exponent field bits
    mantissa: str        # mantissa field bits
    stored: float        # the value actually stored
    exponent_unbiased: int | None
    kind: str            # normal / subnormal / zero / inf / nan
    abs_error: float
    rel_error: float
    max_value: float
    min_normal: float
    min_subnormal: float
    eps: float           # gap between 1.0 and the next number
    digits: float        # ~decimal digits of precision


def format_limits(fmt: str) -> dict:
    e, m = FORMATS[fmt]
    bias = 2 ** (e - 1) - 1
    return {"bias": bias, "max": (2 - 2.0 ** -m) * 2.0 ** bias, "min_normal": 2.0 ** (1 - bias),
            "min_subnormal": 2.0 ** (1 - bias - m), "eps": 2.0 ** -m, "digits": (m + 1) * math.log10(2)}


def encode_float(x: float, fmt: str) -> int:
    """Round the real number x to the nearest `fmt` value (ties to even) and return its bits."""
    e_bits, m_bits = FORMATS[fmt]
    bias = 2 ** (e_bits - 1) - 1
    exp_all_ones = (1 << e_bits) - 1
    sign = 1 if (x < 0 or (x == 0 and math.copysign(1.0, x) < 0)) else 0
    if math.isnan(x):
        return (exp_all_ones << m_bits) | (1 << (m_bits - 1))  # a quiet NaN
    a = abs(x)
    if math.isinf(a):
        return (sign << (e_bits + m_bits)) | (exp_all_ones << m_bits)
    if a == 0:
        return sign << (e_bits + m_bits)
    A = Fraction(a)                          # exact value of the input double
    e = math.frexp(a)[1] - 1                 # a = 1.xxx * 2^e
    emin = 1 - bias
    if e < emin:                             # subnormal range: fixed quantum 2^(emin - m)
        q = round(A / Fraction(2) ** (emin - m_bits))   # round() on Fraction = ties to even
        field = q                            # q == 2^m spills into exponent field 1: correct
    else:
        q = round(A / Fraction(2) ** (e - m_bits))      # in [2^m, 2^(m+1)]
        if q == 1 << (m_bits + 1):           # rounded up to the next power of two
            e, q = e + 1, 1 << m_bits
        if e > bias:                         # overflow -> infinity
            return (sign << (e_bits + m_bits)) | (exp_all_ones << m_bits)
        field = ((e + bias) << m_bits) | (q - (1 << m_bits))
    return (sign << (e_bits + m_bits)) | field


def decode_float(bits: int, fmt: str) -> float:
    e_bits, m_bits = FORMATS[fmt]
    bias = 2 ** (e_bits - 1) - 1
    sign = -1.0 if bits >> (e_bits + m_bits) & 1 else 1.0
    ef = (bits >> m_bits) & ((1 << e_bits) - 1)
    mf = bits & ((1 << m_bits) - 1)
    if ef == (1 << e_bits) - 1:
        return sign * math.inf if mf == 0 else math.nan
    if ef == 0:
        return sign * mf * 2.0 ** (1 - bias - m_bits)
    return sign * (1 + mf / 2 ** m_bits) * 2.0 ** (ef - bias)


def float_layout(x: float, fmt: str) -> FloatLayout:
    """Bits, fields, stored value and rounding error of x in fp32/fp16/bf16."""
    e_bits, m_bits = FORMATS[fmt]
    bits = encode_float(x, fmt)
    s = format(bits, f"0{1 + e_bits + m_bits}b")
    stored = decode_float(bits, fmt)
    ef = int(s[1:1 + e_bits], 2)
    mf = int(s[1 + e_bits:], 2)
    lim = format_limits(fmt)
    if ef == (1 << e_bits) - 1:
        kind, eu = ("inf" if mf == 0 else "nan"), None
    elif ef == 0:
        kind, eu = ("zero" if mf == 0 else "subnormal"), (None if mf == 0 else 1 - lim["bias"])
    else:
        kind, eu = "normal", ef - lim["bias"]
    if math.isfinite(stored) and math.isfinite(x):
        abs_err = abs(stored - x)
        rel_err = abs_err / abs(x) if x != 0 else 0.0
    else:
        abs_err = rel_err = math.inf if not (math.isnan(x) or math.isinf(x)) else 0.0
    return FloatLayout(fmt, bits, s[0], s[1:1 + e_bits], s[1 + e_bits:], stored, eu, kind,
                       abs_err, rel_err, lim["max"], lim["min_normal"], lim["min_subnormal"],
                       lim["eps"], lim["digits"])


@dataclass
class Int8Layout:
    q: int               # the stored integer, -127..127
    bits: str            # two's complement, 8 bits
    scale: float         # absmax / 127
    absmax: float
    stored: float        # q * scale
    abs_error: float
    clipped: bool


def int8_absmax(x: float, absmax: float) -> Int8Layout:
    """Symmetric absmax int8: scale = absmax / 127, q = round(x / scale) clipped to
    [-127, 127] (ties to even, like torch). Values beyond absmax are clipped."""
    if not absmax > 0:
        raise ValueError("absmax must be positive")
    scale = absmax / 127.0
    raw = round(x / scale)
    q = max(-127, min(127, raw))
    stored = q * scale
    return Int8Layout(q, format(q & 0xFF, "08b"), scale, absmax, stored, abs(stored - x), raw != q)


# --------------------------------------------------------------------------- memory
# The course's rule of thumb: storing 1 parameter in fp32 takes 4 bytes; training it takes
# about 20 bytes more: Adam's two moments (8), the gradient (4), and activations and temporary
# buffers (~8, it depends on batch and sequence length). So ~24 bytes/param = ~6x the weights.
TRAINING_EXTRA_BYTES = {"Adam optimizer states (2 x fp32)": 8.0, "gradients (fp32)": 4.0,
                        "activations and temporary buffers (rule of thumb)": 8.0}


def memory_estimate(params: float, fmt: str = "fp32") -> dict:
    """GB for inference (weights only) and for full fp32 training (course rule of thumb:
    4 bytes of weights + ~20 extra bytes per parameter). 1 GB = 1e9 bytes."""
    if params <= 0:
        raise ValueError("the number of parameters must be positive")
    weights = params * BYTES_PER_PARAM[fmt]
    train_rows = {"weights (fp32)": params * 4.0}
    train_rows.update({k: params * v for k, v in TRAINING_EXTRA_BYTES.items()})
    train_total = sum(train_rows.values())
    return {"params": params, "format": fmt, "bytes_per_param": BYTES_PER_PARAM[fmt],
            "inference_gb": weights / 1e9, "training_gb": train_total / 1e9,
            "training_rows_gb": {k: v / 1e9 for k, v in train_rows.items()},
            "training_over_weights": train_total / (params * 4.0)}


# --------------------------------------------------------------------------- real models
def _channel_dim(module) -> int | None:
    """Which dim of a module's weight indexes output channels (None: not a matrix layer)."""
    name = type(module).__name__
    if name == "Conv1D":          # GPT-2 stores (in, out)
        return 1
    if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
        return 0
    return None


def quantize_int8_per_channel(w: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel absmax int8. w: any 2-D float tensor; one scale per slice along `dim`.
    Returns (q int8 same shape as w, scale float32 broadcastable to w)."""
    reduce = 1 - dim
    absmax = w.abs().amax(dim=reduce, keepdim=True).clamp(min=1e-12)   # (out,1) or (1,out)
    scale = absmax / 127.0
    q = torch.clamp(torch.round(w / scale), -127, 127).to(torch.int8)
    return q, scale.float()


def quantize_model(model: torch.nn.Module, fmt: str) -> tuple[torch.nn.Module, int]:
    """A COPY of `model` whose weights went through `fmt` storage (the shared model is not
    touched). Computation stays in fp32 (weights de-quantized on load, as weight-only
    runtimes do), so what changes is exactly the rounding of the stored weights.

    Returns (copy, storage bytes): fp32/fp16/bf16 store every tensor in that format; int8
    stores every matrix (Linear/Conv1D/Embedding weights) as int8 plus one fp32 scale per
    output channel, and keeps biases and norms in fp32. Tied weights are counted once."""
    if fmt not in ("fp32", "fp16", "bf16", "int8"):
        raise ValueError(f"unknown format {fmt!r}")
    q_model = copy.deepcopy(model).float().eval()
    done: dict[int, int] = {}          # id(parameter) -> bytes (tied weights counted once)
    with torch.no_grad():
        if fmt == "int8":
            for mod in q_model.modules():
                dim = _channel_dim(mod)
                w = getattr(mod, "weight", None)
                if dim is None or w is None or w.dim() != 2 or id(w) in done:
                    continue
                q, scale = quantize_int8_per_channel(w, dim)
                w.copy_(q.float() * scale)
                done[id(w)] = q.numel() * 1 + scale.numel() * 4
        for p in q_model.parameters():
            if id(p) in done:
                continue
            if fmt != "int8":
                p.copy_(p.to(TORCH_DTYPES[fmt]).float())
                done[id(p)] = p.numel() * int(BYTES_PER_PARAM[fmt])
            else:
                done[id(p)] = p.numel() * 4
    return q_model, sum(done.values())


@torch.no_grad()
def compare_outputs(ref_model, q_model, ids: torch.Tensor) -> dict:
    """Next-token distributions of the reference vs the quantized copy on `ids` (1, T):
    perplexity of each, mean KL(p_ref || p_q) per position (nats), and top-1 agreement."""
    dev = next(ref_model.parameters()).device
    ids = ids.to(dev)
    lp_ref = torch.log_softmax(ref_model(ids).logits.float(), -1)[0]     # (T, V)
    lp_q = torch.log_softmax(q_model(ids.to(next(q_model.parameters()).device)).logits.float(), -1)[0].to(dev)
    tgt = ids[0, 1:]
    nll_ref = -lp_ref[:-1].gather(1, tgt[:, None]).mean().item()
    nll_q = -lp_q[:-1].gather(1, tgt[:, None]).mean().item()
    kl = (lp_ref.exp() * (lp_ref - lp_q)).sum(-1)                          # (T,)
    agree = (lp_ref.argmax(-1) == lp_q.argmax(-1)).float().mean().item()
    return {"ppl_ref": math.exp(nll_ref), "ppl_q": math.exp(nll_q), "kl_mean": kl.mean().item(),
            "kl_max": kl.max().item(), "top1_agreement": agree}


def model_bytes(model: torch.nn.Module, fmt: str = "fp32") -> int:
    """Storage of every distinct parameter at `fmt` bytes each (tied weights once)."""
    seen, total = set(), 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return int(total * BYTES_PER_PARAM[fmt])


def quantization_effects(model, tokenizer, text: str, formats=("fp32", "bf16", "fp16", "int8"),
                         max_tokens: int = 256) -> list[dict]:
    """For each format: storage size, perplexity on `text` (first `max_tokens` tokens, one
    window), change vs fp32, mean KL of next-token distributions and top-1 agreement.
    Works on copies; `model` is left untouched.

    One window means at most the positions the model was trained for (the tiny GPT's 256): more
    tokens would index past its position embeddings. Each row's ``tokens`` is the count used,
    ``window`` the model's limit (None when its config names none)."""
    window = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)
    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"][:min(max_tokens, window or max_tokens)]
    if len(ids) < 2:
        raise ValueError("The evaluation text needs at least two tokens.")
    ids = torch.tensor([ids])
    base_bytes = model_bytes(model, "fp32")
    rows = []
    for fmt in formats:
        q_model, size = quantize_model(model, fmt)
        cmp = compare_outputs(model, q_model, ids)
        del q_model
        rows.append({"format": fmt, "size_mb": size / 1e6, "size_vs_fp32": size / base_bytes,
                     "perplexity": cmp["ppl_q"], "perplexity_fp32": cmp["ppl_ref"],
                     "delta_ppl_pct": 100 * (cmp["ppl_q"] / cmp["ppl_ref"] - 1),
                     "kl_mean": cmp["kl_mean"], "kl_max": cmp["kl_max"], "top1_agreement": cmp["top1_agreement"],
                     "tokens": ids.shape[1], "window": window})
    return rows
