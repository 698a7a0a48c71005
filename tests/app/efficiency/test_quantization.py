"""AppTest: bit layouts, the memory calculator and the real quantization of the tiny GPT."""
from lessons.efficiency import quantization as qz
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_quantization.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_typed_number_shows_its_bits():
    at = open_page(PAGE, timeout=60)
    at.text_input(key="quantization.number").input("0.1").run()
    assert_no_exception(at)
    df = at.dataframe[0].value
    bf16 = df[df["format"] == "bf16"].iloc[0]
    assert bf16["stored value"] == repr(qz.float_layout(0.1, "bf16").stored) == "0.10009765625"
    assert bf16["bits s/e/m"] == "1/8/7"
    at.text_input(key="quantization.number").input("70000").run()
    df = at.dataframe[0].value
    assert df[df["format"] == "fp16"].iloc[0]["kind"] == "inf"          # fp16 overflows
    assert df[df["format"] == "bf16"].iloc[0]["stored value"] == "70144.0"
    at.number_input(key="quantization.absmax").set_value(100.0).run()
    at.text_input(key="quantization.number").input("0.3").run()
    df = at.dataframe[0].value
    assert df[df["format"] == "int8"].iloc[0]["kind"] == "q = 0"


def test_bad_number_gives_a_message():
    at = open_page(PAGE, timeout=60)
    for bad in ("", "abc", "<script>", "🙂"):
        at.text_input(key="quantization.number").input(bad).run()
        assert_no_exception(at)
        assert "Type a number" in texts(at)


def test_memory_calculator_rule_of_thumb():
    at = open_page(PAGE, timeout=60)          # default: 1B parameters in fp32
    assert _metric(at, "Inference: weights in fp32") == "4.00 GB"
    assert _metric(at, "Full training (fp32 + Adam)") == "24.00 GB"
    assert _metric(at, "Training / fp32 weights") == "6x"
    at.selectbox(key="quantization.preset").set_value("GPT-3 175B").run()
    at.radio(key="quantization.fmt").set_value("bf16").run()
    assert _metric(at, "Inference: weights in bf16") == "350.00 GB"


def test_quantizing_the_tiny_gpt():
    at = open_page(PAGE, timeout=300)
    at.slider(key="quantization.tokens").set_value(128).run()
    at.button(key="quantization.run").click().run()
    assert_no_exception(at)
    df = at.dataframe[-1].value
    assert list(df["format"]) == ["fp32", "bf16", "fp16", "int8"]
    sizes = dict(zip(df["format"], df["size (MB)"]))
    assert sizes["bf16"] == sizes["fp16"] and abs(sizes["bf16"] * 2 - sizes["fp32"]) < 0.01
    assert sizes["int8"] < 0.3 * sizes["fp32"]
    assert df.iloc[0]["Δ perplexity"] == "+0.000 %" and df.iloc[0]["same top-1 token"] == "100.0%"


def test_more_tokens_than_the_tiny_gpts_window_are_measured_on_its_window():
    """Found by bench/classroom.py with 60 learners: the tiny GPT at 512 evaluation tokens indexed past
    its 256 position embeddings (IndexError on the page). It is measured on its window, and says so."""
    from lessons import models

    window = models.load_tiny_gpt("cpu").model.config.n_positions
    at = open_page(PAGE, timeout=300)
    at.slider(key="quantization.tokens").set_value(512).run()
    at.button(key="quantization.run").click().run()
    assert_no_exception(at)
    assert window < 512
    shown = texts(at)
    assert f"reads at most {window} tokens at a time" in shown and f"the first {window} of the 512" in shown
    assert f"{window} tokens of the held-out plays" in shown
    at.slider(key="quantization.tokens").set_value(128).run()
    at.button(key="quantization.run").click().run()
    assert "reads at most" not in texts(at)                     # within the window: no note
