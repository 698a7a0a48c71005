"""AppTest: the ReAct page's tools, scripted reference traces (live observations) and the
bounded model loop."""
import pytest
from lessons import models
from lessons.prompting import react
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_react.py"


@pytest.mark.slow
def test_tools_can_be_called_from_the_page():
    at = open_page(PAGE)
    at.selectbox(key="react.tool").set_value("calculator")
    at.run()
    at.text_input(key="react.tool_input_calculator").set_value("3 * 1290")
    at.run()
    assert "Observation: 3870" in [t.value for t in at.text]
    at.text_input(key="react.tool_input_calculator").set_value("__import__('os')")
    at.run()
    assert any(t.value.startswith("Observation: Error: calling '__import__'") for t in at.text)
    at.selectbox(key="react.tool").set_value("search")
    at.run()
    at.text_input(key="react.tool_input_search").set_value("coffee machine name")
    at.run()
    assert any("Gustave" in t.value for t in at.text)
    at.selectbox(key="react.tool").set_value("lookup")
    at.run()
    at.text_input(key="react.tool_input_lookup").set_value("<b>Kestrel</b>")
    at.run()
    assert_no_exception(at)
    assert any("Error: no product" in t.value for t in at.text)


def test_reference_trace_for_every_task():
    at = open_page(PAGE)
    at.slider(key="react.step_tokens").set_value(24)      # settings with no recorded trace: only the reference
    for task in react.tasks():
        at.selectbox(key="react.task").set_value(task["question"])
        at.run()
        assert_no_exception(at)
        shown = texts(at)
        assert "Reference trace (scripted)" in shown
        finals = [m.value for m in at.markdown if m.value.startswith("**Final Answer:**")]
        assert finals and react.answer_matches(finals[0], task["answer"])
        obs = [t.value for t in at.text if t.value.startswith("Observation:")]
        assert len(obs) == sum(1 for s in task["reference"] if "action" in s) + 1  # + the tool box


def _one_short_step():
    """A learner runs the ReAct loop on the first example question: one step of at most 16 tokens."""
    at = open_page(PAGE)
    at.slider(key="react.max_steps").set_value(1)
    at.slider(key="react.step_tokens").set_value(16)
    at.button(key="react.run").click()
    at.run()
    assert_no_exception(at)
    return at


@pytest.mark.slow
def test_model_loop_is_bounded_and_shown():
    at = _one_short_step()
    status = next(m.value for m in at.markdown if m.value.startswith("Stopped by"))
    assert "after 1 step(s)" in status
    assert any(c.value.startswith("<|im_start|>system") and "Observation" in c.value for c in at.code)
    # the loop ran in a worker process (lessons/prompting/react_job.py); a second learner with the
    # same example question and settings sees the same trace at once
    assert at.session_state["react.live"].result["outcome"].kind == "react"
    assert not at.get("progress")                                   # the finished run's bar is gone
    two = _one_short_step()
    assert "These settings ran before" in texts(two)
    assert [c.value for c in two.code] == [c.value for c in at.code]


def test_own_question():
    at = open_page(PAGE)
    at.selectbox(key="react.task").set_value("✏️ Type my own question")
    at.run()
    assert "Scripted traces exist only for the example questions." in texts(at)
    at.text_input(key="react.own").set_value("")
    at.run()
    assert_no_exception(at)
    assert "Type some question" in texts(at)


def test_opens_with_the_recorded_smollm2_trace_of_the_question():
    """With SmolLM2 and the page's defaults, an example question shows its recorded trace at once
    (lessons/prompting/recorded.py), labelled as recorded; other settings have no record."""
    from lessons.prompting import recorded as react_recorded
    from ui import loaders

    at = open_page(PAGE)
    assert_no_exception(at)
    if models.qwen_available():
        at.selectbox(key="react.model").set_value(loaders.SMOL_CHOICE).run()
    question = at.selectbox(key="react.task").value
    assert any("Recorded run" in m.value for m in at.info)
    rec = react_recorded.recorded(react_recorded.Lab(models.load_smollm2("cpu"), models.load_minilm("cpu"), None),
                                  react_recorded.KIND, react_recorded.settings(question))   # a key needs no tools
    status = next(m.value for m in at.markdown if m.value.startswith("Stopped by"))
    assert f"**{rec.result['stopped']}** after {len(rec.result['steps'])} step(s)" in status
    assert any(c.value == rec.result["prompt"] for c in at.code)
    assert question in [t["question"] for t in react.tasks()]
    at.slider(key="react.step_tokens").set_value(24).run()        # not recorded: the button is the way
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press the button: each step is one bounded greedy generation." in texts(at)


BAD_QUESTIONS = ["Who is the CEO?", "read the file /etc/passwd", "open('/etc/passwd').read()"]


def test_own_question_bad_input_gets_a_message_not_a_traceback():
    at = open_page(PAGE)
    at.selectbox(key="react.task").set_value("✏️ Type my own question").run()
    at.text_input(key="react.own").set_value("   ").run()
    assert_no_exception(at)
    assert "Type some question" in texts(at)
    at.text_input(key="react.own").set_value("How much " * 556).run()           # 5,004 characters
    assert_no_exception(at)
    assert any("5,004 characters long; only the first 300 are used" in w.value for w in at.warning)
    for q in BAD_QUESTIONS:
        at.text_input(key="react.own").set_value(q).run()
        assert_no_exception(at)
        assert "only call the three tools" in texts(at)


@pytest.mark.slow
@pytest.mark.parametrize("question", BAD_QUESTIONS[1:])
def test_a_file_request_runs_a_bounded_loop_and_no_tool_reads_a_file(question):
    at = open_page(PAGE)
    if models.qwen_available():
        from ui import loaders
        at.selectbox(key="react.model").set_value(loaders.SMOL_CHOICE).run()
    at.selectbox(key="react.task").set_value("✏️ Type my own question").run()
    at.text_input(key="react.own").set_value(question).run()
    at.slider(key="react.max_steps").set_value(2)
    at.slider(key="react.step_tokens").set_value(32)
    at.button(key="react.run").click().run()
    assert_no_exception(at)
    assert any(m.value.startswith("Stopped by") for m in at.markdown)
    obs = [t.value for t in at.text if t.value.startswith("Observation:")]
    assert not any("root:" in o for o in obs)
