# lesson: Embeddings: words as vectors
# week: 1
# order: 11
# icon: 🧭
# topics: embeddings, token embeddings, PCA, cosine similarity, contextual embeddings
# summary: The embedding vectors of real models projected to 2-D/3-D, their cosine similarities, and how context changes a word's vector.
"""Embeddings: static token vectors (PCA + cosine) and MiniLM's contextual vectors."""
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from lessons.transformer import embeddings
from ui import charts, common, figures, inputs, loaders, transformer

st.title("🧭 Embeddings: words as vectors")
st.markdown(
    "The first layer of a transformer is a table with one learned vector per token id. During "
    "training, tokens used in similar ways get similar vectors, so directions in this space carry "
    "meaning. We can't draw 576 dimensions, so **PCA** finds the 2 or 3 directions in which your "
    "words differ most and draws those; **cosine similarity** compares the full vectors."
)
st.latex(r"x_i = E[t_i] \in \mathbb{R}^{D},\qquad \cos(a,b) = \frac{a\cdot b}{\lVert a\rVert\,\lVert b\rVert}")

c1, c2, c3 = st.columns([2, 3, 1])
with c1:
    choice = st.radio("Embedding table", ["SmolLM2 (49,152 × 576)", "MiniLM (30,522 × 384)"], key="embeddings.model")
with c2:
    groups = st.multiselect("Word groups", list(embeddings.PRESETS), default=["royalty & gender", "numbers", "weekdays"],
                            key="embeddings.groups")
    own = st.text_input("Your own words (comma-separated)", "apple, banana", key="embeddings.words")
with c3:
    dims = st.radio("PCA", ["2-D", "3-D"], key="embeddings.dims")

own_clean = inputs.clean_text(own, max_chars=400, what="words", allow_empty=True) or ""
mine = [w.strip() for w in own_clean.split(",") if w.strip()]
words, group_of = [], {}
for g in groups:
    for w in embeddings.PRESETS[g]:
        if w not in group_of:
            words.append(w)
            group_of[w] = g
for w in mine:
    if w not in group_of:
        words.append(w)
        group_of[w] = "your words"
if len(words) > embeddings.MAX_WORDS:
    st.warning(f"{len(words)} words: only the first {embeddings.MAX_WORDS} are plotted.")
    words = words[:embeddings.MAX_WORDS]
if len(words) < 3:
    st.info("Pick at least one group or type at least 3 words to compare.")
    common.stop_page()

dev = common.device()
lm = transformer.load(transformer.SMOLLM2 if choice.startswith("SmolLM2") else transformer.MINILM, dev)
wv = embeddings.word_vectors(lm, words)
k = 3 if dims == "3-D" else 2
proj, ratio = embeddings.pca(wv.vectors, k)
labels = [figures.esc(w) for w in wv.words]
grp = [group_of[w] for w in wv.words]
hover = [figures.esc(f"{w}: tokens {' '.join(p)}") for w, p in zip(wv.words, wv.pieces)]
if k == 3:
    fig = px.scatter_3d(x=proj[:, 0], y=proj[:, 1], z=proj[:, 2], color=grp, text=labels, hover_name=hover,
                        labels={"x": "PC 1", "y": "PC 2", "z": "PC 3", "color": "group"},
                        color_discrete_sequence=px.colors.qualitative.D3)
    fig.update_traces(marker=dict(size=4))
else:
    fig = px.scatter(x=proj[:, 0], y=proj[:, 1], color=grp, text=labels, hover_name=hover,
                     labels={"x": "PC 1", "y": "PC 2", "color": "group"}, color_discrete_sequence=px.colors.qualitative.D3)
    xs, ys = [float(v) for v in proj[:, 0]], [float(v) for v in proj[:, 1]]
    fig.update_traces(marker=dict(size=9))
    transformer.place_scatter_labels(fig, xs, ys, labels)   # labels that do not collide; leader lines in a cluster
fig.update_layout(height=560, margin=dict(l=10, r=10, t=40, b=10),
                  title=f"PCA of {len(wv.words)} token embeddings ({wv.vectors.shape[1]}-D → {k}-D)")
charts.show(fig, key="embeddings.pca", main=True)
split = [w for w, p in zip(wv.words, wv.pieces) if len(p) > 1]
st.caption(
    f"These {k} axes keep {float(ratio.sum()):.0%} of the variance of these words "
    f"({', '.join(f'{float(r):.0%}' for r in ratio)}); the rest is invisible here. "
    + (f"Split into several tokens (their vectors are averaged): {inputs.md_escape(', '.join(split))}." if split else "")
)

sim = embeddings.cosine_matrix(wv.vectors)
st.subheader("Cosine similarity (full vectors)")
charts.show(figures.heatmap(sim, wv.words, wv.words, zmin=-1, zmax=1, colorscale="RdBu",
                           text_fmt=".2f" if len(wv.words) <= 16 else None, height=200 + 26 * len(wv.words)), key="embeddings.cos")
unk = embeddings.unknown_words(lm, wv)
if unk:
    st.warning(f"{lm.name}'s WordPiece vocabulary has no piece for "
               f"{inputs.md_escape(', '.join(unk))}: they all become the unknown token "
               f"`{lm.tokenizer.unk_token}`, so they share ONE row of the table, the same vector and a cosine "
               "of 1.000 with each other, whatever they mean. SmolLM2's byte-level BPE never needs an "
               "unknown token: it falls back to bytes.")
best = embeddings.most_similar_pair(wv, sim)
if best is not None:
    i, j, c = best
    st.markdown(f"Most similar pair: **{inputs.md_escape(wv.words[i])}** and **{inputs.md_escape(wv.words[j])}** "
                f"(cosine {c:.3f}). Words that became the same tokens are not counted as a pair.")

st.header("Contextual embeddings")
st.markdown(
    "The table gives *bank* one vector, whatever the sentence. An encoder like MiniLM then mixes "
    "in the other words, layer by layer, through attention. Below: the cosine similarity between "
    "the vectors of the same word in two sentences, after the embedding layer (which also adds "
    "the position) and after each of MiniLM's 6 layers."
)
c1, c2, c3 = st.columns([1, 3, 3])
with c1:
    word = st.text_input("Word", "bank", key="embeddings.ctx_word")
with c2:
    sa = st.text_input("Sentence A", "We sat on the river bank and watched the water.", key="embeddings.ctx_a")
with c3:
    sb = st.text_input("Sentence B", "I deposited the money at the bank this morning.", key="embeddings.ctx_b")
word_c = inputs.clean_text(word, max_chars=40, what="word")
sa_c = inputs.clean_text(sa, max_chars=300, what="sentence")
sb_c = inputs.clean_text(sb, max_chars=300, what="sentence")
if word_c and sa_c and sb_c:
    try:
        ctx = embeddings.contextual(loaders.minilm(dev), word_c, sa_c, sb_c)
    except ValueError as exc:
        st.info(str(exc))
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric("static table vectors", f"{ctx.static_similarity:.3f}")
        c2.metric("after the embedding layer", f"{ctx.layer_similarity[0]:.3f}")
        c3.metric("after the last layer", f"{ctx.layer_similarity[-1]:.3f}")
        fig = go.Figure(go.Scatter(x=list(range(len(ctx.layer_similarity))), y=ctx.layer_similarity,
                                   mode="lines+markers"))
        fig.update_layout(height=320, xaxis_title="layer (0 = embeddings + position)", yaxis_title="cosine",
                          yaxis_range=[0, 1.05], margin=dict(l=10, r=10, t=30, b=10),
                          title=f"“{figures.esc(ctx.word)}” in A vs in B")
        charts.show(fig, key="embeddings.ctx_curve")
        st.caption(f"MiniLM tokens for the word: A {inputs.md_escape(' '.join(ctx.pieces_a))}, "
                   f"B {inputs.md_escape(' '.join(ctx.pieces_b))}.")

common.try_this(
    "Show only *royalty & gender*: do the male and female words fall on two parallel lines?",
    "Switch between SmolLM2 and MiniLM: two models trained differently, different maps — yet weekdays stay together.",
    "Add `Paris, London, Berlin, pizza` as your words. Which cluster do they join?",
    "Contextual: use the same meaning in both sentences (`the bank approved my loan`): the similarity stays higher.",
)
