"""Hand-written float/int8 encoders vs torch's own conversions; memory rule; real models."""
import math
import random
import struct

import pytest
import torch

from lessons.efficiency import quantization as q

INT_VIEW = {"fp32": (torch.float32, torch.int32, 32), "fp16": (torch.float16, torch.int16, 16),
            "bf16": (torch.bfloat16, torch.int16, 16)}


def _fp32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def _values():
    rng = random.Random(0)
    fixed = [0.1, 1 / 3, 1.0, -2.5, 3.14159, 65504.0, 65519.0, 65520.0, 1e5, 1e-5, 6e-8, 3e-8,
             1e-40, 1e38, -0.0, 0.0, 1.0000001, 0.99999994, 2 ** -24, 2 ** -25, 1.00390625]
    rand = [rng.uniform(-1e4, 1e4) for _ in range(300)]
    rand += [math.ldexp(rng.random(), rng.randint(-40, 40)) * rng.choice([-1, 1]) for _ in range(300)]
    return [_fp32(v) for v in fixed + rand]


@pytest.mark.parametrize("fmt", ["fp32", "fp16", "bf16"])
def test_encoder_matches_torch_bit_for_bit(fmt):
    dt, iv, nbits = INT_VIEW[fmt]
    for x in _values():
        ref = torch.tensor([x], dtype=torch.float32).to(dt).view(iv).item() & ((1 << nbits) - 1)
        assert q.encode_float(x, fmt) == ref, (fmt, x)
        back = torch.tensor([x], dtype=torch.float32).to(dt).float().item()
        assert q.float_layout(x, fmt).stored == back or (math.isnan(back))


@pytest.mark.parametrize("fmt,x,exact", [("bf16", 1 + 2 ** -8 + 2 ** -30, 1 + 2 ** -7),
                                         ("fp16", 1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -10)])
def test_float64_input_rounds_once_where_torch_rounds_twice(fmt, x, exact):
    """The documented difference: x is just above the halfway point between two `fmt`
    values but not float32-representable. Rounded once (ours, numpy) it goes up; torch goes
    through float32 (which lands exactly on the halfway point), then ties-to-even goes down."""
    assert _fp32(x) != x
    dt = q.TORCH_DTYPES[fmt]
    ours = q.float_layout(x, fmt).stored
    assert ours == exact
    assert torch.tensor(x, dtype=torch.float64).to(dt).item() == 1.0      # torch: twice
    assert torch.tensor(_fp32(x)).to(dt).item() == 1.0                    # = via float32
    if fmt == "fp16":
        import numpy as np
        assert float(np.float16(x)) == exact                              # numpy: once
    assert "rounding\nTWICE" in q.__doc__ or "rounding TWICE" in q.__doc__


def test_layout_fields_and_limits_match_torch_finfo():
    lay = q.float_layout(0.1, "bf16")
    assert (lay.sign, lay.exponent, lay.mantissa) == ("0", "01111011", "1001101")
    assert lay.exponent_unbiased == -4 and lay.kind == "normal"
    assert lay.stored == pytest.approx(0.10009765625)
    assert lay.rel_error == pytest.approx(abs(0.10009765625 - 0.1) / 0.1)
    for fmt, dt in q.TORCH_DTYPES.items():
        fi, lim = torch.finfo(dt), q.format_limits(fmt)
        assert lim["max"] == fi.max and lim["min_normal"] == fi.tiny and lim["eps"] == fi.eps
        assert lim["min_subnormal"] == fi.smallest_normal * fi.eps


def test_overflow_and_subnormal_kinds():
    assert q.float_layout(70000.0, "fp16").kind == "inf"       # fp16 overflows past 65504
    assert q.float_layout(70000.0, "bf16").kind == "normal"    # bf16 keeps fp32's range
    assert q.float_layout(1e-6, "fp16").kind == "subnormal"
    assert q.float_layout(1e-9, "fp16").kind == "zero"


def test_int8_absmax_matches_torch_quantize():
    rng = random.Random(1)
    for _ in range(200):
        absmax = rng.uniform(0.1, 10)
        x = rng.uniform(-absmax, absmax)
        mine = q.int8_absmax(x, absmax)
        ref = torch.quantize_per_tensor(torch.tensor([x]), absmax / 127, 0, torch.qint8)
        assert mine.q == ref.int_repr().item()
        assert mine.stored == pytest.approx(ref.dequantize().item(), abs=1e-6)
        assert int(mine.bits, 2) == (mine.q & 0xFF)
    assert q.int8_absmax(5.0, 1.0).clipped and q.int8_absmax(5.0, 1.0).q == 127
    assert q.int8_absmax(-1.0, 1.0).bits == "10000001"       # -127 in two's complement


def test_memory_rule_of_thumb():
    m = q.memory_estimate(1e9, "fp32")
    assert m["inference_gb"] == pytest.approx(4.0)
    assert m["training_gb"] == pytest.approx(24.0)           # 4 + 20 bytes per parameter
    assert m["training_over_weights"] == pytest.approx(6.0)
    assert q.memory_estimate(1e9, "int8")["inference_gb"] == pytest.approx(1.0)
    assert q.memory_estimate(175e9, "bf16")["inference_gb"] == pytest.approx(350.0)
    with pytest.raises(ValueError):
        q.memory_estimate(0)


def test_per_channel_int8_vs_torch_quantize_per_channel():
    torch.manual_seed(0)
    w = torch.randn(16, 32)
    qi, scale = q.quantize_int8_per_channel(w, 0)
    ref = torch.quantize_per_channel(w, scale[:, 0].double(), torch.zeros(16, dtype=torch.long), 0, torch.qint8)
    assert torch.equal(qi, ref.int_repr())
    assert (qi.float() * scale - w).abs().max() <= scale.max() / 2 + 1e-6


class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 16)
        self.lin = torch.nn.Linear(16, 50)

    def forward(self, ids):
        class O:  # mimic a transformers output
            pass
        o = O()
        o.logits = self.lin(self.emb(ids))
        return o


def test_quantize_model_copies_sizes_and_kl():
    torch.manual_seed(0)
    m = _Tiny().eval()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    ids = torch.randint(0, 50, (1, 20))
    n = sum(p.numel() for p in m.parameters())
    results = {}
    for fmt in ("fp32", "bf16", "fp16", "int8"):
        qm, size = q.quantize_model(m, fmt)
        results[fmt] = q.compare_outputs(m, qm, ids)
        if fmt == "fp32":
            assert size == 4 * n and results[fmt]["kl_mean"] == pytest.approx(0.0, abs=1e-7)
        elif fmt in ("bf16", "fp16"):
            assert size == 2 * n
        else:  # int8 matrices + fp32 scale per channel (emb rows, lin rows) + fp32 bias
            assert size == 50 * 16 + 50 * 4 + 50 * 16 + 50 * 4 + 50 * 4
    for k, v in m.state_dict().items():     # the original is untouched
        assert torch.equal(v, before[k])
    # bf16 keeps 7 mantissa bits, fp16 10: bf16 moves the distributions more.
    assert results["bf16"]["kl_mean"] > 1e-7 and results["bf16"]["kl_mean"] > results["fp16"]["kl_mean"]
    assert results["int8"]["kl_mean"] > 0 and results["int8"]["top1_agreement"] > 0.8
