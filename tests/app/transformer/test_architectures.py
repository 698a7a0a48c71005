"""AppTest: the three families' masks drawn for the learner's sentence, and the task picker."""
import json

from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_architectures.py"


def _chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)).proto.spec)


def test_masks_follow_the_sentence():
    at = open_page(PAGE, timeout=60)
    at.text_input(key="architectures.text").input("one two three four").run()
    at.text_input(key="architectures.target").input("un deux").run()
    assert_no_exception(at)
    dec = _chart(at, "architectures.dec")["data"][0]["text"]
    assert dec == [["✓", "", "", ""], ["✓", "✓", "", ""], ["✓", "✓", "✓", ""], ["✓", "✓", "✓", "✓"]]
    assert all(all(c == "✓" for c in row) for row in _chart(at, "architectures.enc")["data"][0]["text"])
    cross = _chart(at, "architectures.cross")["data"][0]["text"]
    assert len(cross) == 2 and len(cross[0]) == 4
    t = texts(at)
    assert "16 of 16 cells allowed" in t and "10 of 16 cells allowed" in t and "Cross-attention is 2 × 4" in t


def test_task_picker_and_odd_input():
    at = open_page(PAGE, timeout=60)
    at.selectbox(key="architectures.task").set_value("translation").run()
    assert "Encoder-decoder (sequence-to-sequence)" in texts(at)
    at.selectbox(key="architectures.task").set_value("sentiment analysis").run()
    assert "**Encoder-only (autoencoding)**" in texts(at)
    at.text_input(key="architectures.text").input("<script>x</script> 猫 🐱").run()
    assert_no_exception(at)
    ticks = _chart(at, "architectures.enc")["layout"]["xaxis"]["ticktext"]
    assert "&lt;" in ticks and "<" not in ticks and "猫" in ticks
    at.text_input(key="architectures.text").input("").run()
    assert "Type some sentence" in texts(at)
