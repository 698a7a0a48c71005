# lesson: Scaling laws and compute-optimal models
# week: 1
# order: 34
# icon: 📈
# topics: scaling laws, Chinchilla, compute budget, C = 6ND, tokens per parameter, iso-FLOP curves
# summary: Split a compute budget between model size and data with the Chinchilla law, compare the paper's fit with the Epoch AI refit, and place GPT-3, Chinchilla and LLaMA on the map.
"""Chinchilla scaling laws: compute-optimal calculator, iso-FLOP curves, famous models."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.pretraining import scaling_laws
from ui import charts, common


fmt_n = scaling_laws.human


st.title("📈 Scaling laws and compute-optimal models")
st.markdown(
    "Pretraining has three knobs: **model size** $N$ (parameters), **data** $D$ (training tokens) "
    "and **compute** $C$ (FLOPs). Each parameter costs about 6 FLOPs per token (2 for the forward "
    "pass, 4 for the backward pass). The Chinchilla paper (Hoffmann et al. 2022) fitted the final "
    "loss of 400+ training runs with one formula: the loss falls with $N$ and with $D$ towards an "
    "irreducible floor $E$ (the entropy of text itself)."
)
st.latex(r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}}, \qquad C \approx 6\,N\,D")
st.markdown(
    "Minimising $L$ at fixed $C$ says: grow $N$ and $D$ **together**, about "
    "**20 tokens per parameter**. Many earlier models (GPT-3: 1.7 tokens per parameter) were too "
    "big for their data. The paper found ~20 with two methods; its third method, the formula fit, "
    "gives constants whose exact optimum is several times more data-hungry. In 2024 Epoch AI "
    "re-extracted the paper's data and refitted the formula; their refit agrees with ~20 tokens per parameter."
)
fits = pd.DataFrame([{"fit": f.name, "E": f.E, "A": f.A, "B": f.B, "α": f.alpha, "β": f.beta}
                     for f in scaling_laws.FITS.values()])
with st.expander("The fitted constants E, A, B, α, β of both fits"):
    st.dataframe(fits, hide_index=True, width="stretch")

# --------------------------------------------------------------------------- calculator
st.header("1 · Compute-optimal calculator")
c1, c2 = st.columns([2, 1])
with c1:
    log_c = st.slider("Compute budget, log₁₀ FLOPs", 15.0, 26.0, 23.77, 0.01, key="scaling-laws.logc",
                      help="23.77 ≈ 5.9e23 FLOPs, Chinchilla's own budget.")
with c2:
    k = st.number_input("Tokens per parameter", 1.0, 2000.0, 20.0, 1.0, key="scaling-laws.k",
                        help="20 is the Chinchilla rule of thumb; Llama 3 8B used ~1,900.")
C = 10 ** log_c
b = scaling_laws.compute_optimal(C, tokens_per_param=k)
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Budget C (FLOPs)", f"{C:.3g}")
m2.metric("Parameters N", fmt_n(b.params))
m3.metric("Training tokens D", fmt_n(b.tokens))
m4.metric("Loss, Chinchilla fit", f"{b.loss_chinchilla:.3f}")
m5.metric("Loss, Epoch refit", f"{b.loss_epoch:.3f}")
st.caption(
    f"N = √(C / (6·{k:g})) and D = {k:g}·N. Check: 6·N·D = {6 * b.params * b.tokens:.3g} FLOPs. "
    f"On one GPU sustaining 400 TFLOP/s this budget takes about {C / 4e14 / 86400:,.3g} GPU-days."
)
rows = []
for fit in scaling_laws.FITS.values():
    n_opt, d_opt = fit.optimal_split(C)
    rows.append({"fit": fit.name, "optimal N (exact minimum)": fmt_n(n_opt), "optimal D": fmt_n(d_opt),
                 "tokens / parameter": round(d_opt / n_opt, 1), "loss at optimum": round(float(fit.loss(n_opt, d_opt)), 4),
                 f"loss at your split (k={k:g})": round(float(fit.loss(b.params, b.tokens)), 4)})
# A reference table above the lesson's first chart sits in an expander (CONTRIBUTING: presenter mode).
with st.expander("The exact optimum of each fit (table)"):
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption("The exact minimum of each fitted formula, in closed form. With the paper's published constants "
           "the optimum sits far above 20 tokens per parameter — the inconsistency Epoch AI pointed out; their "
           "refit's optimum stays near 20. Either way the ratio drifts with the budget because α ≠ β.")

# --------------------------------------------------------------------------- iso-FLOP curves
st.header("2 · Iso-FLOP curves")
st.markdown("Each curve spends the **same** compute; moving right makes the model bigger and the data "
            "smaller. The valley is the compute-optimal model. Solid: Chinchilla's fit; dotted: Epoch AI's refit.")
budgets = st.multiselect("Budgets (FLOPs)", ["1e18", "1e19", "1e20", "1e21", "1e22", "1e23", "1e24", "1e25"],
                         default=["1e19", "1e21", "1e23", "1e25"], key="scaling-laws.budgets")
show_epoch = st.checkbox("Show the Epoch AI refit", True, key="scaling-laws.epoch")
fig = go.Figure()
palette = ["#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880"]
for i, cs in enumerate(sorted(budgets, key=float)):
    color = palette[i % len(palette)]
    for fit, dash in ((scaling_laws.CHINCHILLA, "solid"), (scaling_laws.EPOCH, "dot")):
        if fit is scaling_laws.EPOCH and not show_epoch:
            continue
        N, D, L = scaling_laws.iso_flop_curve(fit, float(cs), span=2.0)
        fig.add_trace(go.Scatter(x=N, y=L, mode="lines", line=dict(color=color, dash=dash),
                                 name=f"C={cs} ({'Chinchilla' if dash == 'solid' else 'Epoch'})",
                                 customdata=np.stack([D], -1),
                                 hovertemplate="N=%{x:.3s}<br>D=%{customdata[0]:.3s}<br>loss=%{y:.3f}"))
        n_opt, d_opt = fit.optimal_split(float(cs))
        fig.add_trace(go.Scatter(x=[n_opt], y=[float(fit.loss(n_opt, d_opt))], mode="markers",
                                 marker=dict(color=color, size=9, symbol="circle" if dash == "solid" else "diamond"),
                                 showlegend=False, hovertemplate="optimum N=%{x:.3s}<br>loss=%{y:.3f}"))
fig.update_layout(xaxis_type="log", xaxis_title="parameters N", yaxis_title="predicted loss (nats/token)",
                  height=430, margin=dict(l=10, r=10, t=30, b=10))
if budgets:
    charts.show(fig, key="scaling-laws.iso_fig", main=True)
else:
    charts.main_figure().info("Pick at least one budget to draw its iso-FLOP curve.")

# --------------------------------------------------------------------------- famous models
st.header("3 · Where famous models sit")
table = scaling_laws.famous_models_table()
fig2 = go.Figure()
ns = np.logspace(7, 12.5, 50)
fig2.add_trace(go.Scatter(x=ns, y=20 * ns, mode="lines", line=dict(dash="dash", color="gray"),
                          name="20 tokens / parameter (Chinchilla-optimal)"))
fig2.add_trace(go.Scatter(x=[r["params"] for r in table], y=[r["tokens"] for r in table], mode="markers+text",
                          text=[r["model"] for r in table], textposition="top center", name="published models",
                          marker=dict(size=10, color=[np.log10(r["tokens_per_param"]) for r in table],
                                      colorscale="Viridis", showscale=False)))
fig2.add_trace(go.Scatter(x=[b.params], y=[b.tokens], mode="markers", marker=dict(symbol="star", size=16, color="red"),
                          name="your calculator result"))
fig2.update_layout(xaxis_type="log", yaxis_type="log", xaxis_title="parameters N", xaxis_dtick=1, yaxis_dtick=1,
                   yaxis_title="training tokens D", height=480, margin=dict(l=10, r=10, t=30, b=10))
charts.show(fig2, key="scaling-laws.models_fig")
st.dataframe(pd.DataFrame([{"model": r["model"], "parameters": fmt_n(r["params"]), "tokens": fmt_n(r["tokens"]),
                            "tokens / param": round(r["tokens_per_param"], 1), "compute (FLOPs)": f"{r['flops']:.2g}",
                            "Chinchilla-optimal N for that compute": fmt_n(r["optimal_params"]),
                            "source": r["note"]} for r in table]), hide_index=True, width="stretch")
st.caption("Above the dashed line: more data than Chinchilla-optimal (cheaper to serve: a smaller model "
           "for the same quality). Below it: a model too big for its data (GPT-3, Gopher, PaLM).")

common.try_this(
    "Set the budget to GPT-3's compute (log₁₀ C ≈ 23.5): what size would Chinchilla have chosen instead of 175B?",
    "At the default budget, raise tokens per parameter from 20 to 200: the model is ~3x smaller; Epoch's "
    "refit predicts a loss only a little higher (1.974 → 1.988), and the paper's own formula fit even a "
    "slightly lower one (its optimum is more data-hungry, see above). A 3x smaller model is far cheaper to "
    "run, which is why Llama-style models are trained far past 20 tokens per parameter.",
    "Compare the two fits' losses: at a small budget (log₁₀ C = 18) the refit predicts a slightly LOWER "
    "loss (3.49 vs 3.54), at Chinchilla's own budget (23.77) a higher one (1.97 vs 1.94). The fits cross "
    "near 10²²: where the data is thin, fits disagree.",
)
