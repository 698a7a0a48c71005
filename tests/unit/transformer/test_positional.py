"""lessons.transformer.positional against transformers' own implementations (DistilBERT's sinusoidal
table, Llama's rotary embedding used by SmolLM2) and the models' tables."""
import math

import pytest
import torch
from transformers import LlamaConfig
from transformers.models.distilbert.modeling_distilbert import _create_sinusoidal_embeddings
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from lessons import models
from lessons.transformer import positional


@pytest.mark.parametrize("length,d", [(50, 16), (128, 64), (7, 2)])
def test_sinusoidal_equals_transformers(length, d):
    ref = torch.empty(length, d)
    _create_sinusoidal_embeddings(length, d, ref)
    torch.testing.assert_close(positional.sinusoidal(length, d), ref, atol=1e-6, rtol=0)
    assert float(positional.sinusoidal(length, d)[3, 0]) == pytest.approx(math.sin(3))


def test_sinusoidal_bad_sizes():
    with pytest.raises(ValueError):
        positional.sinusoidal(10, 7)


def test_position_similarity_is_highest_nearby():
    sim = positional.cosine_between_positions(positional.sinusoidal(64, 128))
    torch.testing.assert_close(sim.diagonal(), torch.ones(64), atol=1e-5, rtol=0)
    assert sim[10, 11] > sim[10, 30]


def test_rope_equals_llama_rotary_embedding():
    cfg = LlamaConfig(hidden_size=576, num_attention_heads=9, head_dim=64,
                      rope_parameters={"rope_theta": 100000.0, "rope_type": "default"})
    rot = LlamaRotaryEmbedding(cfg)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 12, 64, generator=g)              # (B, heads, T, d)
    pos = torch.arange(12)[None]
    cos, sin = rot(x, pos)
    ref_q, _ = apply_rotary_pos_emb(x, x, cos, sin)
    ours = positional.rope_rotate(x[0, 0], torch.arange(12), base=100000.0)
    torch.testing.assert_close(ours, ref_q[0, 0], atol=1e-5, rtol=1e-5)


def test_rope_uses_smollm2_settings():
    smol = models.load_smollm2()
    rot = smol.model.model.rotary_emb
    x = torch.zeros(1, 5, 64)
    cos, sin = rot(x, torch.arange(5)[None])
    ours_cos, ours_sin = positional.rope_cos_sin(torch.arange(5), 64, smol.model.config.rope_parameters["rope_theta"])
    torch.testing.assert_close(ours_cos.float(), cos[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(ours_sin.float(), sin[0], atol=1e-5, rtol=0)


def test_rope_scores_depend_only_on_offset():
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(64, generator=g), torch.randn(64, generator=g)
    s = positional.rope_scores(q, k, 20, 10000.0)
    for off in (-3, 0, 5):
        diag = s.diagonal(off)
        assert float(diag.max() - diag.min()) < 1e-4
    track = positional.rope_pair_track(0, 64, 10000.0, 4)
    torch.testing.assert_close(track.norm(dim=-1), torch.ones(4))  # a rotation keeps length
    torch.testing.assert_close(track[1], torch.tensor([math.cos(1.0), math.sin(1.0)]))


def test_minilm_learned_positions():
    lm = models.load_minilm()
    pos = positional.learned_positions(lm, 600)
    assert pos.shape == (512, 384)
    torch.testing.assert_close(pos, lm.model.embeddings.position_embeddings.weight.detach())
