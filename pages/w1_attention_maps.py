# lesson: Attention maps of real models
# week: 1
# order: 14
# icon: 🔍
# topics: attention maps, multi-head attention, causal mask, grouped-query attention, BERT, SmolLM2
# summary: See every layer and head of MiniLM (bidirectional) and SmolLM2 (causal) attend over your own sentence.
"""Real attention maps: per layer and head, all heads as small multiples, one token's view,
the head average, and a by-hand recomputation that matches the model."""
import streamlit as st

from lessons.transformer import attention as attn
from ui import charts, common, figures, inputs, transformer

st.title("🔍 Attention maps of real models")
st.markdown(
    "Each attention head gives every token a row of weights over the other tokens: *how much "
    "should I take from you?* Here you see those weights inside two real pretrained "
    "transformers. **all-MiniLM-L6-v2** is an encoder: every token sees the whole sentence. "
    "**SmolLM2-135M-Instruct** is a decoder: a token sees only itself and the tokens before "
    "it, so everything above the diagonal is exactly zero."
)
st.latex(r"A^{(\ell,h)} = \operatorname{softmax}\!\Big(\frac{Q^{(\ell,h)} {K^{(\ell,h)}}^{\top}}{\sqrt{d_k}} + M\Big),"
         r"\qquad \text{row } i \text{ sums to } 1")

c1, c2 = st.columns([1, 2])
with c1:
    choice = st.radio("Model", transformer.MODELS, key="attention-maps.model")
with c2:
    raw = st.text_area("Your text", "The animal didn't cross the street because it was too tired.",
                       key="attention-maps.text", height=80)
text = inputs.clean_text(raw)
if text is None:
    common.stop_page()

dev = common.device()
try:
    run = transformer.attention_run(choice, text, dev)
except Exception as exc:  # a missing model package: say so instead of a traceback
    common.show_model_error(exc)
    common.stop_page()

T = len(run.ids)
if run.truncated:
    st.warning(f"Your text is {run.n_tokens_full} tokens long for this model; only the first "
               f"{run.max_tokens} tokens are used (the attention-map limit on this page).")
gqa = ""
if run.n_kv_heads != run.n_heads:
    gqa = (f" It uses **grouped-query attention**: {run.n_heads} query heads but only "
           f"{run.n_kv_heads} key/value heads, so each group of {run.n_heads // run.n_kv_heads} "
           "query heads shares one set of keys and values (heads 0-2 → KV 0, 3-5 → KV 1, 6-8 → KV 2).")
st.caption(
    f"**{run.model_name}**, {run.kind}: {run.n_layers} layers × {run.n_heads} heads of size "
    f"{run.head_dim}; positions: {run.positions}.{gqa} Your text → **{T} tokens** (limit {run.max_tokens})."
)

c1, c2 = st.columns(2)
with c1:
    layer = st.slider("Layer", 0, run.n_layers - 1, min(1, run.n_layers - 1), key="attention-maps.layer")
with c2:
    head_opts = ["average of all heads"] + [f"head {h}" for h in range(run.n_heads)]
    head_choice = st.selectbox("Head", head_opts, index=1, key="attention-maps.head")
head = None if head_choice == head_opts[0] else int(head_choice.split()[1])

mat = attn.head_average(run, layer) if head is None else run.attentions[layer, head]
what = "average of all heads" if head is None else f"head {head}" + (
    f" (shares keys/values with KV head {run.kv_head(head)})" if gqa else "")
left, right = charts.main_figure().columns([3, 2])
with left:
    fig = figures.heatmap(mat, run.labels, run.labels, title=f"Layer {layer}, {what}", zmin=0, zmax=float(mat.max()),
                     x_title="key (attended to)", y_title="query (attending)")
    charts.show(fig, key="attention-maps.heatmap")
with right:
    q_opts = list(range(T))
    # default: the last token that holds a letter (not [SEP] or a full stop)
    wordy = [i for i, l in enumerate(run.labels) if any(c.isalpha() for c in l) and not l.startswith("[")]
    default_q = wordy[-1] if wordy else T - 1
    query = st.selectbox("What does this token attend to?", q_opts, index=default_q,
                         format_func=lambda i: f"{i}: {run.labels[i]}", key="attention-maps.query")
    row = attn.attends_to(run, layer, head, query)
    top = int(row.argmax())
    charts.show(figures.bar(row, run.labels, horizontal=True, title=f"Token {query} “{run.labels[query]}” attends to",
                           x_title="attention weight", height=min(700, (110 + 22 * T) if charts.presenting() else (120 + 18 * T))), key="attention-maps.row")
    if not charts.presenting():   # on a projector the bars say it; the figure must fit the screen
        st.markdown(f"Strongest: **{inputs.md_escape(run.labels[top])}** (token {top}) with weight "
                    f"**{float(row[top]):.3f}**; the row sums to {float(row.sum()):.4f}.")

st.subheader(f"All {run.n_heads} heads of layer {layer}")
titles = [f"head {h}" + (f" · KV {run.kv_head(h)}" if gqa else "") for h in range(run.n_heads)]
charts.show(figures.small_multiples(run.attentions[layer], titles,
                                   cols=3 if run.n_heads == 9 else 4), key="attention-maps.multiples")

st.subheader("Check: recompute this layer by hand")
by_hand = attn.recompute_layer(transformer.load(choice, dev), run, layer)
diff = float((by_hand - run.attentions[layer]).abs().max())
above = attn.upper_triangle_max(run.attentions[layer])
c1, c2, c3 = st.columns(3)
c1.metric("max |by hand − model| (this layer)", f"{diff:.1e}")
c2.metric("largest weight above the diagonal", f"{above:.3f}")
c3.metric("tokens", f"{T}")
steps = ("RMSNorm → q_proj, k_proj → rotate q and k by position (RoPE) → repeat each KV head for its 3 query "
         "heads → QKᵀ/√64 → causal mask → softmax" if gqa else
         "query, key linear layers (with bias) → split into 12 heads of 32 → QKᵀ/√32 → softmax (no mask)")
st.markdown(
    f"The maps above are the model's own `output_attentions`. Starting from the hidden state that "
    f"enters layer {layer}, our function `scaled_dot_product_attention` reproduces them: {steps}."
)

common.try_this(
    "SmolLM2: look at head averages in later layers — much weight lands on the first token. "
    "Models learn to park attention there when nothing else is relevant (an *attention sink*).",
    "MiniLM: pick the token *it* in the default sentence and step through layers; does some head "
    "link it to *animal*?",
    "Type the same word twice (`the cat saw the cat`) and find heads that attend to the previous "
    "copy, or to the token right before (previous-token heads).",
    "Paste a long paragraph: the page cuts it at 64 tokens and tells you.",
)
