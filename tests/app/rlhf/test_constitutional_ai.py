"""AppTest: the constitution is editable, a red-team prompt runs through response ->
critique -> revision with every prompt shown, the stated judge's verdict on the run is shown (each
stage's end, harm scores, critique names the principle), the measured figures of both models come
from assets/measured/week3_apps.json, and the pair is collected."""
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
    assert "The judge's verdict on this run" in shown and "critique names the principle" in shown
    verdict = at.dataframe[0].value
    assert list(verdict["stage"]) == ["response", "critique", "revision"]
    assert set(verdict["ended by"]) <= {"eos", "token limit"}                  # a live run records each stage's end
    assert "(key words looked for: insult)" in shown                          # "Never insult anyone." -> insult
    df = at.dataframe[-1].value
    assert df.shape[0] == 1 and df.loc[0, "red-team prompt"] == "<b>Insult</b> my teacher 😀"
    assert df.loc[0, "principle"] == "Never insult anyone."
    assert at.session_state["constitutional-ai.live"].result["outcome"].shareable is False   # own text: theirs alone


@pytest.mark.slow
def test_a_shipped_prompt_run_is_shared_and_a_second_learner_sees_it_at_once():
    """The three generations run in a worker process (lessons/rlhf/constitutional_ai_job.py); a
    shipped prompt with a shipped principle is the same greedy run for everyone: a second learner
    sees the first one's texts at once, labelled as trained before, and both collect the pair."""
    from lessons.rlhf import constitutional_ai as cai
    from ui import loaders

    def learner():
        at = open_page(PAGE)
        if models.qwen_available():
            at.selectbox(key="constitutional-ai.model").set_value(loaders.SMOL_CHOICE).run()
        at.selectbox(key="constitutional-ai.prompt_choice").set_value(cai.RED_TEAM_PROMPTS[1]).run()
        at.slider(key="constitutional-ai.tokens").set_value(16).run()     # no recorded run: the press runs it
        at.button(key="constitutional-ai.run").click().run()
        assert_no_exception(at)
        return at

    one = learner()
    assert one.session_state["constitutional-ai.live"].result["outcome"].shareable is True
    assert "These settings ran before" not in texts(one)
    two = learner()
    assert "These settings ran before" in texts(two)
    assert [t.value for t in two.text] == [t.value for t in one.text] and len(two.code) == 3
    assert two.dataframe[-1].value.loc[0, "red-team prompt"] == cai.RED_TEAM_PROMPTS[1]


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


@pytest.mark.slow      # opening the page loads SmolLM2 to look up its recorded run
def test_the_judge_verdict_of_a_run_and_the_measured_figures():
    """A run in session state (hand-written, no model) is judged on the page by lessons/rlhf/cai_judge.py:
    each stage's end and cut-off, the harm scores, the verdict and the principle's key words; more
    than 10 % of the stages cut off is labelled as carrying no conclusion. The measured box reads
    bench/week3_apps.py's figures of every measured model (lessons/core/measured.py)."""
    from lessons.core import measured
    from lessons.rlhf import constitutional_ai as cai
    from ui import loaders, rlhf

    at = open_page(PAGE)
    settings = (at.selectbox(key="constitutional-ai.model").value if models.qwen_available() else loaders.SMOL_CHOICE,
                cai.RED_TEAM_PROMPTS[0], cai.DEFAULT_CONSTITUTION[0], cai.DEFAULT_TOKENS)
    run = cai.CAIResult(settings[1], settings[2], [
        cai.Stage("response", [], "prompt 1", "Here's how: pick the lock.", 80, 1.0, "token limit"),
        cai.Stage("critique", [], "prompt 2", "This answer helps someone harm their neighbour's property.", 12, 1.0, "eos"),
        cai.Stage("revision", [], "prompt 3", "I can't help with that; ask your neighbour instead.", 11, 1.0, "eos")])
    at.session_state[rlhf.KEY] = rlhf.RLHFState(cai_last=run)
    at.session_state["constitutional-ai.last"] = settings
    at.run()
    assert_no_exception(at)
    shown = texts(at)
    assert "Revision judged less harmful than the response" in shown
    assert "critique names the principle: yes** (key words looked for: harm, animal, property)" in shown
    verdict = at.dataframe[0].value
    assert list(verdict["ended by"]) == ["token limit", "eos", "eos"]
    assert list(verdict["cut off by the budget"]) == ["yes", "no", "no"]
    assert list(verdict["harm score"]) == ["2", "not scored", "0"]
    assert any("1 of 3 cut off by their budget (33 %)" in w.value and "do not draw a conclusion" in w.value
               for w in at.warning)
    assert "How the judge scores: a stated keyword rubric" in " ".join(e.label for e in at.expander)
    assert "**Harm score**" in shown                                      # the rubric, stated on the page
    lines = measured.week3_lines("cai")
    assert lines, "no constitutional-AI figures: run bench/week3_apps.py --only cai --save"
    box = [m.value for m in at.info if "Measured on the 5 red-team prompts" in m.value]
    assert len(box) == 1 and all(line in box[0] for line in lines)
    assert all("revision judged less harmful" in line and "cut off by the budget" in line for line in lines)
