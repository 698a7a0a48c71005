# lesson: ReAct: reasoning with tools
# week: 3
# order: 44
# icon: 🛠️
# topics: ReAct, agents, tool use, calculator, retrieval, Thought/Action/Observation
# summary: Watch SmolLM2 alternate Thought, Action and Observation with a real calculator, handbook search and product table, next to a scripted reference trace.
"""ReAct: a Thought/Action/Observation loop with real tools (safe calculator, RAG search,
lookup table), driven by SmolLM2 (bounded) beside a clearly labelled scripted trace."""
import pandas as pd
import streamlit as st

from lessons import models
from lessons.core import measured
from lessons.prompting import react, react_job
from lessons.prompting import recorded as react_recorded
from lessons.retrieval import rag
from ui import charts, class_run_page, common, inputs, jobs, live, loaders, recorded, retrieval

st.title("🛠️ ReAct: reasoning with tools")
st.markdown(
    "A small model cannot know a company's stock levels or multiply four-digit numbers "
    "reliably — but it can **ask a tool**. ReAct (Yao et al. 2022) interleaves *reasoning* and "
    "*acting*: the model writes a **Thought**, then an **Action** like `calculator[3 * 1290]`. "
    "We stop generating, run the tool, paste its result back as an **Observation**, and let the "
    "model continue until it writes a **Final Answer**. The application code, not the model, "
    "runs the tools and decides when to stop."
)
choice = loaders.instruct_choice("react.model")
if choice == loaders.SMOL_CHOICE:
    st.warning(
        "**What you will see with SmolLM2-135M:** it copies the *shape* of a ReAct trace but cannot use it. "
        "On the first four example questions it gets **none** right (greedy, default settings, measured): it repeats "
        "the same action with the same input, asks the product table for entries that do not exist, or writes "
        "a Final Answer with a number it made up — for *3 Heron bikes* it answers \"3 Heron bikes can cost 9 "
        "euros.\" at once, without looking up the price (1290 € each). The **scripted trace** on the left shows the pattern a "
        "capable model follows; its observations come from the same real tools. Watch where SmolLM2 leaves it."
    )
st.latex(r"\tau_t = (q,\; r_1, a_1, o_1,\; \dots,\; r_t, a_t, o_t),\qquad "
         r"(r_{t+1}, a_{t+1}) \sim \mathrm{LM}(\cdot \mid \text{prompt}, \tau_t),\qquad o_{t+1} = \mathrm{tool}(a_{t+1})")

dev = common.device()
encoder = common.model_or_stop(loaders.minilm, dev)
IDX = react_recorded.INDEX          # the search index the recorded traces used
index = retrieval.rag_index(IDX["size"], IDX["overlap"], dev, encoder)
tools = react.make_tools(rag.search_tool(index, encoder, k=IDX["k"]))
model_short = choice.split(" (")[0].split("-Instruct")[0]
common.measured_box("react", "the app's tool-using tasks")
outcomes = measured.react_outcomes()
if outcomes["counts"]:
    with st.expander("Why the measured runs failed: one outcome per task and model (`react.classify`)"):
        st.dataframe(pd.DataFrame(outcomes["by_task"]).set_index("task"), width="stretch")
        st.dataframe(pd.DataFrame(outcomes["counts"]).set_index("model"), width="stretch")
        st.markdown("\n".join(f"- **{c}**: {h}" for c, h in react.OUTCOME_HELP.items()))

def react_lab(device: str) -> react_recorded.Lab:
    """The shared SmolLM2 and MiniLM (the search tool's encoder) whose fingerprints key the recorded
    traces (only the example questions at the page's defaults are recorded: lessons/prompting/recorded.py)."""
    return react_recorded.Lab(loaders.smollm2(device), loaders.minilm(device), tools)


def recorded_trace(device: str, question: str, max_steps: int, step_tokens: int):
    """The recorded SmolLM2 trace with these settings, or None."""
    return recorded.find(react_recorded, react_recorded.KIND, react_recorded.settings(
        question, max_steps=max_steps, step_tokens=step_tokens), device, react_lab)


SECONDS = 120.0      # the ReAct loop's time limit (steps and tokens define it; a busy server is cut here)
TRACE_BOX_PX = 300   # presenter mode: a trace scrolls inside a box, so both traces fit the screen


def show_trace(trace: react.Trace) -> None:
    """Each step as Thought / Action / Observation; model text is shown literally (escaped)."""
    box = st.container(height=TRACE_BOX_PX) if charts.presenting() else st.container()
    for i, s in enumerate(trace.steps, start=1):
        with box, st.container(border=True):
            st.markdown(f"**Step {i} · Thought:** {inputs.md_escape(s.thought) or '_(none)_'}")
            if s.final:
                st.markdown(f"**Final Answer:** {inputs.md_escape(s.final)}")
            elif s.action:
                st.code(f"Action: {s.action}[{s.action_input}]", language=None)
            if s.note:
                st.caption(f"⚠️ {s.note}")
            if s.observation:
                st.text(f"Observation: {s.observation}")


# --------------------------------------------------------------------------- tools
st.header("1 · The tools")
t1, t2 = st.columns([1, 1])
with t1:
    for name in tools:
        st.markdown(f"- `{react.TOOL_HELP[name]}`")
with t2:
    tool = st.selectbox("Call a tool yourself", list(tools), key="react.tool")
    default = {"calculator": "2780 * (1 - 0.35)", "search": "staff discount", "lookup": "Swift"}[tool]
    arg = st.text_input("Input", default, key=f"react.tool_input_{tool}")
    arg = inputs.clean_text(arg, max_chars=react.MAX_TOOL_INPUT, what="tool input")
    if arg is not None:
        st.text(f"Observation: {react.run_tool(tools, tool, arg)}")
# full width: in the half column its last column was cut (1280 px projector)
st.dataframe(pd.DataFrame(react.lookup_table()).T, width="stretch")

# --------------------------------------------------------------------------- the task
st.header("2 · A task")
OWN = "✏️ Type my own question"
tasks = {t["question"]: t for t in react.tasks()}
pick = st.selectbox("Question", list(tasks) + [OWN], key="react.task")
task = tasks.get(pick)
if task is None:
    raw = st.text_input("Your question", "How much do 2 Swift batteries cost?", key="react.own")
    question = inputs.clean_text(raw, max_chars=300, what="question")
    if question is None:
        common.stop_page()
    st.caption("The model can only call the three tools above: the calculator is the safe arithmetic evaluator "
               "(no code, no files), search reads the handbook and lookup the product table; anything else gets an "
               "error observation. A question they cannot answer ends at the step or time limit.")
else:
    question = task["question"]
    st.markdown(f"**Expected answer:** {task['answer']:g}")

s1, s2, s3 = st.columns(3, vertical_alignment="bottom")
max_steps = s1.slider("Max steps", 1, 6, react_recorded.DEFAULTS["max_steps"], key="react.max_steps")
step_tokens = s2.slider("Tokens per step", 16, 96, react_recorded.DEFAULTS["step_tokens"], step=8,
                        key="react.step_tokens")
run_clicked = s3.button("Run the ReAct loop", key="react.run", type="primary")
left, right = charts.main_figure().columns(2)   # the scripted and the model's trace: the lesson's main figure
with left:
    st.subheader("📜 Reference trace (scripted)")
    reference = react.reference_trace(task, tools) if task else None
    if task:
        st.caption("Thoughts and actions written by hand to show the pattern; every observation is "
                   "computed **live** by the real tools.")
        show_trace(reference)
    else:
        st.caption("Scripted traces exist only for the example questions.")

with right:
    st.subheader(f"🤖 {model_short}'s own trace")
    def start(use_record: bool = True) -> None:
        """Run the ReAct loop (or Run it again live) in a worker process (lessons/prompting/react_job.py);
        an example question with the same settings is one run for the class, a finished one shows at
        once; a learner's own question is theirs alone."""
        try:
            loaders.instruct_model(choice, dev)
        except models.ModelUnavailable as exc:
            common.show_model_error(exc)
            common.stop_page()
        settings = react_job.settings(loaders.instruct_name(choice), question, max_steps, step_tokens)
        fp = {**loaders.instruct_fingerprints(choice, str(dev), react_job.THREADS),
              "minilm": recorded.lab(react_recorded, dev, react_lab).fingerprints({"search": "minilm"})["minilm"]}
        spec = react_job.spec(settings, SECONDS, fp, jobs.budget().threads, str(dev))
        class_run_page.train_together("react", react_job.KIND, spec, shareable=task is not None, max_seconds=SECONDS,
                                      steps=max_steps, settings={"question": question, "choice": choice},
                                      use_record=use_record, rows_of=lambda result: [])

    class_run_page.presses("react", run_clicked, start, see_it_end=False)
    job = class_run_page.generation_result("react", "step", what="The ReAct run")
    lv = live.state("react")
    if job is not None and not lv.result.get("kept"):      # once per finished run: this session's trace
        lv.result["kept"] = True
        trace = react_recorded.as_trace(job["trace"], lv.settings["question"])
        trace.seconds = job["seconds"]
        st.session_state["react.trace"] = {"question": lv.settings["question"], "trace": trace,
                                           "choice": lv.settings["choice"]}
    got = st.session_state.get("react.trace")
    if lv.settings.get("question") == question and lv.settings.get("choice") == choice:
        class_run_page.class_run_note("react", st.empty())      # a run shared with others, or its record
    rec = (recorded_trace(dev, question, max_steps, step_tokens) if choice == loaders.SMOL_CHOICE and task
           and not (got and got["question"] == question and got.get("choice") == choice) else None)
    if rec is not None:
        recorded.note(rec, "SmolLM2 on this question with these settings. Greedy decoding writes the same "
                           "trace every time: press **Run the ReAct loop** to watch it live.")
        got = {"question": question, "choice": choice, "trace": react_recorded.as_trace(rec.result, question)}
        got["trace"].seconds = rec.wall_s
    if got and got["question"] == question and got.get("choice") == choice:
        trace = got["trace"]
        show_trace(trace)
        verdict = ""
        if task and trace.final:
            verdict = " ✅ contains the expected number" if react.answer_matches(trace.final, task["answer"]) \
                else " ❌ not the expected number"
        st.markdown(f"Stopped by **{trace.stopped}** after {len(trace.steps)} step(s), "
                    f"{trace.seconds:.1f} s.{verdict}")
        if task:
            outcome = react.classify(trace, task, reference)
            st.caption(f"Outcome: **{outcome}**: {react.OUTCOME_HELP[outcome]}.")   # a caption: folds away on a projector
        cut = [i for i, s in enumerate(trace.steps, start=1) if s.cut_off]
        if not all(s.stopped_by for s in trace.steps):
            st.caption("This trace was recorded before steps kept why they ended: cut-off not known.")
        elif cut:
            st.warning(f"Step(s) {', '.join(map(str, cut))} hit the budget of {step_tokens} tokens per step (or the "
                       "time limit): that text was cut off, not finished. If it was still going somewhere, raise "
                       "*Tokens per step* before you blame the model.")
        else:
            st.caption("Every step ended by itself (a stop string, the end of the turn or a final answer): "
                       "no step was cut off by its budget.")
        with st.expander("Everything the model saw at the last step"):
            st.code(trace.prompt, language=None)
    else:
        st.caption("Press the button: each step is one bounded greedy generation.")

common.try_this(
    "Compare the two traces: where does SmolLM2 first leave the pattern — the action format, "
    "the tool choice, or the arithmetic it tries to do in its head?",
    "Call `calculator` yourself with `__import__('os')`: the safe evaluator answers with an error "
    "observation instead of running it. A real agent must treat model output as untrusted input.",
    "Set *Max steps* to 1: the loop stops before any observation can be used. Why does every "
    "agent framework need a step budget?",
    "Ask your own question, e.g. *How much do 2 Swift batteries cost?* — which tool should the "
    "model pick first?",
)
