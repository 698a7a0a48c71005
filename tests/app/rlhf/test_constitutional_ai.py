"""AppTest: the constitution is editable, a red-team prompt runs through response ->
critique -> revision with every prompt shown, and the pair is collected."""
import pytest

from lessons import models
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


@pytest.mark.slow
def test_opens_with_the_recorded_run_of_the_default_prompt():
    """With SmolLM2 at the defaults (first red-team prompt, first principle, the token cap) the page
    shows the recorded response, critique and revision at once (lessons/rlhf/recorded_cai.py), labelled
    as recorded, without adding it to the collected pairs; another principle has no record."""
    from lessons.rlhf import constitutional_ai as cai
    from lessons.rlhf import recorded_cai
    from ui import loaders

    at = open_page(PAGE)
    if models.qwen_available():
        at.selectbox(key="constitutional-ai.model").set_value(loaders.SMOL_CHOICE).run()
    s = recorded_cai.settings(at.selectbox(key="constitutional-ai.prompt_choice").value)
    assert s == recorded_cai.settings(cai.RED_TEAM_PROMPTS[0], cai.DEFAULT_CONSTITUTION[0], cai.DEFAULT_TOKENS)
    rec = recorded_cai.recorded(recorded_cai.Lab(models.load_smollm2("cpu")), recorded_cai.KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    assert any("Recorded run" in m.value and rec.recorded in m.value for m in at.info)
    shown = [t.value for t in at.text]
    for stage in rec.result["stages"]:
        assert (stage["output"] or "(empty)") in shown
    assert [c.value.rstrip() for c in at.code] == [st["prompt_text"].rstrip() for st in rec.result["stages"]]
    assert "Run a red-team prompt to collect the first" in texts(at)        # a record is not a collected pair
    at.selectbox(key="constitutional-ai.prompt_choice").set_value(cai.RED_TEAM_PROMPTS[2]).run()
    assert any("Recorded run" in m.value for m in at.info)                  # every shipped prompt is recorded
    at.selectbox(key="constitutional-ai.principle").set_value(cai.DEFAULT_CONSTITUTION[1]).run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press **Run response" in " ".join(m.value for m in at.info) and at.button(key="constitutional-ai.run")
