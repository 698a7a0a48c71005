"""lessons.transformer.attention: the by-hand function equals torch's SDPA; what the page plots for real
models equals the model's own output_attentions; the by-hand recomputation of a layer
(projections, RoPE, grouped-query heads) reproduces it."""
import pytest
import torch
import torch.nn.functional as F

from lessons.transformer import attention
from lessons.core.tensors import causal_mask

TEXT = "The animal didn't cross the street because it was too tired."




def _qkv(b=2, h=3, t=5, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, h, t, d, generator=g, dtype=torch.float64) for _ in range(3)]


def test_sdpa_equals_torch_without_mask():
    q, k, v = _qkv()
    out, w = attention.scaled_dot_product_attention(q, k, v)
    ref = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64), atol=1e-9, rtol=0)


def test_sdpa_equals_torch_with_causal_mask():
    q, k, v = _qkv(seed=1)
    mask = causal_mask(5)
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-6, rtol=0)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6, rtol=0)
    # nothing above the diagonal; the first token can only attend to itself
    assert attention.upper_triangle_max(w) == 0.0
    assert torch.all(w[..., 0, 0] == 1)


def test_sdpa_float32_and_float_mask_match_torch():
    q, k, v = (t.float() for t in _qkv(t=4, d=6, seed=2))
    add = torch.tensor([0.0, -1e9, 0.5, 0.0]).expand(4, 4)  # additive mask: block key 1
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=add)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=add), atol=1e-6, rtol=0)
    assert float(w[..., 1].max()) == 0.0
    # boolean padding-style mask: False = blocked
    keep = torch.tensor([True, True, False, True]).expand(4, 4)
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=keep)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep), atol=1e-6, rtol=0)
    assert float(w[..., 2].max()) == 0.0


def test_fully_masked_row_is_zero_like_torch_not_nan():
    """torch's SDPA (safe softmax) returns 0 for a query row whose every key is blocked."""
    q, k, v = _qkv(t=4, d=6, seed=4)
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[2] = False                                   # query 2 may see nothing
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=keep)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert not torch.isnan(out).any() and not torch.isnan(w).any()
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    assert torch.all(w[..., 2, :] == 0) and torch.all(out[..., 2, :] == 0)
    torch.testing.assert_close(w[..., [0, 1, 3], :].sum(-1), torch.ones(2, 3, 3, dtype=torch.float64))
    add = torch.zeros(4, 4, dtype=torch.float64)
    add[1] = float("-inf")                            # the same with an additive -inf mask
    out, w = attention.scaled_dot_product_attention(q, k, v, mask=add)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=add), atol=1e-6, rtol=0)
    assert torch.all(out[..., 1, :] == 0)


def test_attention_steps_intermediates_by_definition():
    q, k, v = _qkv(b=1, h=1, t=3, d=4, seed=3)
    s = attention.attention_steps(q, k, v, causal_mask(3))
    torch.testing.assert_close(s.scaled, q @ k.transpose(-2, -1) / 2.0)  # sqrt(4) = 2
    assert torch.isinf(s.masked[0, 0, 0, 1]) and s.masked[0, 0, 0, 1] < 0
    torch.testing.assert_close(s.weights, torch.softmax(s.masked, -1))
    torch.testing.assert_close(s.output, s.weights @ v)


def test_toy_example_is_seeded_and_consistent():
    a = attention.toy_example(["the", "cat", "sat"], d_k=4, seed=7, causal=True)
    b = attention.toy_example(["the", "cat", "sat"], d_k=4, seed=7, causal=True)
    c = attention.toy_example(["the", "cat", "sat"], d_k=4, seed=8, causal=True)
    torch.testing.assert_close(a.steps.weights, b.steps.weights)
    assert not torch.allclose(a.q, c.q)
    assert a.q.shape == (3, 4) and a.steps.weights.shape == (3, 3)
    ref = F.scaled_dot_product_attention(a.q, a.k, a.v, is_causal=True)
    torch.testing.assert_close(a.steps.output, ref, atol=1e-6, rtol=0)
    unscaled = attention.toy_example(["the", "cat", "sat"], d_k=4, seed=7, scale=False)
    torch.testing.assert_close(unscaled.steps.scaled, unscaled.q @ unscaled.k.T)
    with pytest.raises(ValueError):
        attention.toy_example(["a"] * 7)
    with pytest.raises(ValueError):
        attention.toy_example(["a"], d_k=9)


def _own(lm, ids):
    x = torch.tensor([ids])
    with torch.no_grad():
        return torch.stack(lm.model(input_ids=x, output_attentions=True).attentions)[:, 0]


def test_minilm_run_equals_output_attentions_and_by_hand(minilm):
    run = attention.run_attention(minilm, TEXT)
    assert run.labels[0] == "[CLS]" and run.labels[-1] == "[SEP]"
    assert run.attentions.shape == (6, 12, len(run.ids), len(run.ids))
    torch.testing.assert_close(run.attentions, _own(minilm, run.ids), atol=1e-6, rtol=0)
    assert attention.upper_triangle_max(run.attentions) > 0.05  # bidirectional: it looks ahead
    for layer in (0, 5):
        torch.testing.assert_close(attention.recompute_layer(minilm, run, layer), run.attentions[layer], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_smollm2_run_equals_output_attentions_causal_gqa_rope(smol):
    run = attention.run_attention(smol, TEXT)
    assert (run.n_heads, run.n_kv_heads, run.head_dim, run.n_layers) == (9, 3, 64, 30)
    assert [run.kv_head(h) for h in range(9)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    torch.testing.assert_close(run.attentions, _own(smol, run.ids), atol=1e-6, rtol=0)
    assert attention.upper_triangle_max(run.attentions) == 0.0  # causal: nothing above the diagonal
    for layer in (0, 29):
        torch.testing.assert_close(attention.recompute_layer(smol, run, layer), run.attentions[layer], atol=1e-4, rtol=0)
    avg = attention.head_average(run, 3)
    torch.testing.assert_close(avg, run.attentions[3].mean(0))
    torch.testing.assert_close(attention.attends_to(run, 3, None, 5), avg[5])
    torch.testing.assert_close(attention.attends_to(run, 3, 2, 5), run.attentions[3, 2, 5])


@pytest.mark.slow
def test_long_text_is_cut_at_the_stated_limit(minilm, smol):
    long = "word " * 200
    for lm in (minilm, smol):
        run = attention.run_attention(lm, long, max_tokens=attention.MAX_TOKENS)
        assert run.truncated and run.n_tokens_full > attention.MAX_TOKENS
        assert len(run.ids) == attention.MAX_TOKENS == run.attentions.shape[-1]
    assert attention.run_attention(minilm, long).labels[-1] == "[SEP]"


@pytest.mark.slow
def test_emoji_and_non_latin_text(minilm, smol):
    run = attention.run_attention(smol, "猫が好き 🐱")
    assert any(l.startswith("<") for l in run.labels)  # byte tokens of a split character
    run = attention.run_attention(minilm, "猫が好き 🐱")
    assert "[UNK]" in run.labels


def test_torch_difference_is_tiny_for_toy_examples():
    for causal in (False, True):
        for scale in (False, True):
            ex = attention.toy_example(["a", "b", "c", "d", "e"], d_k=8, seed=3, causal=causal, scale=scale)
            assert attention.torch_difference(ex) < 1e-6
