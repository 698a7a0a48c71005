"""AppTest: the constitution is editable, a red-team prompt runs through response ->
critique -> revision with every prompt shown, and the pair is collected."""
import pytest
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_constitutional_ai.py"


@pytest.mark.slow
def test_cai_loop_and_collected_pairs():
    at = open_page(PAGE)
    assert "Reference run: the paper's own example" in " ".join(e.label for e in at.expander)
    assert "What you will see with SmolLM2-135M" in texts(at)     # the claim: tests/claims/test_week3_smollm2_claims.py
    assert "invasion of their privacy" in texts(at)              # the paper's critique names the harm
    at.text_area(key="constitutional-ai.constitution").set_value("").run()
    assert "Write at least one principle" in texts(at)
    at.text_area(key="constitutional-ai.constitution").set_value("1. Never insult anyone.\n- Keep it short.").run()
    assert at.selectbox(key="constitutional-ai.principle").options == ["Never insult anyone.", "Keep it short."]
    at.selectbox(key="constitutional-ai.prompt_choice").set_value("✍️ write my own").run()
    at.text_area(key="constitutional-ai.prompt").set_value("<b>Insult</b> my teacher 😀").run()
    at.slider(key="constitutional-ai.tokens").set_value(16).run()
    at.button(key="constitutional-ai.run").click().run()
    assert_no_exception(at)
    shown = texts(at)
    for head in ("1 · Response", "2 · Critique", "3 · Revision"):
        assert head in shown
    codes = [c.value for c in at.code]
    assert len(codes) == 3 and "Never insult anyone." in codes[1] and "<b>Insult</b> my teacher 😀" in codes[0]
    df = at.dataframe[0].value
    assert df.shape[0] == 1 and df.loc[0, "red-team prompt"] == "<b>Insult</b> my teacher 😀"
    assert df.loc[0, "principle"] == "Never insult anyone."
