"""lessons.transformer.architectures: mask patterns agree with torch's causal convention and the real
models' behaviour (MiniLM attends ahead, SmolLM2 never does)."""
import pytest
import torch
import torch.nn.functional as F

from lessons.transformer import architectures, attention
from lessons import models


def test_words_split_and_limit():
    assert architectures.words("The cat, sat!") == ["The", "cat", ",", "sat", "!"]
    assert len(architectures.words("a " * 100)) == architectures.MAX_WORDS


def test_mask_shapes_and_patterns():
    m = architectures.mask_patterns(["a", "b", "c"], ["x", "y"])
    assert m.encoder_self.all() and m.encoder_self.shape == (3, 3)
    assert m.decoder_self.tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert m.seq2seq_decoder.shape == (2, 2) and m.cross.shape == (2, 3) and m.cross.all()
    # the causal pattern is exactly what torch's is_causal applies
    q = k = v = torch.randn(1, 1, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=m.decoder_self),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_cross_attention_shape_with_torch():
    m = architectures.mask_patterns(["a", "b", "c", "d"], ["x", "y"])
    q = torch.randn(2, 8, dtype=torch.float64)       # 2 target tokens
    kv = torch.randn(4, 8, dtype=torch.float64)      # 4 source tokens
    out, w = attention.scaled_dot_product_attention(q, kv, kv, mask=m.cross)
    assert w.shape == (2, 4) and out.shape == (2, 8)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, kv, kv, attn_mask=m.cross))


@pytest.mark.slow
def test_real_models_follow_their_family_pattern():
    text = "The quick brown fox jumps over the lazy dog."
    enc = attention.run_attention(models.load_minilm(), text)
    dec = attention.run_attention(models.load_smollm2(), text)
    assert attention.upper_triangle_max(enc.attentions) > 0.1
    assert attention.upper_triangle_max(dec.attentions) == 0.0


def test_task_to_family():
    assert architectures.family_for("translation")["family"].startswith("Encoder-decoder")
    assert architectures.family_for("sentiment analysis")["family"].startswith("Encoder-only")
    assert architectures.family_for("chat assistant")["family"].startswith("Decoder-only")
