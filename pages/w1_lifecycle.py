# lesson: The generative AI project lifecycle
# week: 1
# order: 29
# icon: 🗺️
# topics: project lifecycle, scope, select, adapt and align, application integration
# summary: Scope, select, adapt and align, integrate: an interactive map that links to the lessons teaching each stage.
"""The generative AI project lifecycle as an interactive overview. Links come from the page
registry (lessons.course), so they only ever point at lesson pages that exist."""
import plotly.graph_objects as go
import streamlit as st

from lessons.pretraining import lifecycle
from ui import charts, common

st.title("🗺️ The generative AI project lifecycle")
st.markdown(
    "Building an application on an LLM follows four stages. You **scope** the task, **select** a "
    "model, **adapt and align** it (prompting first, then fine-tuning and human feedback, evaluating "
    "all along), and **integrate** it into an application. The stages loop: an evaluation can send "
    "you back to prompting or fine-tuning, and deployment limits can send you back to model choice. "
    "Pick a stage to see what it involves and where this app lets you try it."
)

names = {s.key: s.name for s in lifecycle.STAGES}
chosen = st.segmented_control("Stage", list(names), format_func=names.get, default="adapt", key="lifecycle.stage")
chosen = chosen or "adapt"

# the four stages as boxes, with their sub-steps; the chosen one highlighted
fig = go.Figure()
for i, s in enumerate(lifecycle.STAGES):
    on = s.key == chosen
    fig.add_shape(type="rect", x0=i * 1.2, x1=i * 1.2 + 1.0, y0=0, y1=1,
                  fillcolor="#2E86DE" if on else "#DFE6E9", line=dict(color="#2d3436", width=2 if on else 0.5))
    fig.add_annotation(x=i * 1.2 + 0.5, y=0.85, text=f"<b>{i + 1}. {s.name}</b>", showarrow=False,
                       font=dict(color="white" if on else "#2d3436", size=14))
    for j, sub in enumerate(s.substeps):
        fig.add_annotation(x=i * 1.2 + 0.5, y=0.62 - j * 0.16, text=sub.name, showarrow=False,
                           font=dict(color="white" if on else "#2d3436", size=11))
    if i < len(lifecycle.STAGES) - 1:
        fig.add_annotation(x=i * 1.2 + 1.18, y=0.5, ax=i * 1.2 + 1.02, ay=0.5, xref="x", yref="y", axref="x",
                           ayref="y", showarrow=True, arrowhead=3, arrowwidth=2, text="")
fig.add_annotation(x=3.1, y=-0.12, ax=2.3, ay=-0.12, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                   arrowhead=3, arrowside="start", text="")
fig.add_annotation(x=2.7, y=-0.2, text="evaluate, then loop back", showarrow=False, font=dict(size=11))
fig.update_xaxes(visible=False, range=[-0.1, 4.7])
fig.update_yaxes(visible=False, range=[-0.3, 1.05])
fig.update_layout(height=300, margin=dict(l=0, r=0, t=10, b=0), plot_bgcolor="white")
charts.show(fig, key="lifecycle.fig", main=True)

stage = lifecycle.stage(chosen)
st.header(f"{stage.name}")
st.markdown(f"*{stage.question}*")
for sub in stage.substeps:
    st.subheader(sub.name)
    st.markdown(sub.what)
    found = lifecycle.links(sub)
    if found:
        for lesson in found:
            st.page_link(lesson.rel_path, label=f"Week {lesson.week}: {lesson.title}", icon=lesson.icon)
    else:
        st.caption("No lesson page of this app covers this step; the course videos do.")

st.header("Adapt: keep prompting, or fine-tune?")
st.markdown("A rule of thumb for the adapt stage. Measure the few-shot gain on the *Prompting and "
            "in-context learning* page, then describe your project:")
a1, a2, a3 = st.columns(3)
n_labelled = a1.number_input("labelled examples you have", 0, 10_000_000, 200, 50, key="lifecycle.labelled")
n_tasks = a2.number_input("tasks the model must do", 1, 100, 1, 1, key="lifecycle.tasks")
gain = a3.slider("accuracy gained by few-shot prompting", -0.5, 0.5, 0.1, 0.01, key="lifecycle.gain", format="%.2f")
b1, b2 = st.columns(2)
prompt_tokens = b1.number_input("prompt length (tokens)", 1, 1_000_000, 400, 50, key="lifecycle.prompt_tokens")
window = b2.number_input("model's context window (tokens)", 128, 2_000_000, 8192, 128, key="lifecycle.window")
advice = lifecycle.prompting_or_finetuning(int(n_labelled), int(n_tasks), float(gain), int(prompt_tokens), int(window))
st.success(f"**Suggestion: {advice.approach}**")
for r in advice.reasons:
    st.markdown(f"- {r}")

common.try_this(
    "Set the few-shot gain to 0 and the labelled examples to 5,000: the suggestion flips to fine-tuning.",
    "Open each stage and follow a link: every link goes to a lesson of this app.",
    "Set 3 tasks: why does fine-tuning on one task risk catastrophic forgetting of the others?",
)
