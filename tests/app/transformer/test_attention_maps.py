"""AppTest: the real attention-maps page for both models; widgets moved by key; values shown
are the model's own attentions."""

import pytest
from lessons.transformer import attention
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_attention_maps.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_minilm_layer_head_and_query_moves():
    at = open_page(PAGE)
    assert at.radio(key="attention-maps.model").value.startswith("all-MiniLM")
    assert "12 heads" in texts(at) and "encoder (bidirectional)" in texts(at)
    at.slider(key="attention-maps.layer").set_value(4).run()
    at.selectbox(key="attention-maps.head").set_value("head 7").run()
    assert_no_exception(at)
    assert "Layer 4, head 7" in at.get("plotly_chart")[0].proto.spec
    # bidirectional: weights above the diagonal are not zero; by-hand recompute matches
    assert float(_metric(at, "largest weight above")) > 0.01
    assert float(_metric(at, "max |by hand")) < 1e-4
    # the "attends to" bar shows the model's own row
    lm = models.load_minilm()
    run = attention.run_attention(lm, at.text_area(key="attention-maps.text").value)
    at.selectbox(key="attention-maps.query").set_value(3).run()
    row = run.attentions[4, 7, 3]
    assert f"{float(row.max()):.3f}" in texts(at)
    at.selectbox(key="attention-maps.head").set_value("average of all heads").run()
    assert f"{float(run.attentions[4, :, 3].mean(0).max()):.3f}" in texts(at)


@pytest.mark.slow
def test_smollm2_is_causal_with_gqa_and_long_text_is_cut():
    at = open_page(PAGE)
    at.radio(key="attention-maps.model").set_value("SmolLM2-135M-Instruct (decoder)").run()
    assert_no_exception(at)
    t = texts(at)
    assert "grouped-query attention" in t and "9 query heads" in t and "RoPE" in t
    assert _metric(at, "largest weight above") == "0.000"
    at.slider(key="attention-maps.layer").set_value(29).run()
    assert float(_metric(at, "max |by hand")) < 1e-3
    at.text_area(key="attention-maps.text").input("one two three four five six seven eight nine ten " * 12).run()
    assert_no_exception(at)
    assert "only the first 64 tokens are used" in texts(at)
    assert _metric(at, "tokens") == "64"


def test_empty_and_html_input():
    at = open_page(PAGE)
    at.text_area(key="attention-maps.text").input("   ").run()
    assert "Type some text" in texts(at)
    at.text_area(key="attention-maps.text").input("<script>alert(1)</script> 🐱").run()
    assert_no_exception(at)
    spec = at.get("plotly_chart")[0].proto.spec
    # MiniLM splits "<script>" into "<", "script", ">": each tick label is HTML-escaped
    assert '"&lt;","script","&gt;"' in spec and '"<"' not in spec
    assert "[UNK]" in spec  # the emoji is unknown to WordPiece
