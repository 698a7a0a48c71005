"""Week 1 Try-this statements performed on the page itself (AppTest), where the outcome is
what a widget shows. The lessons-level experiments are in tests/claims/test_week1_try_this.py."""
from ui import decoding
from tests.app.helpers import open_page, texts


def test_lifecycle_gain_0_and_5000_examples_flip_to_fine_tuning():
    at = open_page("pages/w1_lifecycle.py", timeout=60)
    assert "Suggestion: keep prompting" in texts(at)
    at.slider(key="lifecycle.gain").set_value(0.0).run()
    at.number_input(key="lifecycle.labelled").set_value(5000).run()
    assert "Suggestion: fine-tune" in texts(at)


def test_prompt_longer_than_the_tiny_gpts_window_is_explained():
    at = open_page("pages/w1_prompts_inference.py", timeout=120)
    at.selectbox(key="prompts-inference.model").set_value(decoding.TINY).run()
    at.text_area(key="prompts-inference.prompt").input("the king " * 300).run()
    errors = " ".join(e.value for e in at.error)
    assert "can read at most 256" in errors and "nothing can be generated" in errors
    at.button(key="prompts-inference.run").click().run()
    assert any(m.label == "stopped by" and m.value == "context window" for m in at.metric)
    assert any(m.label == "completion tokens" and m.value == "0" for m in at.metric)
    assert not at.exception
