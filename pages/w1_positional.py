# lesson: Positional encoding
# week: 1
# order: 12
# icon: 📍
# topics: positional encoding, sinusoidal, learned positions, rotary embeddings, RoPE
# summary: Sinusoidal encodings with live sliders, MiniLM's learned positions and SmolLM2's rotary embeddings.
"""Positional encoding: sinusoidal (heatmap + similarity), learned (MiniLM), rotary (SmolLM2)."""
import plotly.graph_objects as go
import streamlit as st

from lessons.transformer import positional
from ui import charts, common, figures, loaders

st.title("📍 Positional encoding")
st.markdown(
    "Attention compares every token with every other token, but nothing in that comparison says "
    "*where* a token is: shuffle the words and each one gets the same weights, just shuffled. "
    "So *dog bites man* and *man bites dog* would look alike. Transformers therefore inject position. "
    "The original paper **adds** a fixed pattern of sines and cosines to each embedding."
)
st.latex(r"PE_{(pos,\,2i)} = \sin\!\Big(\frac{pos}{10000^{2i/d}}\Big),\qquad "
         r"PE_{(pos,\,2i+1)} = \cos\!\Big(\frac{pos}{10000^{2i/d}}\Big)")

c1, c2 = st.columns(2)
with c1:
    length = st.slider("Sequence length (positions)", 8, 256, 64, step=8, key="positional.len")
with c2:
    d_model = st.slider("d_model (dimensions)", 16, 512, 128, step=16, key="positional.d")
pe = positional.sinusoidal(length, d_model)
sim = positional.cosine_between_positions(pe)
c1, c2 = charts.main_figure().columns(2)   # the sinusoidal table and what it makes of positions
with c1:
    charts.show(figures.heatmap(pe, [str(i) for i in range(d_model)], [str(p) for p in range(length)],
                               title=f"PE: {length} positions × {d_model} dimensions", colorscale="RdBu",
                               zmin=-1, zmax=1, x_title="dimension", y_title="position", height=520), key="positional.pe", fit=True)
with c2:
    charts.show(figures.heatmap(sim, [str(p) for p in range(length)], [str(p) for p in range(length)],
                               title="cosine similarity between positions", colorscale="Viridis",
                               zmin=float(sim.min()), zmax=1, x_title="position", y_title="position",
                               height=520), key="positional.sim", fit=True)
st.markdown(
    f"Left: each column is a wave; the first columns turn fast, the last ones barely move, so every "
    f"row is a unique code. Right: position 10 is most similar to 9 and 11 "
    f"(cos {float(sim[min(10, length - 1), min(11, length - 1)]):.3f}) and less to 30"
    + (f" (cos {float(sim[10, 30]):.3f})" if length > 30 else "") + " — closeness in position is visible to the model."
)

st.header("What our two models actually use")
st.subheader("MiniLM: learned absolute positions")
st.markdown(
    "BERT-style encoders such as all-MiniLM-L6-v2 do not use the formula: they **learn** a table "
    "of 512 position vectors (384 numbers each) during pretraining and add row *pos* to the token "
    "at position *pos*. Learning found a similar structure on its own: neighbours are alike."
)
n_pos = st.slider("Learned positions to compare", 16, 512, 128, step=16, key="positional.learned")
dev = common.device()
learned = positional.learned_positions(loaders.minilm(dev), n_pos)
lsim = positional.cosine_between_positions(learned)
charts.show(figures.heatmap(lsim, [str(p) for p in range(n_pos)], [str(p) for p in range(n_pos)],
                           title=f"MiniLM: cosine similarity of its first {n_pos} learned position vectors",
                           colorscale="Viridis", zmin=float(lsim.min()), zmax=1, x_title="position",
                           y_title="position", height=480), key="positional.learned_fig")

st.subheader("SmolLM2: rotary position embeddings (RoPE)")
smol_cfg = loaders.smollm2(dev).model.config
base = float(smol_cfg.rope_parameters["rope_theta"])
head_dim = int(getattr(smol_cfg, "head_dim", smol_cfg.hidden_size // smol_cfg.num_attention_heads))
st.markdown(
    f"SmolLM2 adds **nothing** to its embeddings. Instead, in each of its 30 attention layers, every "
    f"query and key vector (64 numbers per head) is cut into {head_dim // 2} pairs and each pair is "
    f"**rotated** by an angle that grows with the position: pair *i* turns by "
    f"m·θᵢ with θᵢ = {base:,.0f}^(−2i/{head_dim}). Rotating both q and k means their dot product only "
    f"sees the angle *between* them, i.e. the distance m − n."
)
st.latex(r"\begin{pmatrix}q'_i\\ q'_{i+d/2}\end{pmatrix} = \begin{pmatrix}\cos m\theta_i & -\sin m\theta_i\\ "
         r"\sin m\theta_i & \cos m\theta_i\end{pmatrix}\begin{pmatrix}q_i\\ q_{i+d/2}\end{pmatrix},\qquad "
         r"\theta_i = \text{base}^{-2i/d}")
c1, c2 = st.columns(2)
with c1:
    pair = st.slider("Dimension pair i", 0, head_dim // 2 - 1, 0, key="positional.rope_pair")
    n_show = st.slider("Positions m", 2, 32, 8, key="positional.rope_positions")
    track = positional.rope_pair_track(pair, head_dim, base, n_show)
    theta = float(positional.rope_frequencies(head_dim, base)[pair])
    fig = go.Figure()
    for m in range(n_show):
        fig.add_trace(go.Scatter(x=[0, float(track[m, 0])], y=[0, float(track[m, 1])], mode="lines+markers+text",
                                 text=["", f"m={m}"], textposition="top center", showlegend=False,
                                 marker=dict(size=[0, 8])))
    fig.update_layout(title=f"pair {pair}: θ = {theta:.4g} rad per position", height=460,
                      xaxis=dict(range=[-1.3, 1.3], zeroline=True), yaxis=dict(range=[-1.3, 1.3], scaleanchor="x"),
                      margin=dict(l=10, r=10, t=50, b=10))
    charts.show(fig, key="positional.rope_circle")
    st.caption(f"The vector (1, 0) of pair {pair} at positions 0..{n_show - 1}. Pair 0 turns a full radian per "
               f"token; the last pair turns {float(positional.rope_frequencies(head_dim, base)[-1]):.2e} rad per token "
               "(it tells far-apart positions apart).")
with c2:
    seed = st.number_input("Seed for q and k", 0, 10_000, 0, key="positional.rope_seed")
    q, k = positional.random_qk(head_dim, seed)
    scores = positional.rope_scores(q, k, 24, base)
    charts.show(figures.heatmap(scores, [str(i) for i in range(24)], [str(i) for i in range(24)],
                               title="q·k with q at position m and k at n", colorscale="RdBu",
                               zmin=-float(scores.abs().max()), zmax=float(scores.abs().max()),
                               x_title="key position n", y_title="query position m", height=460), key="positional.rope_scores")
    st.caption("The same q and k vectors, only their positions change. Every diagonal is constant: "
               "the score depends on m − n alone (relative position), not on where the pair sits.")

common.try_this(
    "Set d_model to 16: fewer clocks, and far positions start to look alike (right heatmap).",
    "Drag the learned-positions slider to 512: does the neighbour structure hold for far positions "
    "(sentence-transformers fine-tuned this model on short texts)?",
    "RoPE: move the pair slider from 0 to 31 and watch the turning speed drop from 1 rad to almost nothing.",
    "Change the q/k seed: the pattern changes, but the diagonals stay constant.",
)
