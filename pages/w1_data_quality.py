# lesson: Where pretraining data comes from
# week: 1
# order: 32
# icon: 🧹
# topics: pretraining data, web crawl, deduplication, quality filters, language identification
# summary: Put a messy scraped sample through deduplication, length, symbol, language, boilerplate and repetition filters and see how little survives.
"""Data-quality filters on a raw 'scraped' sample, with the kept fraction."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.pretraining import data_quality as dq
from ui import charts, common, inputs

st.title("🧹 Where pretraining data comes from")
st.markdown(
    "LLMs are pretrained on text scraped from the web, books and code: petabytes of it. Most of a "
    "raw crawl is junk for a language model: cookie banners, navigation menus, spam, tables of "
    "numbers, copies of the same page, text in other languages. Pipelines such as C4, Gopher's "
    "MassiveText and FineWeb throw it out with cheap rules before training; the course notes that "
    "only about **1–3 % of the scraped tokens** end up being used. Below, 30 documents written to "
    "look like a crawl go through the classic filters. Move the thresholds and watch the funnel."
)
st.latex(r"\text{kept fraction} = \frac{\#\,\text{documents passing every filter}}{\#\,\text{raw documents}}")

docs = dq.load_sample()
with st.expander("Add your own document to the sample"):
    raw = st.text_area("Your document", "", key="data-quality.own", height=100,
                       placeholder="Paste any text: a paragraph, a menu, some spam...")
    own = inputs.clean_text(raw, what="document", allow_empty=True)
    if own:
        docs = docs + [{"id": "yours", "source": "your document", "text": own}]

st.header("1 · The filters")
enabled = st.multiselect("Filters on (applied in this order; a document is rejected by the first that fails)",
                         list(dq.FILTER_ORDER), default=list(dq.FILTER_ORDER), key="data-quality.enabled")
c1, c2, c3, c4 = st.columns(4)
min_words = c1.slider("min words", 0, 80, 20, key="data-quality.min_words")
max_sym = c2.slider("max symbol share", 0.0, 0.5, 0.10, 0.01, key="data-quality.max_sym",
                    help="Characters that are not letters, digits or spaces, over all non-space characters.")
min_stop = c3.slider("min English stop words (of 8)", 0, 8, 2, key="data-quality.min_stop",
                     help="Gopher's rule: keep a document only if it has at least 2 of: the, be, to, of, and, that, have, with.")
near_dup = c4.slider("near-duplicate Jaccard ≥", 0.5, 1.0, 0.8, 0.05, key="data-quality.jaccard",
                     help="Similarity of the sets of word 5-grams; 1.0 = only exact copies.")
c5, c6, _ = st.columns([1, 1, 2])
max_boiler = c5.slider("max boilerplate lines", 0.0, 1.0, 0.3, 0.05, key="data-quality.boiler")
max_rep = c6.slider("max repeated lines", 0.0, 1.0, 0.3, 0.05, key="data-quality.rep")

cfg = dq.FilterConfig(min_words=min_words, max_symbol_ratio=max_sym, min_stopwords=min_stop,
                      near_dup_jaccard=near_dup, max_boilerplate_lines=max_boiler, max_repeated_lines=max_rep,
                      enabled=tuple(enabled))
report = dq.run_filters(docs, cfg)

st.header("2 · What survives")
m1, m2, m3 = st.columns(3)
m1.metric("Documents kept", f"{len(report.kept)} of {len(report.docs)}")
m2.metric("Kept fraction (documents)", f"{report.kept_fraction:.0%}")
m3.metric("Kept fraction (characters)", f"{report.kept_char_fraction:.0%}")

fig = go.Figure(go.Funnel(y=[s for s, _ in report.funnel], x=[n for _, n in report.funnel],
                          textinfo="value+percent initial"))
fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10))
charts.show(fig, key="data-quality.funnel", main=True)

table = pd.DataFrame([{
    "id": d.doc_id, "source": d.source, "verdict": "kept" if d.kept else f"rejected: {d.rejected_by}",
    "words": d.words, "symbol share": round(d.symbol_ratio, 2), "mean word length": round(d.mean_word_len, 1),
    "stop words": d.stopwords, "boilerplate lines": round(d.boilerplate_lines, 2),
    "repeated lines": round(d.repeated_lines, 2), "max Jaccard to kept": round(d.max_jaccard, 2),
    "text": d.text[:120].replace("\n", " ⏎ "),
} for d in report.docs])
show = st.radio("Show", ["all", "kept", "rejected"], horizontal=True, key="data-quality.show")
if show == "kept":
    table = table[table["verdict"] == "kept"]
elif show == "rejected":
    table = table[table["verdict"] != "kept"]
st.dataframe(table, hide_index=True, width="stretch")
if own:
    mine = report.docs[-1]
    st.info(f"Your document: {'kept ✅' if mine.kept else 'rejected by the ' + mine.rejected_by + ' filter ❌'} "
            f"({mine.words} words, symbol share {mine.symbol_ratio:.2f}, {mine.stopwords} stop words).")

st.markdown(
    "Real pipelines add more: URL block-lists, model-based quality classifiers (FineWeb-Edu keeps "
    "pages a classifier rates as educational), toxicity and personal-data scrubbing, and "
    "deduplication with MinHash over billions of pages. Each step trades quantity for quality, "
    "and the Chinchilla page shows why quantity matters too."
)
common.try_this(
    "Set the near-duplicate threshold to 1.0: only the exact copy (same words after lower-casing) still goes; the syndicated copy with '(Reuters)' added and the forum post with one extra sentence survive.",
    "Set min stop words to 0: French, German and Spanish now pass. What would a multilingual model need instead?",
    "Paste a paragraph of your own writing, then a shopping list: which filter catches the list?",
)
