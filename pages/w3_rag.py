# lesson: RAG: retrieval-augmented generation
# week: 3
# order: 40
# icon: 📚
# topics: RAG, embeddings, vector store, chunking, cosine similarity, hit-rate
# summary: Chunk a handbook no model has seen, embed it with MiniLM, retrieve the top-k chunks and watch SmolLM2 answer with and without them.
"""RAG: chunking -> MiniLM embeddings -> cosine top-k in our own numpy vector store -> the
retrieved chunks, a PCA map, and SmolLM2 answering with vs without the context."""
import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.core import budget
from lessons.retrieval import rag, vector_store
from ui import charts, common, inputs, loaders, retrieval

st.title("📚 RAG: retrieval-augmented generation")
st.markdown(
    "A language model only knows what was in its training data. **Brightwater Cycles** is a "
    "company we made up for this lesson, so SmolLM2 has never read its handbook "
    f"({len(rag.documents())} short documents). Retrieval-augmented generation fixes that "
    "without any training: cut the documents into **chunks**, turn each chunk into a vector with "
    "a sentence encoder, find the chunks closest to the question, and paste them into the prompt."
)
st.latex(r"\operatorname{score}(q, c) = \cos(\mathbf{e}_q, \mathbf{e}_c) = "
         r"\frac{\mathbf{e}_q \cdot \mathbf{e}_c}{\lVert \mathbf{e}_q\rVert\,\lVert \mathbf{e}_c\rVert}"
         r"\qquad \text{top-}k = \operatorname{argsort}_c(-\operatorname{score})[:k]")
st.caption("The embeddings e are all-MiniLM-L6-v2 sentence vectors (mean of the token states, "
           "length 1), so cosine similarity is a plain dot product: the whole 'vector database' "
           "is one matrix multiply.")

dev = common.device()
encoder = common.model_or_stop(loaders.minilm, dev)

# --------------------------------------------------------------------------- 1. chunking
st.header("1 · Chunk and embed")
c1, c2, c3 = st.columns(3)
size = c1.slider("Chunk size (words)", 10, 120, 40, step=5, key="rag.size",
                 help="Small chunks are precise but may cut a fact in half; big chunks carry more context.")
overlap = c2.slider("Overlap (words)", 0, 60, 10, step=5, key="rag.overlap",
                    help="Words shared by neighbouring chunks, so a fact cut at a border survives in one of them.")
k = c3.slider("Top-k chunks", 1, 8, 3, key="rag.k")
if overlap >= size:
    st.warning(f"The overlap must be smaller than the chunk size; using {size - 5} words.")
    overlap = size - 5
index = retrieval.rag_index(size, overlap, dev, encoder)
m1, m2, m3 = st.columns(3)
m1.metric("Chunks in the store", len(index.chunks))
m2.metric("Vector size", index.store.dim)
m3.metric("Embedding all chunks", f"{index.seconds * 1000:.0f} ms")

# --------------------------------------------------------------------------- 2. retrieve
st.header("2 · Retrieve")
OWN = "✏️ Type my own question"
examples = [q["q"] for q in rag.questions()]
pick = st.selectbox("Question", examples + [OWN], key="rag.pick")
if pick == OWN:
    raw = st.text_input("Your question", "Can I bring my dog to work?", key="rag.own")
    question = inputs.clean_text(raw, max_chars=300, what="question")
    reference = None
else:
    question = pick
    reference = next(q["answer"] for q in rag.questions() if q["q"] == pick)
if question is None:
    common.stop_page()

hits, qvec = rag.retrieve(index, encoder, question, k)
rows = [{"rank": i + 1, "score": round(h.score, 3), "document": h.item.title, "chunk": h.item.text}
        for i, h in enumerate(hits)]
retrieved = charts.main_figure()   # the chunks the question retrieves: the lesson's main figure
retrieved.table(pd.DataFrame(rows).set_index("rank"))  # a table wraps the chunk text; a dataframe would cut it
if reference:
    found = [i + 1 for i, h in enumerate(hits) if vector_store.contains_answer(h.item.text, reference)]
    if found:
        retrieved.success(f"The reference answer ‘{reference}’ is in retrieved chunk #{found[0]}.")
    else:
        retrieved.warning(f"None of the top-{k} chunks contains the reference answer ‘{reference}’. "
                   "Try a larger k or different chunking.")
all_scores = index.store.scores(qvec)
st.caption(f"Best score {hits[0].score:.3f}; the median chunk scores {float(np.median(all_scores)):.3f} "
           f"against this question, the worst {float(all_scores.min()):.3f}.")

# A 2-D map: PCA of every chunk vector, the query projected on the same axes.
coords, qxy, ratio = vector_store.pca_2d(index.store.vectors, qvec)
top = {h.index for h in hits}
doc_ids = [c.doc_id for c in index.chunks]
fig = go.Figure()
palette = plotly.colors.qualitative.Alphabet  # 26 distinct colours: one per document
for j, doc in enumerate(dict.fromkeys(doc_ids)):
    ii = [i for i, d in enumerate(doc_ids) if d == doc]
    fig.add_trace(go.Scatter(
        x=coords[ii, 0], y=coords[ii, 1], mode="markers", name=index.chunks[ii[0]].title,
        marker=dict(color=palette[j % len(palette)], size=[16 if i in top else 8 for i in ii], line=dict(width=[2 if i in top else 0 for i in ii], color="black")),
        text=[index.chunks[i].text[:90] + " ..." for i in ii], hovertemplate="%{text}<extra></extra>"))
fig.add_trace(go.Scatter(x=qxy[:, 0], y=qxy[:, 1], mode="markers+text", name="your question",
                         marker=dict(symbol="star", size=20, color="black"), text=["question"],
                         textposition="top center"))
fig.update_layout(height=480, margin=dict(t=40, b=10),
                  title=f"Chunk embeddings, first two principal components ({ratio.sum():.0%} of the variance); big = retrieved",
                  xaxis_title="PC 1", yaxis_title="PC 2", legend=dict(font=dict(size=10)))
charts.show(fig, key="rag.map")
st.caption("PCA squeezes 384 dimensions into 2, so distances on the map are only a hint: the "
           "ranking above uses the full vectors.")

# --------------------------------------------------------------------------- 3. generate
st.header("3 · Generate with and without the context")
choice = loaders.instruct_choice("rag.model")
st.markdown("The model answers twice, greedily: once with the retrieved chunks in the "
            "prompt, once with the bare question. The raw prompt (chat template included) is shown.")
common.measured_box("rag", "the app's handbook questions, k = 3")
max_new = st.slider("Max new tokens", 8, 80, 40, step=8, key="rag.max_new")
model_short = choice.split(" (")[0]
if st.button(f"Ask {model_short}", key="rag.ask", type="primary"):
    try:
        llm = loaders.instruct_model(choice, dev)
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        common.stop_page()
    out = {}
    for name, ctx in (("with", hits), ("without", None)):
        prompt = rag.build_rag_prompt(llm.tokenizer, question, ctx)
        with st.spinner(f"Generating {name} the context ..."):
            out[name] = loaders.generate(prompt, max_new, 60.0, (), llm.name, dev, llm)
    st.session_state["rag.answers"] = {"question": question, "k": k, "size": size, "overlap": overlap,
                                       "max_new": max_new, "choice": choice, **out}
ans = st.session_state.get("rag.answers")
if ans and ans["question"] == question:
    if (ans["k"], ans["size"], ans["overlap"], ans["max_new"], ans.get("choice")) != (
            k, size, overlap, max_new, choice):
        st.info("Settings changed since these answers were generated: press the button again.")
    cols = st.columns(2)
    for col, name in zip(cols, ("with", "without")):
        g = ans[name]
        with col:
            st.subheader(f"{name.capitalize()} retrieved context")
            st.text(g["completion"] or "(empty answer)")
            verdict = ""
            busy = " (the server is busy: try again)" if g["stopped_by"] == "time limit" else \
                " (cut off by the token budget: raise *Max new tokens*)" if budget.was_cut_off(g["stopped_by"]) else ""
            if reference:
                verdict = " · states the reference answer ✅" if rag.answer_is_correct(g["completion"], reference) \
                    else " · reference not found ❌"
            st.caption(f"{g['n_prompt_tokens']} prompt tokens, {g['n_new_tokens']} new tokens, "
                       f"{g['seconds']:.1f} s, stopped by {g['stopped_by']}{busy}{verdict}")
            with st.expander("Raw prompt"):
                st.code(g["prompt"], language=None)
elif not ans or ans["question"] != question:
    st.caption("Press the button to generate (a few seconds on a laptop CPU; answers are cached).")

# --------------------------------------------------------------------------- 4. evaluate
st.header("4 · How good is the retriever?")
st.markdown(f"Hit-rate@k over our {len(rag.questions())} test questions: the share of questions for "
            "which a top-k chunk contains the reference answer. It measures retrieval only — if "
            "the right chunk is not retrieved, no generator can answer.")
hr = rag.hit_rate(index, encoder, k)
ks, curve = rag.hit_rate_curve(hr, k_max=8)        # k = 1..8, the k slider's range
e1, e2 = st.columns([1, 2])
e1.metric(f"Hit-rate@{k}", f"{hr.rate:.0%}")
e1.caption(f"Chunks of {size} words, overlap {overlap}.")
fig2 = go.Figure(go.Scatter(x=ks, y=curve, mode="lines+markers"))
fig2.update_layout(height=260, margin=dict(t=30, b=10), xaxis_title="k", yaxis_title="hit-rate",
                   yaxis_range=[0, 1.05], title="Hit-rate as k grows")
charts.show(fig2, key="rag.hit_curve", where=e2)
st.dataframe(pd.DataFrame(hr.rows), hide_index=True, width="stretch")

common.try_this(
    "Ask *What is the coffee machine called?* Without context SmolLM2 invents a name; with the "
    "retrieved chunk it can copy **Gustave**.",
    "Set the chunk size to 10 words with overlap 0, then 120 words: watch the hit-rate and the "
    "number of chunks. Where is the sweet spot for this handbook?",
    "Set k = 1 and find a question whose right chunk is ranked 2nd or 3rd (see the *rank* column).",
    "Type a question the handbook cannot answer (*Who won the 1998 World Cup?*): what are the "
    "best scores now, and does the model say *I don't know*?",
    "Look at the raw prompt: the context costs tokens. How many more tokens does the "
    "with-context prompt have, and what does that mean for a long document collection?",
)
