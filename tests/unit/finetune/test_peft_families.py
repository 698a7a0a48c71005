"""lessons.finetune.peft_families: every count from the module tree, checked against peft or against
the parameters actually inserted."""
import copy

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from lessons import models
from lessons.finetune import lora, peft_families as pf


@pytest.fixture(scope="module")
def gpt():
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(n_layer=4, n_embd=128, n_head=4, vocab_size=4096, n_positions=256)).eval()


def test_selective_counts_by_hand(gpt):
    d, L = 128, 4
    # per block biases: c_attn 3d, attn c_proj d, c_fc 4d, mlp c_proj d, ln_1 d, ln_2 d; plus ln_f d
    assert pf.bias_only(gpt) == L * (3 * d + d + 4 * d + d + 2 * d) + d
    assert pf.norms_only(gpt) == (2 * L + 1) * 2 * d
    block = sum(p.numel() for p in gpt.transformer.h[-1].parameters())
    assert pf.last_block_only(gpt) == block


def test_prompt_and_prefix_equal_peft(gpt):
    assert pf.prompt_tuning_count(gpt, 20) == pf.peft_count(gpt, "prompt", 20) == 20 * 128
    assert pf.prefix_tuning_count(gpt, 10) == pf.peft_count(gpt, "prefix", 10) == 10 * 4 * 2 * 128


def test_bottleneck_adapters_inserted_match_the_count_and_start_as_identity(gpt):
    m = copy.deepcopy(gpt)
    x = torch.randint(0, 4096, (2, 12))
    with torch.no_grad():
        ref = gpt(x).logits
    added = pf.add_bottleneck_adapters(m, 16)
    assert len(added) == 8  # after attention and after the MLP in each of 4 blocks
    trainable = sum(p.numel() for p in m.parameters() if p.requires_grad)
    assert trainable == pf.bottleneck_count(gpt, 16) == 8 * (2 * 128 * 16 + 16 + 128)
    with torch.no_grad():
        assert torch.allclose(m(x).logits, ref, atol=1e-6)
    assert models.state_fingerprint(gpt) == models.state_fingerprint(copy.deepcopy(gpt))


def test_compare_rows_and_lora_rows_match_lora_module(gpt):
    rows = {r["method"]: r for r in pf.compare(gpt, r=8, lora_targets=["c_attn"], bottleneck=16, n_virtual=20)}
    assert rows["all weights"]["trainable"] == sum(p.numel() for p in gpt.parameters())
    assert rows["LoRA r=8 on c_attn"]["trainable"] == lora.peft_trainable_count(gpt, 8, ["c_attn"], True)
    fams = {r["family"] for r in rows.values()}
    assert fams == {"full fine-tuning", "selective", "reparameterization", "additive"}
    assert all(0 < r["share_percent"] <= 100 for r in rows.values())


def test_minilm_sites_and_llama_without_bias():
    bert = models.load_minilm().model
    assert len(pf.adapter_sites(bert)) == 12  # 6 layers x (attention output, FFN output)
    from transformers import LlamaConfig, LlamaForCausalLM

    llama = LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, vocab_size=300))
    assert pf.bias_only(llama) == 0
    assert len(pf.adapter_sites(llama)) == 4
    assert pf.prompt_tuning_count(llama, 5) == pf.peft_count(llama, "prompt", 5)
