# lesson: Benchmarks: GLUE to HELM
# week: 2
# order: 15
# icon: 🏁
# topics: GLUE, SuperGLUE, MMLU, BIG-bench, HELM, calibration, robustness, fairness
# summary: What GLUE, SuperGLUE, MMLU, BIG-bench and HELM measure, filterable, and HELM's metrics beyond accuracy.
"""Benchmarks compared (lessons.evaluation.benchmarks): filters, a side-by-side comparison, a coverage
heatmap of HELM's seven metric categories, and a 'which benchmark for my question?' picker."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.evaluation import benchmarks as bm
from ui import charts, common

st.title("🏁 Benchmarks: GLUE to HELM")
st.markdown(
    "ROUGE and BLEU score one task. A **benchmark** is a fixed collection of tasks, data and "
    "scoring rules, so that different models can be compared on the same footing. Each "
    "generation of benchmarks was made harder because models *saturated* the previous one, and "
    "**HELM** added a second idea: measure more than accuracy."
)

st.subheader("Filter and compare")
f1, f2, f3 = st.columns([2, 1, 1])
with f1:
    caps = st.multiselect("Capability (any of)", bm.CAPABILITIES, key="benchmarks.caps")
with f2:
    dim = st.selectbox("Also measures", ["(any)"] + bm.DIMENSIONS, key="benchmarks.dim",
                       help="One of HELM's seven metric categories, at least partly.")
with f3:
    min_tasks = st.slider("At least N tasks", 0, 200, 0, step=10, key="benchmarks.min_tasks")
chosen = bm.filter_benchmarks(caps, None if dim == "(any)" else dim, min_tasks)
if not chosen:
    st.info("No benchmark matches all filters. Loosen one of them.")
else:
    # st.table wraps long text, so nothing is cut on a projector; format, score and examples
    # are in the comparison cards below.
    st.table(pd.DataFrame([{"benchmark": b.name, "year": str(b.year), "what it measures": b.measures,
                            "size": b.size} for b in chosen]).set_index("benchmark"))
    st.caption(f"{len(chosen)} of {len(bm.BENCHMARKS)} benchmarks shown. Format, score and examples: pick one under Compare.")

names = [b.name for b in bm.BENCHMARKS]
c1, c2 = st.columns(2)
for col, key, default in ((c1, "benchmarks.left", "MMLU"), (c2, "benchmarks.right", "HELM")):
    with col:
        b = bm.by_name(st.selectbox("Compare", names, index=names.index(default), key=key))
        st.markdown(f"#### {b.name} ({b.year})")
        st.markdown(f"*{b.paper}*")
        st.markdown(f"**Measures:** {b.measures}")
        st.markdown(f"**Size:** {b.size} · **Format:** {b.fmt}")
        st.markdown(f"**Score:** {b.scoring}")
        st.markdown(f"**Examples:** {b.examples}")
        st.markdown(f"**Beyond accuracy:** {b.coverage_note}")
        st.markdown(f"**Since then:** {b.status}")

st.subheader("Who measures what?")
rows, cols, z = bm.coverage_matrix()
label = {0.0: "no", 0.5: "partly", 1.0: "yes"}
fig = go.Figure(go.Heatmap(
    z=z, x=cols, y=rows, zmin=0, zmax=1, colorscale=[[0, "#f2f2f2"], [0.5, "#9ecae1"], [1, "#08519c"]],
    showscale=False, text=[[label[v] for v in r] for r in z], texttemplate="%{text}",
    hovertemplate="%{y} · %{x}: %{text}<extra></extra>"))
fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"),
                  xaxis=dict(side="top"))
charts.show(fig, key="benchmarks.coverage", main=True)
st.caption("Columns are HELM's seven metric categories. 'partly' = a diagnostic set or an analysis in the "
           "paper, not a headline score. Only HELM measures all seven, for 87.5 % of its core scenario-metric pairs.")

bars = go.Figure(go.Bar(x=names, y=[b.n_tasks for b in bm.BENCHMARKS],
                        text=[f"{b.n_tasks} {b.task_unit}" for b in bm.BENCHMARKS], textposition="outside",
                        marker_color=["#08519c" if b in chosen else "#c6dbef" for b in bm.BENCHMARKS]))
bars.update_layout(height=300, yaxis=dict(type="log", title="tasks / subjects / scenarios (log)", tickvals=[1, 3, 10, 30, 100, 300], range=[0, 2.7]),
                   margin=dict(l=10, r=10, t=20, b=10))
charts.show(bars, key="benchmarks.sizes")
st.caption("Breadth grew by more than an order of magnitude in four years (highlighted: the filtered set).")

st.subheader("HELM's metrics beyond accuracy")
metric = st.radio("Metric", bm.DIMENSIONS, key="benchmarks.metric", horizontal=True)
st.info(f"**{metric}** — {bm.HELM_METRICS[metric]}")
measured_by = [b.name for b in bm.BENCHMARKS if b.coverage.get(metric, 0) >= 1]
partly = [b.name for b in bm.BENCHMARKS if b.coverage.get(metric, 0) == 0.5]
st.markdown(f"Headline metric in: **{', '.join(measured_by) or 'none'}**"
            + (f" · partly in: {', '.join(partly)}" if partly else ""))

st.subheader("Which benchmark answers my question?")
goal = st.selectbox("My question", list(bm.GOALS), key="benchmarks.goal")
pick, why = bm.GOALS[goal]
st.success(f"**{pick}** — {why}")

common.try_this(
    "Filter for 'safety': which benchmarks are left, and why is GLUE not among them?",
    "Set 'Also measures' to calibration: why would a model that is 90% accurate but always 100% sure be a problem?",
    "Compare GLUE and SuperGLUE: what changed when the first one saturated?",
    "Pick 'robustness' and think of a perturbation that would change ROUGE but not the meaning of a summary.",
)
