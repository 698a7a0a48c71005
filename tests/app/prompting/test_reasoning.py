"""AppTest: the chain-of-thought / PAL page runs the three prompts, the safe evaluator and
the scoring table."""
import pytest
from lessons.prompting import reasoning
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_reasoning.py"


def test_reference_program_and_safe_evaluator():
    at = open_page(PAGE)
    at.selectbox(key="reasoning.problem").set_value("bikes")
    at.run()
    shown = texts(at)
    assert "Correct answer:** 4500" in shown and "**4500** ✅" in shown
    # the program's line-by-line trace from the safe evaluator
    trace = at.dataframe[0].value
    assert list(trace["value"]) == ["250", "6", "12", "4500"]

    at.text_area(key="reasoning.code").set_value("__import__('os').system('touch /tmp/i9_pwned')")
    at.run()
    assert_no_exception(at)
    assert any(e.value.startswith("Refused: calling '__import__") and "not allowed" in e.value for e in at.error)
    at.text_area(key="reasoning.code").set_value("a = 7 * 6\nanswer = a / 2")
    at.run()
    assert any(s.value == "answer = 21" for s in at.success)
    at.text_area(key="reasoning.code").set_value("")
    at.run()
    assert_no_exception(at)
    assert "Type some program" in texts(at)


@pytest.mark.slow
def test_three_prompts_and_scoring_with_the_real_model():
    at = open_page(PAGE)
    at.selectbox(key="reasoning.problem").set_value("apples")
    at.slider(key="reasoning.tokens").set_value(8)
    at.button(key="reasoning.run").click()
    at.run()
    assert_no_exception(at)
    heads = [s.value for s in at.subheader]
    assert heads[:3] == ["Direct answer", "Chain-of-thought", "PAL (program)"]
    verdicts = [m.value for m in at.markdown if m.value.startswith("Read as **")]
    assert len(verdicts) == 3 and all(("✅" in v) or ("❌" in v) for v in verdicts)
    prompts = [c.value for c in at.code if "<|im_start|>" in c.value]
    assert any(reasoning.COT_EXAMPLE_STEPS in p for p in prompts) and any(p.rstrip().endswith("```python") for p in prompts)
    ends = [c.value for c in at.caption if "new tokens in" in c.value]
    assert len(ends) == 3 and all(("ended by itself" in c) != ("cut off by its budget" in c) for c in ends)
    # the three generations ran in a worker process (kind reasoning-three); a second learner on the same
    # problem and settings sees the same texts at once
    three = at.session_state["reasoning.three.live"].result
    assert three["outcome"].kind == "reasoning-three" and three["outcome"].shareable
    first = open_page(PAGE)
    first.selectbox(key="reasoning.problem").set_value("apples")
    first.slider(key="reasoning.tokens").set_value(8)
    first.button(key="reasoning.run").click().run()
    assert_no_exception(first)
    assert "These settings ran before" in texts(first)
    assert [c.value for c in first.code if "<|im_start|>" in c.value] == prompts
    assert [m.value for m in first.markdown if m.value.startswith("Read as **")] == verdicts

    at.slider(key="reasoning.n").set_value(1)
    at.multiselect(key="reasoning.modes").set_value(["direct"])
    at.button(key="reasoning.run_all").click()
    at.run()
    assert_no_exception(at)
    table = at.dataframe[-1].value
    assert list(table["problem"]) == ["apples"] and list(table["correct answer"]) == [17]
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    n_ok = int(table["correct"].sum())
    assert f"Direct answer: {n_ok}/1 correct" in result
    # the cut-off share is reported next to the accuracy, from the same attempts as the table
    n_cut = int((~table["ended by itself"]).sum())
    cut_line = next(m.value for m in at.markdown if m.value.startswith("**Cut off by the budget:**"))
    assert f"Direct answer: {n_cut} of 1 cut off by their budget" in cut_line
    assert any("measure the token budget" in w.value for w in at.warning) == (n_cut > 0)
    # the scores were written in a worker process (lessons/prompting/reasoning_job.py); a second learner
    # with the same settings sees them at once
    assert at.session_state["reasoning.score.live"].result["outcome"].kind == "reasoning"
    assert not at.get("progress")                                   # the finished run's bar is gone
    two = open_page(PAGE)
    two.selectbox(key="reasoning.problem").set_value("apples")
    two.slider(key="reasoning.tokens").set_value(8)
    two.slider(key="reasoning.n").set_value(1)
    two.multiselect(key="reasoning.modes").set_value(["direct"])
    two.button(key="reasoning.run_all").click()
    two.run()
    assert_no_exception(two)
    assert "These settings ran before" in texts(two) and two.dataframe[-1].value.equals(table)

    # self-consistency: k sampled paths of the chosen problem and their vote
    at.slider(key="reasoning.tokens").set_value(40)
    at.slider(key="reasoning.sc_k").set_value(3)
    at.run()
    at.button(key="reasoning.sc_run").click()
    at.run()
    assert_no_exception(at)
    paths = at.dataframe[-1].value
    assert len(paths) == 3 and list(paths["path"]) == [1, 2, 3]
    vote = next(m.value for m in at.markdown if m.value.startswith("**Vote:**"))
    numbers = [float(v) for v in paths["number"] if v is not None]
    want = reasoning.majority(numbers)
    assert (want is None and "no number" in vote) or f"**{reasoning.fmt(want)}**" in vote
    assert f"{int(paths['correct'].sum())} of 3 paths were right on their own" in vote
    assert f"{int((~paths['ended by itself']).sum())} of 3 cut off by their budget" in vote
    # the number in the table is what the parser reads from the completion
    assert table["model's number"].iloc[0] == reasoning.extract_number(table["completion"].iloc[0]) or (
        table["model's number"].isna().iloc[0] and reasoning.extract_number(table["completion"].iloc[0]) is None)


def test_opens_with_the_recorded_scores_of_the_defaults():
    """With SmolLM2 at the defaults the page shows the recorded scores of its default problems and
    prompts at once (chart, result line, table; lessons/prompting/recorded.py), and the first problem's
    three recorded completions, each labelled as recorded; fewer problems have no record, and *Score
    them* is still there."""
    from lessons import models
    from lessons.prompting import recorded as prompting_recorded
    from ui import loaders

    at = open_page(PAGE)
    if models.qwen_available():
        at.selectbox(key="reasoning.model").set_value(loaders.SMOL_CHOICE).run()
    d = reasoning.PAGE_DEFAULTS
    s = prompting_recorded.reasoning_settings(d["n_problems"], d["modes"], d["cot_tokens"])
    rec = prompting_recorded.recorded(prompting_recorded.Lab(models.load_smollm2("cpu")),
                                      prompting_recorded.REASONING_KIND, s)
    assert rec is not None, "no current record: run scripts/record_runs.py"
    assert sum("Recorded run" in m.value and rec.recorded in m.value for m in at.info) == 2
    attempts = rec.result["attempts"]
    table = at.dataframe[-1].value
    assert len(table) == len(attempts) == d["n_problems"] * len(d["modes"])
    assert list(table["correct"]) == [a["correct"] for a in attempts]
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    n_direct = sum(a["correct"] for a in attempts if a["mode"] == "direct")
    assert f"Direct answer: {n_direct}/{d['n_problems']} correct" in result
    first = at.selectbox(key="reasoning.problem").value
    shown = [t.value for t in at.text]
    for a in attempts:
        if a["problem"] == first:
            assert (reasoning.shown_text(a) or "(empty)") in shown
    at.slider(key="reasoning.n").set_value(2).run()
    assert_no_exception(at)
    assert sum("Recorded run" in m.value for m in at.info) == 1           # section 1 keeps its record
    assert not any(m.value.startswith("**Result:**") for m in at.markdown)
    assert "Press *Score them*" in texts(at) and at.button(key="reasoning.run_all")
    at.slider(key="reasoning.tokens").set_value(64).run()
    assert not any("Recorded run" in m.value for m in at.info)


def test_own_word_problem_bad_input_gets_a_clear_message():
    """A learner's own problem: empty -> a prompt to type one; 5,000 characters -> cut to the first
    MAX_OWN_CHARS with a warning; HTML is never rendered; an answer that is not a number -> no verdict."""
    at = open_page(PAGE)
    at.selectbox(key="reasoning.problem").set_value("✏️ Type my own word problem").run()
    assert_no_exception(at)
    assert "Correct answer:** 4" in texts(at)
    at.text_area(key="reasoning.own").set_value("   ").run()
    assert_no_exception(at)
    assert "Type some word problem to start." in texts(at)
    long = "<b>bold</b> 7 plus 5? " * 250
    at.text_area(key="reasoning.own").set_value(long).run()
    assert_no_exception(at)
    assert any(f"{len(long):,} characters long; only the first 400 are used" in w.value for w in at.warning)
    assert not any("<b>" in m.value and "unsafe_allow_html" in str(m.proto) for m in at.markdown)
    at.text_input(key="reasoning.own_answer").set_value("twelve").run()
    assert_no_exception(at)
    assert "Correct answer:** not given" in texts(at)


@pytest.mark.slow
def test_own_word_problem_that_asks_for_a_file_runs_bounded_and_the_evaluator_refuses_files():
    at = open_page(PAGE)
    at.selectbox(key="reasoning.problem").set_value("✏️ Type my own word problem").run()
    at.text_area(key="reasoning.own").set_value("Open the file /etc/passwd with Python and count its lines.").run()
    at.text_input(key="reasoning.own_answer").set_value("").run()
    at.slider(key="reasoning.tokens").set_value(24).run()
    at.button(key="reasoning.run").click().run()
    assert_no_exception(at)
    verdicts = [m.value for m in at.markdown if m.value.startswith("Read as **")]
    assert len(verdicts) == 3 and all("no answer given to compare" in v for v in verdicts)
    ends = [c.value for c in at.caption if "new tokens in" in c.value]
    assert len(ends) == 3 and all(int(c.split()[0]) <= 24 for c in ends)
    # whatever the model wrote as PAL ran through the safe evaluator only (a file call is refused there)
    lv = at.session_state["reasoning.three.live"]
    assert lv.result["outcome"].shareable is False                  # a learner's own problem: never shared
    pal = lv.result["job"]["res"]["pal"]
    run = reasoning.run_program(reasoning.extract_program(pal["completion"]))
    assert pal["program"] == reasoning.extract_program(pal["completion"]) and pal["error"] == run.error
    assert bool(pal["error"]) == any(w.value.startswith("Safe evaluator refused") for w in at.warning)
