# lesson: LoRA, counted and built by hand
# week: 2
# order: 21
# icon: 🧮
# topics: LoRA, low-rank adaptation, PEFT, parameter-efficient fine-tuning, adapter size
# summary: Count LoRA's trainable parameters for one matrix, real models and GPT-3, then build W + (α/r)·BA yourself and check it against peft.
"""LoRA counter (one matrix, real models, published architectures) and LoRA by hand."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lessons import models
from lessons.finetune import lora
from ui import charts, common, figures, loaders

st.title("🧮 LoRA, counted and built by hand")
st.markdown(
    "Full fine-tuning updates every weight. **LoRA** (Hu et al. 2021) freezes a pretrained "
    "matrix $W_0$ ($d \\times k$) and learns a low-rank change $\\Delta W = BA$ beside it, with "
    "$B$ of size $d \\times r$ and $A$ of size $r \\times k$. Only $A$ and $B$ train."
)
st.latex(r"h = W_0 x + \frac{\alpha}{r}\, B A x \qquad \text{trainable: } r(d+k) \;\text{ instead of }\; d\cdot k")

# --------------------------------------------------------------------------- 1. one matrix
st.header("1 · One matrix")
c1, c2, c3 = st.columns(3)
d = c1.number_input("d (output size)", 1, 65536, 512, step=64, key="lora.d")
k = c2.number_input("k (input size)", 1, 65536, 64, step=64, key="lora.k")
r = c3.slider("rank r", 1, 256, 8, key="lora.r")
mc = lora.matrix_count(int(d), int(k), int(r))
m1, m2, m3, m4 = st.columns(4)
m1.metric("Full fine-tuning (d·k)", f"{mc['full']:,}")
m2.metric("LoRA r(d+k)", f"{mc['lora']:,}")
m3.metric("LoRA / full", f"{mc['percent']:.2f} %")
m4.metric("Reduction", f"{mc['reduction']:.1f}×")
if not mc["low_rank"]:
    st.warning(f"r = {r} is not below min(d, k) = {min(d, k)}: B·A is then no longer low rank and "
               "LoRA saves nothing over updating W directly.")


def matrices_figure(mc: dict) -> go.Figure:
    """W (d x k), B (d x r) and A (r x k) drawn with one common scale."""
    d, k, r = mc["d"], mc["k"], mc["r"]
    gap = max(d, k) * 0.25
    boxes = [("W₀", f"W₀ (frozen): {d}×{k} = {mc['full']:,}", 0, k, d, "#9aa5b1"),
             ("B", f"B (trainable): {d}×{r} = {mc['B']:,}", k + gap, r, d, "#e4572e"),
             ("A", f"A (trainable): {r}×{k} = {mc['A']:,}", k + 2 * gap + r, k, r, "#2e86ab")]
    fig = go.Figure()
    for short, label, x0, w, h, color in boxes:
        fig.add_shape(type="rect", x0=x0, x1=x0 + w, y0=d - h, y1=d, fillcolor=color, opacity=0.85,
                      line=dict(color="black", width=1))
        fig.add_annotation(x=x0 + w / 2, y=d, text=f"<b>{short}</b>", showarrow=False, yanchor="bottom",
                           yshift=4)
        # an invisible point per matrix gives a readable legend entry
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label,
                                 marker=dict(size=14, symbol="square", color=color)))
    total_w = 2 * k + r + 2 * gap
    fig.update_xaxes(visible=False, range=[-gap * 0.3, total_w + gap * 0.3], scaleanchor="y", scaleratio=1)
    fig.update_yaxes(visible=False, range=[-max(d, k) * 0.05, d + max(d, k) * 0.12])
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=10, b=10), showlegend=True,
                      legend=dict(x=1.0, xanchor="right", y=0.5, font=dict(size=14)))
    return fig


charts.show(matrices_figure(mc), key="lora.matrix_fig", main=True)
st.caption("Drawn to scale: the area of each block is its number of parameters. "
           "The course's example, 512 × 64 at r = 8, trains 4,608 numbers instead of 32,768.")

# --------------------------------------------------------------------------- 2. real models
st.header("2 · On real models")
st.markdown(
    "Pick a model and the modules to adapt (their real names inside the model). The count is "
    "$\\sum r(d_{out}+k_{in})$ over the chosen modules, the same number "
    "`peft.get_peft_model(...).print_trainable_parameters()` reports (checked in the tests)."
)
dev = common.device()
CHOICES = ["tiny GPT (ours, Shakespeare)", "all-MiniLM-L6-v2", "SmolLM2-135M-Instruct",
           "Published architectures (from their dimensions)"]
default_model = 0 if models.tiny_gpt_available() else 1
which = st.selectbox("Model", CHOICES, index=default_model, key="lora.model")
DEFAULT_TARGETS = {"tiny GPT (ours, Shakespeare)": ["c_attn"], "all-MiniLM-L6-v2": ["query", "value"],
                   "SmolLM2-135M-Instruct": ["q_proj", "v_proj"]}

if which.startswith("Published"):
    arch_names = list(lora.ARCHITECTURES)
    a1, a2 = st.columns([2, 1])
    targets = a1.multiselect("Adapted matrices (in every layer)",
                             ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                             default=["q_proj", "v_proj"], key="lora.arch_targets")
    ra = a2.select_slider("rank r", [1, 2, 4, 8, 16, 32, 64], value=4, key="lora.arch_r")
    rows = [lora.architecture_lora_count(a, ra, targets) for a in lora.ARCHITECTURES.values()]
    df = pd.DataFrame([{
        "model": x["model"], "layers": lora.ARCHITECTURES[x["model"]].n_layers,
        "d_model": lora.ARCHITECTURES[x["model"]].d_model,
        "LoRA trainable": f"{x['trainable']:,}", "share of model": f"{x['share_percent']:.4f} %",
        "fewer trainable params": f"{x['reduction']:,.0f}×",
        "adapter (fp16)": f"{x['adapter_mb_fp16']:.1f} MB", "full model (fp16)": f"{x['full_checkpoint_gb_fp16']:,.1f} GB",
    } for x in rows])
    st.dataframe(df, hide_index=True, width="stretch")
    gpt3 = rows[0]
    st.markdown(
        f"**GPT-3 175B**, r = {ra} on {', '.join(targets) or 'nothing'}: **{gpt3['trainable']:,}** "
        f"trainable parameters, an adapter of **{gpt3['adapter_mb_fp16']:.1f} MB** next to a "
        f"{gpt3['full_checkpoint_gb_fp16']:.0f} GB checkpoint. The paper's setting (r = 4 on W_q and "
        "W_v, all 96 layers) gives 18.9M parameters, about 35 MB in fp16 and roughly 10,000× fewer "
        "than the model: the figures in Hu et al. (sections 4.2 and 7.1). Their Table 4's "
        "4.7M-parameter GPT-3 run corresponds to r = 1 on W_q and W_v."
    )
    st.caption("Dimensions as published: GPT-3 175B 96 layers × d_model 12,288 (FFN 4×); LLaMA-7B "
               "32 × 4,096 (SwiGLU FFN 11,008); LLaMA-2-70B 80 × 8,192 with 8 key/value heads "
               "(k, v projections 1,024 wide). GPT-2/BERT use fused or differently named modules; "
               "here they are described with the same names for comparison.")
else:
    try:
        if which.startswith("tiny"):
            lm = loaders.tiny_gpt(dev)
        elif which.startswith("all-MiniLM"):
            lm = loaders.minilm(dev)
        else:
            lm = loaders.smollm2(dev)
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        common.stop_page()
    cands = lora.target_candidates(lm.model)
    b1, b2, b3 = st.columns([3, 1, 1])
    targets = b1.multiselect("Target modules (real names in this model)", cands,
                             default=[t for t in DEFAULT_TARGETS[which] if t in cands],
                             key=f"lora.targets_{CHOICES.index(which)}")
    rm = b2.select_slider("rank r", [1, 2, 4, 8, 16, 32, 64], value=8, key="lora.model_r")
    alpha = b3.number_input("alpha", 1, 512, 16, key="lora.alpha",
                            help="Does not change the count: it scales the update by alpha / r.")
    try:  # peft refuses an empty list (and targets it cannot wrap): say so instead of 0
        s = lora.lora_summary(lm.model, rm, targets)
    except lora.LoraTargetError as exc:
        s = None
        st.info(str(exc))
    if s is not None:
        n1, n2, n3, n4 = st.columns(4)
        n1.metric("Trainable (LoRA)", f"{s['trainable']:,}")
        n2.metric("Share of all parameters", f"{s['share_percent']:.3f} %", help=f"of {s['total']:,}")
        n3.metric("Adapter file, fp32", f"{s['mb_fp32']:.2f} MB", help=f"full model: {s['full_mb_fp32']:.0f} MB")
        n4.metric("Adapter file, bf16", f"{s['mb_bf16']:.2f} MB")
        st.caption(f"{lm.name}: {s['total']:,} parameters in total; scaling α/r = {alpha / rm:g}.")
        bk = pd.DataFrame(s["by_kind"])
        fig = go.Figure([go.Bar(name="frozen weights", x=bk["kind"], y=bk["frozen"], marker_color="#9aa5b1"),
                         go.Bar(name="LoRA A+B", x=bk["kind"], y=bk["lora"], marker_color="#e4572e")])
        fig.update_layout(barmode="group", yaxis=dict(**figures.log_axis(list(bk["frozen"]) + list(bk["lora"])),
                                                      title="parameters (log scale)"),
                          height=320, margin=dict(l=10, r=10, t=30, b=10))
        charts.show(fig, key="lora.kind_fig")
        st.dataframe(bk.rename(columns={"kind": "module", "modules": "count", "frozen": "frozen params",
                                        "lora": "LoRA params"}), hide_index=True, width="stretch")
        with st.expander(f"Every adapted module ({len(s['rows'])})"):
            st.dataframe(pd.DataFrame(s["rows"]), hide_index=True, width="stretch")

# --------------------------------------------------------------------------- 3. by hand
st.header("3 · LoRA by hand")
st.markdown(
    "Our own `LoRALinear` (about 30 lines in `lessons/finetune/lora.py`): a frozen random layer must learn a "
    "target that differs by a rank-2 change. $B$ starts at zero, so at step 0 the output equals "
    "$W_0x$ exactly. After training, **merging** folds the update into one matrix, "
    "$W = W_0 + \\frac{\\alpha}{r}BA$, and gives the same outputs with no extra cost at inference. "
    "Finally peft's own LoRA layer, given our $A$ and $B$, must produce the same numbers."
)
h1, h2, h3, h4, h5 = st.columns(5)
hd = h1.slider("d", 8, 128, 64, step=8, key="lora.hand_d")
hk = h2.slider("k", 8, 128, 32, step=8, key="lora.hand_k")
hr = h3.slider("r", 1, 16, 4, key="lora.hand_r")
ha = h4.select_slider("alpha", [1, 2, 4, 8, 16, 32], value=8, key="lora.hand_alpha")
hseed = h5.number_input("seed", 0, 9999, 0, key="lora.hand_seed")


@st.cache_data(show_spinner="Training LoRALinear ...", max_entries=32)
def by_hand(d: int, k: int, r: int, alpha: int, seed: int) -> dict:
    return lora.lora_by_hand_demo(d=d, k=k, r=r, alpha=alpha, seed=seed, steps=200)


demo = by_hand(int(hd), int(hk), int(hr), int(ha), int(hseed))
o1, o2, o3, o4 = st.columns(4)
o1.metric("max |LoRA − W₀x| at init", f"{demo['init_max_diff']:.1e}")
o2.metric("max |merged − adapter|", f"{demo['merge_max_diff']:.1e}")
o3.metric("max |peft − ours|", f"{demo['peft_max_diff']:.1e}")
o4.metric("Loss after training (MSE)", f"{demo['final_loss']:.2e}",
          delta=f"{demo['final_loss'] - demo['start_loss']:+.3f} (from {demo['start_loss']:.3f})",
          delta_color="inverse")
st.caption(f"{demo['trainable']:,} trainable numbers (A and B) next to {demo['frozen']:,} frozen ones; "
           f"base weight unchanged after training: {demo['base_unchanged']}.")

fig = make_subplots(rows=1, cols=3, subplot_titles=("Training loss (MSE)", "Target change UV",
                                                    "Learned (α/r)·BA"))
fig.add_trace(go.Scatter(y=demo["losses"], mode="lines", name="loss"), 1, 1)
lim = float(demo["true_delta"].abs().max())
fig.add_trace(go.Heatmap(z=demo["true_delta"].numpy(), zmin=-lim, zmax=lim, colorscale="RdBu",
                         showscale=False), 1, 2)
fig.add_trace(go.Heatmap(z=demo["delta"].numpy(), zmin=-lim, zmax=lim, colorscale="RdBu",
                         showscale=True), 1, 3)
fig.update_yaxes(**figures.log_axis(demo["losses"]), row=1, col=1)
fig.update_yaxes(autorange="reversed", row=1, col=2)
fig.update_yaxes(autorange="reversed", row=1, col=3)
fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
charts.show(fig, key="lora.hand_fig")
sv = demo["delta_singular_values"]
st.caption("Singular values of the learned update: "
           + ", ".join(f"{v:.3f}" for v in sv[: min(len(sv), hr + 2)])
           + f" … — at most r = {hr} are non-zero, because BA has rank ≤ r.")

common.try_this(
    "Set d = 12,288, k = 12,288 (one GPT-3 attention matrix) and r = 4: how many times fewer numbers train?",
    "On SmolLM2, compare q_proj + v_proj with all seven projections at the same rank. Which "
    "module kind dominates the count, and why are v_proj's adapters smaller than q_proj's?",
    "In *Published architectures*, keep the count of GPT-3 fixed at ~18.9M: r = 8 on one matrix "
    "type, r = 4 on two, r = 2 on four (the LoRA paper's Table 5 budget).",
    "In LoRA by hand, set r = 1 while the target change has rank 2: the loss cannot reach zero.",
)
