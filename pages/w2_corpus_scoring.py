# lesson: Scoring a whole test set
# week: 2
# order: 12
# icon: 📊
# topics: corpus BLEU, ROUGE averages, score distribution, CSV upload
# summary: Upload candidate/reference pairs (or use our dialogue-summary sample): per-row and corpus ROUGE, BLEU and chrF, a distribution plot and a CSV download.
"""Corpus scoring: per-row and corpus ROUGE / BLEU / chrF for a CSV of candidate/reference
pairs or the built-in dialogue-summary sample (lessons.evaluation.corpus_scoring.score_corpus)."""
import hashlib

import pandas as pd
import plotly.express as px
import streamlit as st

from lessons.evaluation import corpus_scoring
from ui import charts, common

st.title("📊 Scoring a whole test set")
st.markdown(
    "One example says little: papers report a metric over a **test set**. ROUGE is simply "
    "**averaged** over rows. BLEU is *not* an average of sentence BLEUs: corpus BLEU **adds up** "
    "the clipped n-gram counts and lengths of all rows first and computes one score, so long "
    "rows weigh more and one short row cannot zero the result."
)
st.latex(r"\text{BLEU}_{corpus} = BP\Big(\textstyle\sum_s c_s, \sum_s r_s\Big)\cdot\exp\Big(\frac1N\sum_{n}"
         r"\log\frac{\sum_s \text{clipped}_{s,n}}{\sum_s \text{total}_{s,n}}\Big)\qquad"
         r"\text{ROUGE}_{corpus} = \frac{1}{S}\sum_s F_1(s)")

METRICS = ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf"]
TEMPLATE = "candidate,reference\n\"Amanda will bring cookies.\",\"Amanda baked cookies and will bring Jerry some tomorrow.\"\n"

source = st.radio("Data", ["Built-in dialogue-summary sample", "Upload a CSV"], key="corpus-scoring.source", horizontal=True)
df = None
if source.startswith("Built-in"):
    sample = corpus_scoring.load_sample()
    df = pd.DataFrame({"candidate": [d["candidate"] for d in sample], "reference": [d["summary"] for d in sample]})
    st.caption(f"{len(df)} short dialogues written for this app, each with a human-style reference summary "
               "and a hand-written 'system' summary of varied quality (see the row inspector below).")
else:
    st.markdown(f"A UTF-8 CSV with a header row containing **candidate** and **reference** columns "
                f"(other columns are ignored). Limits: {corpus_scoring.MAX_CSV_ROWS:,} rows, "
                f"{corpus_scoring.MAX_CSV_BYTES / 1e6:.0f} MB. Quote texts that contain commas.")
    st.download_button("Download a template CSV", TEMPLATE, file_name="pairs_template.csv", mime="text/csv",
                       key="corpus-scoring.template")
    up = st.file_uploader("CSV file", type=["csv", "txt"], key="corpus-scoring.upload", max_upload_size=3)
    if up is None:
        st.info("Upload a file to score it, or switch to the built-in sample.")
        common.stop_page()
    try:
        df, notes = corpus_scoring.parse_pairs_csv(up.getvalue())
    except corpus_scoring.CorpusError as exc:
        st.error(f"Could not use this file: {exc}")
        common.stop_page()
    for n in notes:
        st.warning(n)


@st.cache_data(max_entries=8, show_spinner=False)
def _score(cands: tuple, refs: tuple, _digest: str):
    return corpus_scoring.score_corpus(list(cands), list(refs))


digest = hashlib.sha1(pd.util.hash_pandas_object(df).values.tobytes()).hexdigest()
with st.spinner(f"Scoring {len(df):,} rows ..."):
    rows, corpus = _score(tuple(df["candidate"]), tuple(df["reference"]), digest)
res = pd.concat([pd.DataFrame(rows), df.reset_index(drop=True)], axis=1)   # scores first, texts last

st.subheader("Corpus scores")
cols = st.columns(6)
for col, (k, label) in zip(cols, [("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"),
                                  ("rougeLsum", "ROUGE-Lsum"), ("bleu", "corpus BLEU"), ("chrf", "corpus chrF")]):
    col.metric(label, f"{corpus[k]:.3f}" if k.startswith("rouge") else f"{corpus[k]:.2f}",
               help="mean of row F1s" if k.startswith("rouge") else "sacreBLEU corpus-level (0..100)")
st.markdown(f"Corpus BLEU **{corpus['bleu']:.2f}** vs the *mean of sentence BLEUs* "
            f"**{corpus['mean_sentence_bleu']:.2f}**: not the same number — report which one you use.")
st.code(corpus["bleu_signature"], language=None)

st.subheader("Distribution over rows")
metric = st.selectbox("Metric", METRICS, key="corpus-scoring.metric",
                      format_func=lambda m: {"bleu": "sentence BLEU", "chrf": "chrF"}.get(m, m))
scale = 1.0 if metric.startswith("rouge") else 100.0
fig = px.histogram(res, x=metric, nbins=20, range_x=[0, scale], labels={metric: metric})
fig.add_vline(x=float(res[metric].mean()), line_dash="dash", line_color="crimson",
              annotation_text=f"mean {res[metric].mean():.3f}", annotation_position="top",
              # above the plot area, never on top of a bar
              annotation=dict(yref="paper", y=1.0, yanchor="bottom", font=dict(size=14, color="crimson")))
fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), bargap=0.05, yaxis_title="rows",
                  # whole rows: step 1 while the tallest of the 20 bins is short, else plotly's ticks
                  yaxis=dict(dtick=1) if (res[metric] / scale * 20).clip(0, 19).astype(int).value_counts().max() <= 6
                  else {})
charts.show(fig, key="corpus-scoring.hist", main=True)
long = res.melt(id_vars=["row"], value_vars=["rouge1", "rouge2", "rougeL", "rougeLsum"], var_name="metric",
                value_name="F1")
box = px.box(long, x="metric", y="F1", points="all", hover_data=["row"])
box.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), yaxis_range=[0, 1.05])
charts.show(box, key="corpus-scoring.box")
st.caption("Each dot is one row. A mean hides the spread: look at the worst rows before trusting the average.")

st.subheader("Per-row scores")
worst_first = st.toggle("Worst rows first (by ROUGE-L)", key="corpus-scoring.sort")
view = res.sort_values("rougeL") if worst_first else res
st.dataframe(
    view, hide_index=True, width="stretch", height=min(36 * (len(view) + 1) + 3, 420),
    column_config={
        **{k: st.column_config.ProgressColumn(k, min_value=0.0, max_value=1.0, format="%.3f")
           for k in ("rouge1", "rouge2", "rougeL", "rougeLsum")},
        "bleu": st.column_config.NumberColumn("sentence BLEU", format="%.2f"),
        "chrf": st.column_config.NumberColumn("chrF", format="%.2f"),
        "candidate": st.column_config.TextColumn("candidate", width="medium"),
        "reference": st.column_config.TextColumn("reference", width="medium"),
    },
)
st.download_button("Download the scores as CSV", corpus_scoring.scores_csv(res),
                   file_name="scores.csv", mime="text/csv", key="corpus-scoring.download",
                   help="Text cells that start with =, +, - or @ get a leading ' so that a spreadsheet "
                        "shows them as text instead of running them as formulas.")

st.subheader("Row inspector")
i = st.number_input("Row", min_value=1, max_value=len(res), value=1, step=1, key="corpus-scoring.row")
r = res.iloc[int(i) - 1]
if source.startswith("Built-in"):
    st.markdown("**Dialogue**")
    st.text(corpus_scoring.load_sample()[int(i) - 1]["dialogue"])
c1, c2 = st.columns(2)
c1.markdown("**Candidate**")
c1.text(r["candidate"] or "(empty)")
c2.markdown("**Reference**")
c2.text(r["reference"] or "(empty)")
st.markdown(" · ".join(f"{k} **{r[k]:.3f}**" for k in ("rouge1", "rouge2", "rougeL")) +
            f" · BLEU **{r['bleu']:.2f}** · chrF **{r['chrf']:.2f}**")
st.caption("Open 'ROUGE and BLEU, by hand' and paste this pair to see every count behind these numbers.")

common.try_this(
    "Sort worst rows first: which kinds of summary does ROUGE punish — wrong ones, or short correct ones?",
    "Row 14 repeats words ('The the the vase vase cat cat.'): clipping keeps its ROUGE-1 modest, and BLEU low.",
    "Compare corpus BLEU with the mean of sentence BLEUs: why are they different?",
    "Download the template, write five summaries of your own, upload it, then download the scores.",
    "Upload a file with a missing 'reference' column or a broken quote: the page tells you what is wrong.",
)
