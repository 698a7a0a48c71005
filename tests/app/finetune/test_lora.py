"""AppTest: the LoRA counter and LoRA-by-hand page."""
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts


def metric(at, label_start):
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def test_one_matrix_counter_and_by_hand():
    at = open_page("pages/w2_lora.py")
    # course default: 512 x 64 at r = 8
    assert metric(at, "Full fine-tuning") == "32,768"
    assert metric(at, "LoRA r(d+k)") == "4,608"
    assert metric(at, "LoRA / full") == "14.06 %"
    at.number_input(key="lora.d").set_value(12288)
    at.number_input(key="lora.k").set_value(12288)
    at.slider(key="lora.r").set_value(4).run()
    assert_no_exception(at)
    assert metric(at, "LoRA r(d+k)") == "98,304"
    assert metric(at, "Reduction") == "1536.0×"
    # LoRA by hand: zero at init, merge and peft agree to float precision
    assert float(metric(at, "max |LoRA − W₀x| at init")) == 0.0
    assert float(metric(at, "max |merged − adapter|")) < 1e-5
    assert float(metric(at, "max |peft − ours|")) < 1e-5
    at.slider(key="lora.hand_r").set_value(1).run()
    assert "at most r = 1 are non-zero" in texts(at)


def test_real_model_counts_minilm_and_published():
    at = open_page("pages/w2_lora.py")
    at.selectbox(key="lora.model").set_value("all-MiniLM-L6-v2").run()
    assert_no_exception(at)
    # 6 layers x (query + value), 384 -> 384 each, r = 8
    assert metric(at, "Trainable (LoRA)") == f"{6 * 2 * 8 * (384 + 384):,}"
    at.select_slider(key="lora.model_r").set_value(4).run()
    assert metric(at, "Trainable (LoRA)") == f"{6 * 2 * 4 * (384 + 384):,}"
    at.selectbox(key="lora.model").set_value("Published architectures (from their dimensions)").run()
    assert_no_exception(at)
    assert "18,874,368" in texts(at)  # GPT-3 175B, r = 4 on W_q, W_v
    df = at.dataframe[0].value
    assert df.loc[df["model"] == "LLaMA-7B", "LoRA trainable"].item() == "2,097,152"


def test_tiny_gpt_counts_when_available():
    at = open_page("pages/w2_lora.py")
    if not models.tiny_gpt_available():
        assert at.selectbox(key="lora.model").value == "all-MiniLM-L6-v2"
        return
    assert metric(at, "Trainable (LoRA)") == f"{4 * 8 * (128 + 384):,}"  # c_attn, 4 layers, r = 8
    at.multiselect(key="lora.targets_0").select("c_fc").run()
    assert metric(at, "Trainable (LoRA)") == f"{4 * 8 * (128 + 384) + 4 * 8 * (128 + 512):,}"


def test_no_target_module_is_a_message_not_a_count():
    """peft refuses an empty target list; the page says so instead of showing 0 or a traceback."""
    at = open_page("pages/w2_lora.py")
    key = next(w.key for w in at.multiselect if "targets" in str(w.key))
    at.multiselect(key=key).set_value([]).run()
    assert_no_exception(at)
    assert any("Choose at least one target module" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label == "Trainable (LoRA)"]
