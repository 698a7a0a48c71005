"""AppTest: the tokens page shows real ids for three tokenizers, counts, and context fill."""
import json

from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_tokens.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


def test_hello_world_real_ids_and_counts():
    at = open_page(PAGE)
    at.text_area(key="tokens.text").input("Hello world").run()
    assert_no_exception(at)
    assert _metric(at, "GPT-2 BPE tokens") == "2"
    ids = _chart(at, "tokens.strip_GPT-2 BPE")["data"][2]["text"]
    assert ids == ["15496", "995"]
    assert _metric(at, "MiniLM WordPiece tokens") == "4"  # [CLS] hello world [SEP]
    smol_ids = models.load_smollm2().tokenizer("Hello world")["input_ids"]
    assert _chart(at, "tokens.strip_SmolLM2 BPE")["data"][2]["text"] == [str(i) for i in smol_ids]
    assert _metric(at, "characters") == "11" and _metric(at, "words") == "2"


def test_window_slider_changes_fill_and_overflow():
    at = open_page(PAGE)
    at.text_area(key="tokens.text").input("one two three four five six seven eight nine ten " * 10).run()
    at.select_slider(key="tokens.window").set_value(64).run()
    t = texts(at)
    assert "do **not** fit in 64" in t and "tokens would be cut" in t
    at.select_slider(key="tokens.window").set_value(8192).run()
    t = texts(at)
    assert "do **not** fit" not in t
    fill = _chart(at, "tokens.fill")["data"][0]["x"]
    gpt2_tokens = int(_metric(at, "GPT-2 BPE tokens"))
    assert abs(fill[0] - 100 * gpt2_tokens / 8192) < 1e-9


def test_emoji_non_latin_and_html_are_shown_literally():
    at = open_page(PAGE)
    at.text_area(key="tokens.text").input("<script>alert('x')</script> 東京 🤖").run()
    assert_no_exception(at)
    gpt2 = _chart(at, "tokens.strip_GPT-2 BPE")["data"][1]["text"]
    assert "&lt;" in gpt2 and "<" not in "".join(gpt2).replace("&lt;", "")  # escaped for plotly
    assert any(t.startswith("&lt;F0") or "&lt;F0 9F&gt;" in t for t in gpt2)  # emoji as bytes
    mini = _chart(at, "tokens.strip_MiniLM WordPiece")["data"][1]["text"]
    assert "[UNK]" in mini and "東" in mini
    assert "1 [UNK]" in texts(at)  # the caption under MiniLM counts them


def test_empty_text_message():
    at = open_page(PAGE)
    at.text_area(key="tokens.text").input("").run()
    assert "Type some text" in texts(at)
