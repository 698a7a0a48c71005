"""lessons.finetune.lora against peft (the reference library) and against the LoRA paper's figures."""
import copy

import pytest
import torch
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel

from lessons import models
from lessons.finetune import lora


@pytest.fixture(scope="module")
def random_gpt():
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(n_layer=4, n_embd=128, n_head=4, vocab_size=4096, n_positions=256))


@pytest.fixture(scope="module")
def minilm():
    return models.load_minilm("cpu").model


@pytest.fixture(scope="module")
def smollm2():
    return models.load_smollm2("cpu").model


def test_matrix_count_course_example():
    c = lora.matrix_count(512, 64, 8)
    assert c["full"] == 32_768
    assert c["lora"] == 4_608
    assert c["A"] == 8 * 64 and c["B"] == 512 * 8
    assert c["percent"] == pytest.approx(14.0625)
    assert c["reduction"] == pytest.approx(32768 / 4608)


def test_matrix_count_rejects_nonsense():
    with pytest.raises(ValueError):
        lora.matrix_count(0, 64, 8)


@pytest.mark.parametrize("r,targets", [(8, ["c_attn"]), (4, ["c_attn", "c_proj"]),
                                       (2, ["c_fc", "c_proj", "c_attn"]), (16, ["c_fc"])])
def test_count_equals_peft_gpt2_conv1d(random_gpt, r, targets):
    before = models.state_fingerprint(random_gpt)
    ours = lora.lora_parameter_count(random_gpt, r, targets)
    ref = lora.peft_trainable_count(random_gpt, r, targets, fan_in_fan_out=True)
    assert ours == ref > 0
    assert models.state_fingerprint(random_gpt) == before  # peft was applied to a deep copy
    assert not hasattr(random_gpt, "peft_config")


@pytest.mark.parametrize("r,targets", [(8, ["query", "value"]), (4, ["query", "key", "value", "dense"])])
def test_count_equals_peft_minilm(minilm, r, targets):
    assert lora.lora_parameter_count(minilm, r, targets) == lora.peft_trainable_count(minilm, r, targets)


@pytest.mark.slow
@pytest.mark.parametrize("r,targets", [(8, ["q_proj", "v_proj"]),
                                       (4, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])])
def test_count_equals_peft_smollm2(smollm2, r, targets):
    ours = lora.lora_parameter_count(smollm2, r, targets)
    assert ours == lora.peft_trainable_count(smollm2, r, targets)
    # hand check: 30 layers; q 576->576, v 576->192 (3 kv heads x 64)
    if targets == ["q_proj", "v_proj"]:
        assert ours == 30 * 8 * ((576 + 576) + (576 + 192))


def test_real_tiny_gpt_if_present():
    if not models.tiny_gpt_available():
        pytest.skip("assets/tiny_gpt not committed yet (the random GPT-2 tests cover Conv1D)")
    m = models.load_tiny_gpt().model
    assert lora.lora_parameter_count(m, 8, ["c_attn"]) == lora.peft_trainable_count(m, 8, ["c_attn"], True)


def test_candidates_and_summary(random_gpt):
    cands = lora.target_candidates(random_gpt)
    assert {"c_attn", "c_proj", "c_fc", "wte"} <= set(cands)
    s = lora.lora_summary(random_gpt, 8, ["c_attn"])
    assert s["trainable"] == 4 * 8 * (128 + 384)
    assert s["total"] == sum(p.numel() for p in random_gpt.parameters())
    assert s["mb_fp32"] == pytest.approx(s["trainable"] * 4 / 1e6)
    assert s["by_kind"][0]["modules"] == 4


def test_published_architectures_match_the_paper():
    gpt3 = lora.ARCHITECTURES["GPT-3 175B"]
    # LoRA paper, section 7.1: an 18M budget "(roughly 35MB if stored in FP16)" is r=4 on Wq, Wv
    c = lora.architecture_lora_count(gpt3, 4, ["q_proj", "v_proj"])
    assert c["trainable"] == 96 * 2 * 4 * (12288 + 12288) == 18_874_368
    assert 35 <= c["adapter_mb_fp16"] <= 38
    assert c["full_checkpoint_gb_fp16"] == pytest.approx(350)
    assert 9_000 < c["reduction"] < 10_000  # "10,000 times fewer trainable parameters"
    # Table 4's 4.7M GPT-3 LoRA row is r=1 on Wq, Wv
    assert lora.architecture_lora_count(gpt3, 1, ["q_proj", "v_proj"])["trainable"] == 4_718_592
    # LLaMA-7B, r=8 on q,v: the well-known "trainable params: 4,194,304"
    assert lora.architecture_lora_count(lora.ARCHITECTURES["LLaMA-7B"], 8, ["q_proj", "v_proj"])["trainable"] == 4_194_304


def test_lora_linear_zero_init_leaves_output_unchanged():
    torch.manual_seed(0)
    base = nn.Linear(32, 64)
    layer = lora.LoRALinear(copy.deepcopy(base), r=4, alpha=8)
    x = torch.randn(10, 32)
    assert torch.equal(layer(x), base(x))
    assert layer.A.abs().sum() > 0 and layer.B.abs().sum() == 0
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["A", "B"]


def test_by_hand_demo_trains_merges_and_agrees_with_peft():
    out = lora.lora_by_hand_demo(d=48, k=24, r=4, alpha=8, steps=60, seed=1)
    assert out["init_max_diff"] == 0.0
    assert out["final_loss"] < 0.5 * out["start_loss"]
    assert out["merge_max_diff"] < 1e-5
    assert out["peft_max_diff"] < 1e-5
    assert out["base_unchanged"]
    assert out["trainable"] == 4 * (48 + 24)
    sv = out["delta_singular_values"]
    assert sum(s > 1e-4 * sv[0] for s in sv) <= 4  # rank of B A is at most r


def test_by_hand_demo_runs_on_the_shared_loop_with_progress_and_stop():
    rows = []
    out = lora.lora_by_hand_demo(d=16, k=8, r=2, alpha=4, steps=40, seed=2,
                                 progress=lambda row, run: rows.append(row), should_stop=lambda: len(rows) >= 7)
    assert out["stopped"] == "stopped" and out["steps_done"] == 7      # stopped before step 8
    assert [r["step"] for r in rows] == list(range(1, 8))
    assert out["losses"] == [r["loss"] for r in rows] and out["final_loss"] == rows[-1]["loss"]
    full = lora.lora_by_hand_demo(d=16, k=8, r=2, alpha=4, steps=40, seed=2)
    assert full["stopped"] == "steps" and len(full["losses"]) == 40
    assert full["losses"][:7] == out["losses"]                          # same seed: the same first steps


def test_peft_disagrees_when_alpha_differs():
    """The comparison is sensitive: a wrong scaling is caught."""
    torch.manual_seed(0)
    base = nn.Linear(8, 6)
    layer = lora.LoRALinear(copy.deepcopy(base), r=2, alpha=4)
    with torch.no_grad():
        layer.B.normal_()
    x = torch.randn(3, 8)
    same = lora.peft_outputs_with(base, layer.A, layer.B, 4, x)
    wrong = lora.peft_outputs_with(base, layer.A, layer.B, 8, x)
    assert torch.allclose(same, layer(x), atol=1e-6)
    assert not torch.allclose(wrong, layer(x), atol=1e-3)


# ---------------------------------------------------------------- peft's semantics, case by case
class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = nn.Linear(16, 16)
        self.v_proj = nn.Linear(16, 8)
        self.norm = nn.LayerNorm(16)


class _Zoo(nn.Module):
    """Every kind of layer peft's LoRA wraps, plus containers and a norm it refuses."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.c1 = nn.Conv1d(4, 6, 3)
        self.c2 = nn.Conv2d(3, 8, (3, 2))
        self.c3 = nn.Conv3d(2, 4, 2)
        self.grouped = nn.Conv2d(4, 8, 3, groups=2)
        self.attn = nn.MultiheadAttention(16, 4)
        self.layers = nn.ModuleList([_Block(), _Block()])
        self.q_proj = nn.Linear(16, 4)  # a top-level q_proj: what the regex 'q_proj' matches
        self.head = nn.Linear(16, 50)


@pytest.fixture(scope="module")
def zoo():
    torch.manual_seed(0)
    return _Zoo()


def _peft_or_error(model, r, targets):
    try:
        return lora.peft_trainable_count(model, r, targets)
    except ValueError as exc:
        return exc


@pytest.mark.parametrize("r,targets", [
    (4, ["c1"]), (4, ["c2"]), (2, ["c3"]), (4, ["c1", "c2", "c3", "emb"]),
    (4, ["grouped"]),                      # r divisible by groups=2
    (8, ["attn"]),                         # in_proj AND out_proj, 6 r E
    (4, ["q_proj", "v_proj"]),             # list: suffix match, nested and top-level
    (4, "q_proj"),                         # string: full regex match -> only the top-level one
    (4, r".*\.(q|v)_proj"),                # string regex: nested q and v only
    (4, r"layers\.1\..*_proj"),
    (4, "all-linear"),                     # every Linear (incl. MHA's out_proj), no lm head here
])
def test_count_equals_peft_on_every_layer_kind(zoo, r, targets):
    ours = lora.lora_parameter_count(zoo, r, targets)
    assert ours == _peft_or_error(zoo, r, targets) > 0


def test_hand_checked_counts(zoo):
    assert lora.lora_parameter_count(zoo, 8, ["attn"]) == 6 * 8 * 16
    assert lora.lora_parameter_count(zoo, 4, ["c2"]) == 4 * 3 * 3 * 2 + 8 * 4
    assert lora.lora_parameter_count(zoo, 4, "q_proj") == 4 * (16 + 4)
    assert lora.lora_parameter_count(zoo, 4, ["q_proj"]) == 4 * (16 + 4) + 2 * 4 * (16 + 16)


@pytest.mark.parametrize("r,targets", [
    (4, ["nonexistent"]), (4, []), (4, "nothing_.*"),
    (4, ["norm"]),                         # LayerNorm: not supported
    (4, ["layers"]),                       # a container
    (3, ["grouped"]),                      # r not divisible by groups
    (4, "block"),                          # regex that matches no full name
])
def test_rejected_targets_raise_like_peft(zoo, r, targets):
    ref = _peft_or_error(zoo, r, targets)
    assert isinstance(ref, ValueError), f"peft accepted {targets!r}: {ref}"
    with pytest.raises(ValueError):
        lora.lora_parameter_count(zoo, r, targets)
    with pytest.raises(lora.LoraTargetError):
        lora.lora_summary(zoo, r, targets)


def test_all_linear_skips_the_lm_head_like_peft(random_gpt):
    ours = lora.lora_parameter_count(random_gpt, 4, "all-linear")
    assert ours == lora.peft_trainable_count(random_gpt, 4, "all-linear", fan_in_fan_out=True)
    assert ours == lora.lora_parameter_count(random_gpt, 4, ["c_attn", "c_proj", "c_fc"])
    assert "lm_head" not in {r["module"] for r in lora.lora_breakdown(random_gpt, 4, "all-linear")}
