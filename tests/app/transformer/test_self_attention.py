"""AppTest: self-attention by hand. Widgets moved by key; shown numbers equal torch's."""
import pytest
import json

import torch.nn.functional as F

from lessons.transformer import attention
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_self_attention.py"


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_defaults_match_torch_and_row_explained():
    at = open_page(PAGE, timeout=60)
    assert float(_metric(at, "max |ours − torch")) < 1e-6
    ex = attention.toy_example("the cat sat on the mat".split(), d_k=4, seed=0)
    at.selectbox(key="self-attention.query").set_value(1).run()
    w = ex.steps.weights[1]
    assert f"{float(w.max()):.3f}" == _metric(at, "largest weight in row 1")
    assert "Token **cat** may attend to 6 of 6 tokens" in texts(at)
    out = ", ".join(f"{float(v):.2f}" for v in F.scaled_dot_product_attention(ex.q, ex.k, ex.v)[1])
    assert out in texts(at)


@pytest.mark.slow
def test_causal_mask_scale_seed_and_dk():
    at = open_page(PAGE, timeout=60)
    at.toggle(key="self-attention.causal").set_value(True).run()
    at.selectbox(key="self-attention.query").set_value(0).run()
    assert _metric(at, "largest weight in row 0") == "1.000"  # first token sees only itself
    assert "may attend to 1 of 6 tokens" in texts(at)
    masked = _chart(at, "self-attention.masked")["data"][0]["text"]
    assert masked[0][1] == "−∞" and masked[1][0] != "−∞"  # above the diagonal: blocked
    at.slider(key="self-attention.dk").set_value(8).run()
    at.number_input(key="self-attention.seed").set_value(5).run()
    at.selectbox(key="self-attention.query").set_value(5).run()
    ex = attention.toy_example("the cat sat on the mat".split(), d_k=8, seed=5, causal=True)
    assert _metric(at, "largest weight in row 5") == f"{float(ex.steps.weights[5].max()):.3f}"
    std_scaled = float(_metric(at, "std of the scores"))
    at.toggle(key="self-attention.scale").set_value(False).run()
    std_raw = float(_metric(at, "std of the scores"))
    assert abs(std_raw / std_scaled - 8 ** 0.5) < 0.05  # dividing by sqrt(8) shrinks the spread
    assert float(_metric(at, "max |ours − torch")) < 1e-6


def test_word_count_limits_and_odd_input():
    at = open_page(PAGE, timeout=60)
    at.text_input(key="self-attention.words").input("hi there").run()
    assert "at least 3 words" in texts(at)
    at.text_input(key="self-attention.words").input("a b c d e f g h").run()
    assert "only the first 6 are used" in texts(at)
    at.text_input(key="self-attention.words").input("<script>x</script> 猫 🐱").run()
    assert_no_exception(at)
    ticks = _chart(at, "self-attention.Q")["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "&lt;script&gt;x&lt;/script&gt;" and ticks[1:] == ["猫", "🐱"]
