# lesson: Self-attention by hand
# week: 1
# order: 13
# icon: 🧮
# topics: self-attention, scaled dot-product attention, query key value, causal mask, softmax
# summary: A tiny attention layer you can change, with Q, K, V, the scores, the mask, the softmax and the output all visible.
"""Self-attention by hand: every intermediate of softmax(QK^T/sqrt(d_k) + mask) V on 3-6
words with seeded toy embeddings, checked against torch's scaled_dot_product_attention."""
import streamlit as st

from lessons.transformer import attention as attn
from ui import charts, common, figures, inputs

st.title("🧮 Self-attention by hand")
st.markdown(
    "Every token is turned into three vectors: a **query** (what am I looking for?), a **key** "
    "(what do I offer?) and a **value** (what I pass on if chosen). Comparing one query with "
    "all keys by dot product says how relevant each token is; the softmax turns those scores into "
    "weights that sum to 1; the output is the weighted average of the values. Below, the "
    "embeddings and projection matrices are small random numbers (set by the seed) so that "
    "every number fits on screen."
)
st.latex(r"Q = XW_Q,\quad K = XW_K,\quad V = XW_V,\qquad "
         r"\operatorname{Attention}(Q,K,V) = \operatorname{softmax}\!\Big(\frac{QK^{\top}}{\sqrt{d_k}} + M\Big)V")
st.markdown(
    "Mask convention (same as PyTorch): a boolean mask is **True where attention is allowed**; "
    "blocked scores become −∞, and e^−∞ = 0, so blocked tokens get weight exactly 0."
)

c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
with c1:
    raw = st.text_input("3 to 6 words (split on spaces)", "the cat sat on the mat", key="self-attention.words")
with c2:
    d_k = st.slider("d_k", 2, 8, 4, key="self-attention.dk")
with c3:
    seed = st.number_input("Seed", 0, 10_000, 0, key="self-attention.seed")
with c4:
    causal = st.toggle("Causal mask", False, key="self-attention.causal")
    scaled = st.toggle("Divide by √d_k", True, key="self-attention.scale")

text = inputs.clean_text(raw, max_chars=200, what="words")
if text is None:
    common.stop_page()
words = text.split()
if len(words) < 3:
    st.info(f"Type at least 3 words (you have {len(words)}).")
    common.stop_page()
if len(words) > 6:
    st.warning(f"You typed {len(words)} words; only the first 6 are used so every number fits on screen.")
    words = words[:6]

ex = attn.toy_example(words, d_k=d_k, seed=int(seed), causal=causal, scale=scaled)
s = ex.steps
T = len(words)
labels = [f"{w}" for w in words]
dims = [f"d{i}" for i in range(d_k)]

st.subheader("1 · Queries, keys, values")
st.caption(f"X is {T} × 8: one made-up 8-number embedding per word, looked up in a table (the same "
           f"word always gets the same row, as in a real model's embedding matrix); W_Q, W_K, W_V are "
           f"8 × {d_k}; so Q, K and V are {T} × {d_k}. There is no positional encoding here.")
cols = st.columns(3)
for col, name, m in zip(cols, ("Q = X W_Q", "K = X W_K", "V = X W_V"), (ex.q, ex.k, ex.v)):
    with col:
        charts.show(figures.heatmap(m, dims, labels, title=name, colorscale="RdBu", zmin=-2, zmax=2,
                                   text_fmt=".2f", height=120 + 40 * T, showscale=False), key=f"self-attention.{name[0]}")
with st.expander("The embeddings X and the projection matrices"):
    cols = st.columns(4)
    for col, name, m, ylab in zip(cols, ("X", "W_Q", "W_K", "W_V"), (ex.x, ex.w_q, ex.w_k, ex.w_v),
                                  (labels, [f"e{i}" for i in range(8)], [f"e{i}" for i in range(8)],
                                   [f"e{i}" for i in range(8)])):
        xl = [f"e{i}" for i in range(8)] if name == "X" else dims
        with col:
            charts.show(figures.heatmap(m, xl, ylab, title=name, colorscale="RdBu", zmin=-2, zmax=2,
                                       text_fmt=".2f", height=400, showscale=False), key=f"self-attention.mat_{name}")

st.subheader("2 · Scores, mask, softmax, output")
scale_txt = f"/ √{d_k}  (× {s.scale:.3f})" if scaled else "(not scaled)"
masked_text = [[("−∞" if v == float("-inf") else f"{v:.2f}") for v in row] for row in s.masked.tolist()]
figs = [
    (figures.heatmap(s.scaled, labels, labels, title=f"QKᵀ {scale_txt}", colorscale="RdBu", zmin=-3, zmax=3,
                text_fmt=".2f", height=140 + 44 * T, showscale=False), "scores"),
    (figures.heatmap(s.masked, labels, labels, title="after the mask" + (" (causal)" if causal else " (none)"),
                colorscale="RdBu", zmin=-3, zmax=3, text=masked_text, height=140 + 44 * T, showscale=False), "masked"),
    (figures.heatmap(s.weights, labels, labels, title="softmax: rows sum to 1", zmin=0, zmax=1,
                text_fmt=".2f", height=140 + 44 * T, showscale=False), "weights"),
    (figures.heatmap(s.output, dims, labels, title="output = weights · V", colorscale="RdBu", zmin=-2, zmax=2,
                text_fmt=".2f", height=140 + 44 * T, showscale=False), "output"),
]
grid = charts.main_figure()          # scores -> mask -> softmax -> output: the lesson's main figure
per_row = 4 if charts.presenting() else 2   # one row on a projector, so all four fit on screen
if charts.presenting():   # ... where a cell is too narrow for its value at projector size: colours only
    for fig, _ in figs:    # (the values stay in each chart's "Chart as text")
        fig.update_traces(texttemplate=None, text=None)
for i, (fig, key) in enumerate(figs):
    if i % per_row == 0:
        cols = grid.columns(per_row)
    with cols[i % per_row]:
        charts.show(fig, key=f"self-attention.{key}", fit=True)

st.subheader("3 · One row, step by step")
qi = st.selectbox("Query token", list(range(T)), format_func=lambda i: f"{i}: {words[i]}", key="self-attention.query")
row_w = s.weights[qi]
allowed = [j for j in range(T) if ex.mask is None or bool(ex.mask[qi, j])]
st.markdown(
    f"Token **{inputs.md_escape(words[qi])}** may attend to {len(allowed)} of {T} tokens. Its scaled scores "
    f"are {', '.join(f'{float(s.scaled[qi, j]):.2f}' for j in allowed)}; after softmax its weights are "
    f"{', '.join(f'{float(row_w[j]):.3f}' for j in allowed)} (sum {float(row_w.sum()):.3f})."
)
terms = " + ".join(rf"{float(row_w[j]):.2f}\,v_{{{j}}}" for j in allowed)
out_vec = ", ".join(f"{float(v):.2f}" for v in s.output[qi])
st.latex(rf"\text{{out}}_{{{qi}}} = {terms} = [{out_vec}]")
top = int(row_w.argmax())
st.markdown(f"It takes most from **{inputs.md_escape(words[top])}** (weight {float(row_w[top]):.3f}).")

c1, c2, c3 = st.columns(3)
c1.metric("max |ours − torch SDPA|", f"{attn.torch_difference(ex):.1e}")
c2.metric(f"largest weight in row {qi}", f"{float(row_w.max()):.3f}")
c3.metric("std of the scores", f"{float(s.scaled[ex.mask if ex.mask is not None else slice(None)].std()):.2f}")

common.try_this(
    "Turn on the causal mask: the first word can only attend to itself (weight 1.00), the last to everybody.",
    "Set d_k = 8 and switch off *Divide by √d_k*: the scores spread out, the softmax gets peakier "
    "(watch *largest weight*). That saturation is what the √d_k prevents.",
    "Repeat a word (`the cat saw the cat`): identical words get identical rows of Q, K and V, and "
    "(without the causal mask) identical output rows: attention alone cannot tell the two *cat*s "
    "apart. That is the job of the positional encoding (lesson *Positional encoding*).",
    "Change the seed: other random projections, other attention pattern. In a real model W_Q, W_K, W_V are learned.",
)
