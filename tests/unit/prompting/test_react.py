"""react: tools, action parsing, the bounded loop (with a scripted fake model and with the
real SmolLM2), and the reference traces whose observations come from the real tools."""
import pytest

from lessons import models
from lessons.prompting import react
from lessons.retrieval import rag
from lessons.core.generate import Generation


def fake_search(q: str) -> str:
    return "Full-time employees receive 27 days of paid vacation per year."


TOOLS = react.make_tools(fake_search)


def test_calculator_uses_the_safe_evaluator():
    assert react.calculator("3 * 1290") == "3870"
    assert react.calculator("2780 * (1 - 0.35)") == "1807"
    assert react.calculator("__import__('os').system('ls')").startswith("Error:")


def test_lookup_and_unknown_tools():
    assert "price_eur=1290" in react.lookup(" heron ")
    assert react.lookup("Swift e-bike") == react.lookup("swift")        # the full name its own rows print
    assert react.lookup("Unicorn").startswith("Error: no product")
    assert "ONE product name per call" in react.lookup("Kestrel, Swift") and "search[" in react.lookup("discount")
    assert react.run_tool(TOOLS, "shell", "ls").startswith("Error: unknown tool")
    assert react.run_tool(TOOLS, "calculator", "1+" * 200).startswith("Error: tool input longer")


@pytest.mark.parametrize("text,action,arg,final", [
    ("Thought: I need the price.\nAction: lookup[Heron]\n", "lookup", "Heron", ""),
    ("Thought: add\nAction: Calculator[12 + 25]", "calculator", "12 + 25", ""),
    ("Thought: done\nFinal Answer: 37 bikes\nAction: lookup[x]", "", "", "37 bikes"),
    ("Thought: hmm, maybe later", "", "", ""),
])
def test_parse_step(text, action, arg, final):
    st = react.parse_step(text)
    assert (st.action, st.action_input, st.final) == (action, arg, final)
    assert st.thought and not st.thought.startswith("Thought")


class ScriptedLM:
    """Stands in for a model: returns pre-written turns and records the prompts it saw."""

    def __init__(self, turns):
        self.turns, self.prompts = list(turns), []
        self.tokenizer = models.load_smollm2("cpu").tokenizer


def test_loop_runs_tools_and_feeds_observations_back(monkeypatch):
    lm = ScriptedLM([" I need the vacation days.\nAction: search[vacation days]\n",
                     " 27 days minus 9.\nAction: calculator[27 - 9]\n",
                     " I know it.\nFinal Answer: 18 days are left.\n"])

    def fake_generate(llm, prompt, max_new_tokens, max_seconds, stop=()):
        llm.prompts.append(prompt)
        return Generation(prompt, llm.turns.pop(0), 0, 5, 0.0, "stop string")
    monkeypatch.setattr(react, "generate", fake_generate)
    tr = react.run_react(lm, TOOLS, "How many vacation days are left after 9?", max_steps=5)
    assert tr.stopped == "final answer" and tr.final == "18 days are left." and len(tr.steps) == 3
    assert tr.steps[1].observation == "18"
    assert "Observation: Full-time employees receive 27 days" in lm.prompts[1]
    assert "Observation: 18\nThought:" in lm.prompts[2]
    assert react.answer_matches(tr.final, 18)


def test_loop_is_bounded_and_reports_bad_format(monkeypatch):
    lm = ScriptedLM(["I will just chat."] * 10)
    monkeypatch.setattr(react, "generate",
                        lambda llm, p, n, s, stop=(): Generation(p, llm.turns.pop(0), 0, 5, 0.0, "eos"))
    tr = react.run_react(lm, TOOLS, "q", max_steps=3)
    assert tr.stopped == "step limit" and len(tr.steps) == 3
    assert all(s.note == "could not parse an action" for s in tr.steps)


@pytest.mark.slow
def test_reference_traces_reach_the_expected_answer_with_live_tools():
    enc = models.load_minilm("cpu")
    tools = react.make_tools(rag.search_tool(rag.build_index(enc, 40, 10), enc))
    for task in react.tasks():
        tr = react.reference_trace(task, tools)
        assert tr.scripted and tr.stopped == "final answer"
        assert react.answer_matches(tr.final, task["answer"]), task["id"]
        calc = [s for s in tr.steps if s.action == "calculator"][-1]
        assert float(calc.observation) == pytest.approx(task["answer"])   # the tool computed it
        for s in tr.steps:
            assert not s.observation.startswith("Error"), (task["id"], s)
    vac = react.reference_trace(react.tasks()[1], tools)
    assert "27 days" in vac.steps[0].observation                           # search found the fact
    assert "Observation: " in react.format_trace(vac)


@pytest.mark.slow
def test_real_model_loop_is_bounded():
    llm = models.load_smollm2("cpu")
    tr = react.run_react(llm, TOOLS, react.tasks()[0]["question"], max_steps=1, max_new_tokens=4,
                         max_seconds=120)
    assert len(tr.steps) == 1 and tr.stopped in ("final answer", "step limit")
    assert tr.prompt.startswith("<|im_start|>system") and "Question: How much do 3 Heron" in tr.prompt


def test_a_step_cut_by_the_time_limit_is_reported_as_such(monkeypatch):
    lm = ScriptedLM([" 3 Heron bikes can be found at"])
    monkeypatch.setattr(react, "generate",
                        lambda llm, p, n, s, stop=(): Generation(p, llm.turns.pop(0), 0, 5, s, "time limit"))
    tr = react.run_react(lm, TOOLS, "q", max_steps=4)
    assert tr.stopped == "time limit" and len(tr.steps) == 1
    assert "time limit" in tr.steps[0].note and not tr.steps[0].observation


# --------------------------------------------------------------------------- failure analysis
HERONS = next(t for t in react.tasks() if t["id"] == "herons")
HERON_ROW = react.lookup("Heron")
REF = react.reference_trace(HERONS, TOOLS)          # lookup + calculator: no search needed


def call(tool, arg, stopped_by="stop string"):
    return react.Step(thought="t", action=tool, action_input=arg, observation=react.run_tool(TOOLS, tool, arg),
                      stopped_by=stopped_by)


def final(text, stopped_by="eos"):
    return react.Step(thought="t", final=text, stopped_by=stopped_by)


def run(*steps, stopped=None):
    steps = list(steps)
    tr = react.Trace(HERONS["question"], steps)
    tr.stopped = stopped or ("final answer" if steps and steps[-1].final else "step limit")
    tr.final = steps[-1].final if steps else ""
    return tr


@pytest.mark.parametrize("trace,outcome", [
    (run(call("lookup", "Heron"), call("calculator", "3 * 1290"), final("3870 euros")), "solved"),
    (run(call("lookup", "Heron"), react.Step(thought="3 * 1290 is", stopped_by="token limit")), "budget cut"),
    (run(call("lookup", "Heron"), stopped="time limit"), "budget cut"),
    (run(react.Step(thought="3 * 1290 is", stopped_by="token limit"), react.Step(thought="hm", stopped_by="eos")),
     "format not followed"),
    (run(call("lookup", "Heron"), call("calculator", "3 * 1290"), final("1290 euros")), "right observation ignored"),
    (run(call("lookup", "Heron"), call("calculator", "3 * 1290"), call("calculator", "3 * 1290")),
     "right observation ignored"),
    (run(call("lookup", "Heron"), final("3 bikes cost 1290 euros")), "right observation ignored"),
    (run(react.Step(thought="I will just chat.", stopped_by="eos"), final("42")), "format not followed"),
    (run(call("search", "Heron price"), final("42")), "wrong tool"),
    (run(call("shell", "ls"), final("42")), "wrong tool"),
    (run(final("3 Herons cost 42 euros")), "wrong tool"),
    (run(call("lookup", "Heron bike"), final("42")), "wrong argument"),
    (run(call("lookup", "Heron"), call("calculator", "3 * 14.2"), final("42.6 euros")), "wrong argument"),
    (run(call("lookup", "Heron"), call("lookup", "Heron")), "step limit"),
])
def test_classify_gives_each_run_one_outcome(trace, outcome):
    assert outcome in react.OUTCOMES
    assert react.classify(trace, HERONS, REF) == outcome


def test_a_step_cut_off_after_a_complete_action_is_cut_off_but_not_a_budget_failure():
    tr = run(call("lookup", "Heron", stopped_by="token limit"), call("calculator", "3 * 1290"), final("3870"))
    assert tr.cut_off and tr.steps[0].cut_off and not tr.steps[1].cut_off
    assert react.classify(tr, HERONS, REF) == "solved"
    assert not run(call("lookup", "Heron")).cut_off and not REF.cut_off      # scripted steps: never cut off


def test_each_step_records_why_its_generation_ended(monkeypatch):
    lm = ScriptedLM([" look it up\nAction: lookup[Heron]\n", " 3 * 1290 is", " done\nFinal Answer: 3870"])
    ends = iter(["stop string", "token limit", "eos"])
    monkeypatch.setattr(react, "generate",
                        lambda llm, p, n, s, stop=(): Generation(p, llm.turns.pop(0), 0, 5, 0.0, next(ends)))
    tr = react.run_react(lm, TOOLS, HERONS["question"], max_steps=4)
    assert [s.stopped_by for s in tr.steps] == ["stop string", "token limit", "eos"]
    assert [s.cut_off for s in tr.steps] == [False, True, False] and tr.cut_off


def test_file_requests_never_reach_a_file(monkeypatch):
    """Whatever the model writes, only the three tools run: the calculator is the safe evaluator."""
    lm = ScriptedLM([" read it\nAction: python[open('/etc/passwd').read()]\n",
                     " try the calculator\nAction: calculator[open('/etc/passwd').read()]\n",
                     " try the table\nAction: lookup[/etc/passwd]\n",
                     " try the shell\nAction: shell[cat /etc/passwd]\n"])
    monkeypatch.setattr(react, "generate",
                        lambda llm, p, n, s, stop=(): Generation(p, llm.turns.pop(0), 0, 5, 0.0, "stop string"))
    tr = react.run_react(lm, TOOLS, "read the file /etc/passwd", max_steps=4)
    assert tr.stopped == "step limit" and len(tr.steps) == 4
    assert all(s.observation.startswith("Error:") for s in tr.steps)
    assert not any("root:" in s.observation for s in tr.steps)


def test_a_repeated_call_is_pointed_out_to_the_model(monkeypatch):
    lm = ScriptedLM([" look\nAction: lookup[Heron]\n", " again\nAction: lookup[ heron ]\n", " done\nFinal Answer: 3870"])
    monkeypatch.setattr(react, "generate",
                        lambda llm, p, n, s, stop=(): Generation(p, llm.turns.pop(0), 0, 5, 0.0, "stop string"))
    tr = react.run_react(lm, TOOLS, HERONS["question"], max_steps=4)
    assert tr.steps[1].observation == tr.steps[0].observation == HERON_ROW      # the tool's result, unchanged
    assert tr.steps[1].note == "the same call again" and not tr.steps[0].note
    assert tr.prompt.count(react.REPEAT_HINT) == 1


def test_the_page_default_step_budget_fits_every_reference_trace():
    from lessons.prompting import recorded
    assert recorded.DEFAULTS["max_steps"] >= max(len(t["reference"]) for t in react.tasks())
