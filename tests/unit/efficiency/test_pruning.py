"""pruning: masks equal torch.nn.utils.prune's (global and per-layer), the copy is pruned and
the original is not, perplexity/next-token figures, storage arithmetic."""
import pytest
import torch
from torch.nn.utils import prune
from transformers import GPT2Config, GPT2LMHeadModel

from lessons import models
from lessons.efficiency import pruning


@pytest.fixture(scope="module")
def gpt():
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=128, n_positions=64, n_layer=2, n_embd=32, n_head=2)).eval()


def test_prunable_layers_are_the_block_matrices(gpt):
    names = [n for n, _ in pruning.prunable_layers(gpt)]
    assert len(names) == 2 * 4 and all(n.startswith("transformer.h.") for n in names)
    assert not any("wte" in n or "lm_head" in n for n in names)


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.9])
def test_global_masks_equal_torch_global_unstructured(gpt, sparsity):
    ours = pruning.magnitude_masks(gpt, sparsity, "global")
    ref = pruning.prune_copy(gpt, 0.0).model       # a copy for torch to prune in place
    layers = pruning.prunable_layers(ref)
    prune.global_unstructured([(m, "weight") for _, m in layers], pruning_method=prune.L1Unstructured,
                              amount=sparsity)
    for name, m in layers:
        assert torch.equal(ours[name], m.weight_mask.bool()), name


@pytest.mark.parametrize("sparsity", [0.25, 0.7])
def test_per_layer_masks_equal_torch_l1_unstructured(gpt, sparsity):
    ours = pruning.magnitude_masks(gpt, sparsity, "layer")
    ref = pruning.prune_copy(gpt, 0.0).model
    for name, m in pruning.prunable_layers(ref):
        prune.l1_unstructured(m, "weight", amount=sparsity)
        assert torch.equal(ours[name], m.weight_mask.bool()), name


def test_prune_copy_prunes_the_copy_only(gpt):
    before = models.state_fingerprint(gpt)
    p = pruning.prune_copy(gpt, 0.6, "layer")
    assert models.state_fingerprint(gpt) == before
    assert p.model is not gpt and p.achieved == pytest.approx(0.6, abs=1e-3)
    for row in p.per_layer:
        assert row["sparsity"] == pytest.approx(0.6, abs=1e-3)
    zeros = sum(int((m.weight == 0).sum()) for _, m in pruning.prunable_layers(p.model))
    assert zeros == sum(r["zeros"] for r in p.per_layer)
    # embeddings untouched
    assert torch.equal(p.model.transformer.wte.weight, gpt.transformer.wte.weight)
    with pytest.raises(ValueError):
        pruning.magnitude_masks(gpt, 1.5)
    with pytest.raises(ValueError):
        pruning.magnitude_masks(gpt, 0.5, "random")


def test_global_threshold_is_one_value_across_layers(gpt):
    masks = pruning.magnitude_masks(gpt, 0.5, "global")
    layers = dict(pruning.prunable_layers(gpt))
    kept_min = min(float(layers[n].weight.abs()[m].min()) for n, m in masks.items())
    pruned_max = max(float(layers[n].weight.abs()[~m].max()) for n, m in masks.items() if (~m).any())
    assert pruned_max <= kept_min


def test_curve_and_next_token(gpt):
    ids = torch.arange(400) % 128
    rows = pruning.sparsity_curve(gpt, ids, [0.0, 0.5, 0.99], "global", block=32, max_blocks=4)
    assert [r["sparsity"] for r in rows] == [0.0, 0.5, 0.99]
    assert rows[0]["achieved"] == 0.0 and rows[-1]["achieved"] == pytest.approx(0.99, abs=1e-3)
    tok = models.load_gpt2_tokenizer()
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_layer=1, n_embd=16, n_head=2)).eval()
    same = pruning.next_token_change(m, pruning.prune_copy(m, 0.0).model, tok, "Hello world", 5)
    assert same.kl == pytest.approx(0.0, abs=1e-6) and same.same_top1 and same.dense == pytest.approx(same.pruned)
    changed = pruning.next_token_change(m, pruning.prune_copy(m, 0.9).model, tok, "Hello world", 5)
    assert changed.kl > 0 and len(changed.tokens) == 5


def test_storage_arithmetic():
    s = pruning.storage_mb(1_000_000, 0.5)
    assert s == {"dense fp32": 4.0, "dense int8": 1.0, "sparse fp32 (CSR)": 4.0}
    assert pruning.storage_mb(1_000_000, 0.9)["sparse fp32 (CSR)"] == pytest.approx(0.8)


def test_compare_speed_returns_two_positive_medians(gpt):
    td, tp = pruning.compare_speed(gpt, pruning.prune_copy(gpt, 0.9).model, block=16, repeats=3)
    assert td > 0 and tp > 0
