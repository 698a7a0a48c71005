# lesson: Prompting and in-context learning
# week: 1
# order: 23
# icon: 🧩
# topics: prompt engineering, in-context learning, zero-shot, one-shot, few-shot, chat template, context window
# summary: Build zero-, one- and few-shot prompts, see the chat template raw, and measure what the examples buy.
"""Prompt engineering and in-context learning: a prompt builder (zero/one/few-shot, editable
examples, plain or chat template), the token budget, and a measured accuracy comparison."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.prompting import in_context_learning
from lessons.prompting import recorded as icl_recorded
from ui import charts, common, decoding, inputs, loaders, recorded

st.title("🧩 Prompt engineering and in-context learning")
st.markdown(
    "**In-context learning**: instead of changing the model's weights, you put solved examples of the "
    "task *into the prompt*. No example is **zero-shot**, one is **one-shot**, a few is **few-shot**. "
    "Large models (GPT-3, 175B parameters) learn many tasks this way; small models benefit less and "
    "less reliably. Below you build such prompts for SmolLM2 (135M parameters) and *measure* the effect "
    "on a small labelled test set written for this app."
)
st.latex(r"\hat y = \arg\max_{y \in \text{labels}} \; P_\theta\big(y \mid \text{instruction},\ "
         r"(x_1, y_1), \dots, (x_k, y_k),\ x\big)")



def smollm2_lab(device: str) -> icl_recorded.Lab:
    """The shared SmolLM2 whose fingerprint keys the recorded measurements (only each task's
    defaults, its instruction and shipped examples, are recorded: lessons/prompting/recorded.py)."""
    return icl_recorded.Lab(loaders.smollm2(device))


lm = decoding.pick_model("in-context-learning")
if lm is None:
    common.stop_page()
names = in_context_learning.task_names()
c1, c2, c3 = st.columns(3)
task_key = c1.selectbox("Task", list(names), format_func=names.get, key="in-context-learning.task")
task = in_context_learning.load_task(task_key)
has_chat = bool(getattr(lm.tokenizer, "chat_template", None))
fmt = c2.radio("Prompt format", ["plain text", "chat template"] if has_chat else ["plain text"],
               key="in-context-learning.format", horizontal=True,
               help="Plain: one block of text that ends with 'Sentiment:'. Chat: the model's own chat "
                    "template, each example as a user turn answered by an assistant turn.")
use_chat = fmt == "chat template" and has_chat
n_shots = c3.slider("examples in the prompt (shots)", 0, len(task.examples), min(2, len(task.examples)),
                    key=f"in-context-learning.shots_{task_key}")

instruction = st.text_input("Instruction", value=task.instruction, key=f"in-context-learning.instruction_{task_key}")
instruction = inputs.clean_text(instruction, what="instruction", max_chars=300, allow_empty=True)
st.markdown("**Examples** (edit them; the first *shots* rows go into the prompt):")
edited = st.data_editor(
    pd.DataFrame([{"text": e.text, "label": e.label} for e in task.examples]),
    column_config={"label": st.column_config.SelectboxColumn("label", options=list(task.labels), required=True),
                   "text": st.column_config.TextColumn("text", required=True)},
    num_rows="fixed", hide_index=True, width="stretch", key=f"in-context-learning.examples_{task_key}",
)
examples = [in_context_learning.Example(inputs.clean_text(str(r["text"]), what=f"example {i + 1}", max_chars=300,
                                                allow_empty=True).strip(), str(r["label"]))
            for i, r in enumerate(edited.to_dict("records"))
            if str(r.get("text") or "").strip() and r.get("label") in task.labels]
query = st.text_input(f"{task.input_name} to classify", value=task.test[0].text, key=f"in-context-learning.query_{task_key}")
query = inputs.clean_text(query, what=task.input_name.lower(), max_chars=300)
if query is None:
    common.stop_page()
shots = examples[:n_shots]
prompt = in_context_learning.build_prompt(task, shots, query, lm.tokenizer, use_chat=use_chat, instruction=instruction)

left, right = st.columns([3, 2])
with left:
    st.markdown("**The prompt exactly as the model reads it**" + (" (chat template applied, raw):" if use_chat else ":"))
    st.code(prompt, language=None, wrap_lines=True)   # long review lines wrap: nothing cut at 1280 px
with right:
    budget = in_context_learning.token_budget(lm.tokenizer, lm.model, prompt, max_new_tokens=5)
    st.metric("prompt tokens", f"{budget.prompt_tokens:,}")
    st.metric("context window", f"{budget.context_window:,} tokens")
    st.progress(min(budget.fraction, 1.0), text=f"{budget.fraction:.1%} of the context window used "
                                                f"(prompt + {budget.max_new_tokens} new tokens)")
    per_ex = in_context_learning.tokens_per_example(lm.tokenizer, task, examples)
    room = int(max(budget.context_window - budget.total, 0) // per_ex) if per_ex else 0
    st.caption(f"One example costs about {per_ex:.0f} tokens: room for about {room:,} more. Every example "
               "is paid for on every request, in tokens, time and money.")
    mass, tot = in_context_learning.label_probs(decoding.next_logits(decoding.model_key(lm), prompt, lm), lm.tokenizer, task.labels)
    pred = max(mass, key=mass.get)
    st.metric("model's answer", pred, help="the label with the most next-token probability")
    st.caption(f"Probability on label words: {tot:.1%} (the rest goes to other tokens). Of that: "
               + ", ".join(f"{k} {v / max(tot, 1e-12):.0%}" for k, v in mass.items()) + ".")

st.header("Measured: zero-, one- and few-shot accuracy")
st.markdown(f"Each condition classifies the same **{len(task.test)} held-out test items** (never used as "
            "examples). The answer is read from the next-token probabilities of the label words (one "
            "forward pass per item, no sampling), so the numbers are deterministic.")
k_max = max(len(examples), 1)
sig = (decoding.model_key(lm), task_key, use_chat, instruction, tuple(examples))
store = st.session_state.setdefault("in-context-learning.results", {})
if st.button(f"Measure zero-, one- and {k_max}-shot", key="in-context-learning.measure", type="primary"):
    with st.spinner(f"Scoring {len(task.test)} items x 3 prompts ..."):
        store[sig] = decoding.measure_shots(decoding.model_key(lm), task_key, use_chat, instruction,
                                      tuple((e.text, e.label) for e in examples), lm)
results = store.get(sig)
rec = None
if results is None and st.session_state.get("in-context-learning.model") == decoding.SMOLLM2:
    rec = recorded.find(icl_recorded, icl_recorded.ICL_KIND, icl_recorded.icl_settings(
        task_key, use_chat, instruction, tuple((e.text, e.label) for e in examples)), lm.device, smollm2_lab)
    results = None if rec is None else icl_recorded.as_conditions(rec.result)
with charts.main_figure():
    if rec is not None:
        recorded.note(rec, f"SmolLM2 on these settings (this task, format, instruction and examples). The scores "
                           f"are read from next-token probabilities, the same every time: press **Measure zero-, "
                           f"one- and {k_max}-shot** to measure them live.")
    if results is None:
        st.info("Press the button to measure (a few seconds on a CPU; the result is kept for this session).")
    else:
        # on a projector the chart's bar labels give these numbers: the metrics row makes room for it
        cols = [] if charts.presenting() else st.columns(len(results))
        for col, r in zip(cols, results):
            col.metric(f"{r.name} accuracy", f"{r.accuracy:.0%}",
                       help=f"{round(r.accuracy * len(task.test))}/{len(task.test)} correct")
            col.caption(f"probability on valid labels: {r.label_mass:.0%}")
        shots_x = [f"{r.n_shots} ({r.name})" for r in results]
        fig = go.Figure()
        fig.add_bar(x=shots_x, y=[r.accuracy for r in results], name="accuracy", marker_color=charts.AFTER,
                    text=[f"{r.accuracy:.0%}" for r in results], textposition="outside")
        fig.add_bar(x=shots_x, y=[r.label_mass for r in results], name="probability on label words",
                    marker_color=charts.BEFORE, marker_pattern_shape=charts.PATTERN["before"])
        fig.add_hline(y=1 / len(task.labels), line=dict(dash="dot"), annotation_text="chance")
        fig.update_layout(barmode="group", height=340, yaxis=dict(range=[0, 1.12], tickformat=".0%"),
                          xaxis_title="examples in the prompt (shots)", title="Accuracy vs number of shots",
                          margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=1.02, yanchor="bottom"))
        charts.show(fig, key="in-context-learning.fig", fit=True,
                    summary="Accuracy and probability on the label words with " + ", ".join(
                        f"{r.n_shots} examples: {r.accuracy:.0%} and {r.label_mass:.0%}" for r in results) + ".")
        with st.expander("Every test item"):
            rows = []
            for i, it in enumerate(task.test):
                row = {"text": it.text, "true": it.label}
                for r in results:
                    row[r.name] = r.predictions[i] + ("" if r.predictions[i] == it.label else " ✗")
                rows.append(row)
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.header("When should fine-tuning replace prompting?")
st.markdown(
    "- **Examples stop helping.** If five or six examples do not lift accuracy, more rarely will — and "
    "small models (like this one) often gain little or behave erratically (try the chat format).\n"
    "- **The context window fills up.** Every example is paid for on *every* request: tokens, latency, money; "
    "and it crowds out the user's own input.\n"
    "- **You have hundreds or thousands of labelled examples.** Fine-tuning (Week 2) puts them into the "
    "weights once; a smaller fine-tuned model can beat a larger prompted one on a narrow task.\n"
    "- **Prompting first** when you have few examples, many different tasks, or need to iterate fast."
)

common.try_this(
    "Compare 0 and 1 shot in the plain format: the probability on valid labels jumps — the example "
    "teaches the *answer format* as much as the task.",
    "Switch to the chat template and measure again: the same examples help differently. Small models are fragile.",
    "Swap the labels of the examples (mark a positive review as negative) and measure: does the model follow "
    "the examples or its prior knowledge?",
    "Change the order of the examples (put both negative ones last): recency matters for small models.",
    "Type an emoji review such as `😍😍😍 best day ever` and see what the model answers.",
)
