# lesson: Next token, stage by stage
# week: 1
# order: 15
# icon: ➡️
# topics: decoder, next-token prediction, embeddings, transformer blocks, logits, softmax, logit lens
# summary: Follow your prompt through SmolLM2: tokens, embeddings, 30 blocks, final norm, logits, softmax, top-10, with every tensor shape.
"""One forward pass of SmolLM2 for the next token, with each stage's tensor shape."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.transformer import next_token
from ui import charts, common, figures, inputs, loaders


@st.cache_resource(max_entries=8, show_spinner="Running SmolLM2 on your prompt ...")
def _trace(prompt: str, dev: str) -> next_token.NextTokenTrace:
    return next_token.trace(loaders.smollm2(dev), prompt, top_k=10)


st.title("➡️ One next-token prediction, stage by stage")
st.markdown(
    "A decoder-only model like GPT or SmolLM2 does one thing: given the tokens so far, it "
    "outputs a probability for **every** token in its vocabulary to come next. Here is that one "
    "step for **SmolLM2-135M-Instruct**, with the shape of the tensor at each stage "
    "(1 = batch, T = number of tokens, 576 = model width, 49,152 = vocabulary)."
)
st.latex(r"p(t_{T+1}\mid t_1..t_T) = \operatorname{softmax}\big(W_E\,\mathrm{RMSNorm}(x_L)_T\big),\qquad "
         r"x_\ell = x_{\ell-1} + \mathrm{Attn}(\cdot) + \mathrm{MLP}(\cdot)")

raw = st.text_input("Prompt", "The capital of France is", key="next-token.prompt")
prompt = inputs.clean_text(raw, what="prompt")
if prompt is None:
    common.stop_page()
dev = common.device()
try:
    loaders.smollm2(dev)
    tr = _trace(prompt, dev)
except Exception as exc:
    common.show_model_error(exc)
    common.stop_page()
if tr.truncated:
    st.warning(f"Your prompt is {tr.n_tokens_full} tokens long; only the last {next_token.MAX_TOKENS} are used "
               "(the end is what the next token continues).")

st.subheader("The stages and their shapes")
st.table(pd.DataFrame([vars(s) for s in tr.stages]).set_index("step"))

st.subheader("1–2 · Tokens and their embeddings")
dims = st.slider("Embedding dimensions to show", 16, 576, 64, step=16, key="next-token.dims")
charts.show(figures.heatmap(tr.embeddings[:, :dims], [str(i) for i in range(dims)], tr.labels,
                           title=f"token embeddings: {len(tr.ids)} tokens × first {dims} of 576 numbers",
                           colorscale="RdBu", zmin=-0.15, zmax=0.15, height=160 + 24 * len(tr.ids)), key="next-token.emb")
# (the dimension axis is unlabeled on purpose: single dimensions carry no human meaning)
st.caption("ids: " + ", ".join(f"{inputs.md_escape(l)} = {i}" for l, i in zip(tr.labels, tr.ids)))

st.subheader("3 · Through the 30 blocks")
st.markdown(
    "Each block adds something to every position's vector (the *residual stream*). A trick called "
    "the **logit lens** reads the last position out after each block, as if the model stopped "
    "there: you can watch the answer form in the later layers."
)
layers = list(range(len(tr.lens_labels)))
norms = tr.block_outputs[:, -1].norm(dim=-1)
c1, c2 = st.columns(2)
with c1:
    fig = go.Figure(go.Scatter(x=layers, y=tr.lens_probs, mode="lines+markers+text",
                               text=[figures.esc(l) for l in tr.lens_labels], textposition="top center",
                               textfont=dict(size=10)))
    fig.update_layout(title="logit lens: top next token after each block", height=380,
                      xaxis_title="after block", yaxis_title="its probability", yaxis_range=[0, 1.1],
                      margin=dict(l=10, r=10, t=50, b=10))
    charts.show(fig, key="next-token.lens")
with c2:
    fig = go.Figure(go.Scatter(x=layers, y=norms.tolist(), mode="lines+markers"))
    fig.update_layout(title="size (L2 norm) of the last position's vector", height=380,
                      xaxis_title="after block", yaxis_title="‖x‖", margin=dict(l=10, r=10, t=50, b=10))
    charts.show(fig, key="next-token.norms")

st.subheader("4–8 · Final norm, logits, softmax, top-10")
k = st.slider("Show the top", 3, 10, 10, key="next-token.k")
c1, c2 = charts.main_figure().columns([3, 2])   # the model's output: the next-token distribution
with c1:
    fig = figures.bar(tr.top_probs[:k], tr.top_labels[:k], horizontal=True, title=f"top-{k} next tokens",
                 x_title="probability", height=120 + 30 * k)
    charts.show(fig, key="next-token.top", fit=True)
with c2:
    st.dataframe(pd.DataFrame({"token": tr.top_labels[:k], "id": tr.top_ids[:k],
                               "logit": [round(v, 3) for v in tr.top_logits[:k]],
                               "probability": [round(p, 4) for p in tr.top_probs[:k]]}),
                 hide_index=True, width="stretch", key="next-token.top_table")
st.markdown(
    f"Most likely next token: **{inputs.md_escape(tr.top_labels[0])}** with probability "
    f"**{tr.top_probs[0]:.3f}**. The top-10 together hold {sum(tr.top_probs):.1%} of the probability; "
    f"the other 49,142 tokens share the rest. The probabilities come straight from the logits: "
    f"p = e^logit / Σ e^logit, so a logit 1 higher means e ≈ 2.7 × more likely."
)

common.try_this(
    "`The capital of France is` → ` Paris` with about 0.77. Try `The capital of Italy is`.",
    "End your prompt with a space (`... is `): the top tokens change, because GPT-style tokens carry "
    "their leading space (␣Paris) and you already typed it.",
    "Watch the logit lens: in early blocks the top token is often generic (a comma, `the`); the answer "
    "appears only in the last third of the blocks.",
    "A prompt in French or with an emoji: the shapes stay the same, only T changes.",
)
