# lesson: Encoders, decoders, seq2seq
# week: 1
# order: 16
# icon: 🏗️
# topics: encoder-only, decoder-only, encoder-decoder, attention masks, cross-attention, BERT, GPT, T5
# summary: The three transformer families: their attention masks drawn on your sentence, how they are pretrained and what each is good at.
"""The three transformer families: mask patterns for the learner's sentence + the course's table."""
import pandas as pd
import streamlit as st

from lessons.transformer import architectures
from ui import charts, common, figures, inputs

st.title("🏗️ Encoder, decoder, encoder-decoder")
st.markdown(
    "All three families stack the same blocks (attention + feed-forward). What differs is **who may "
    "look at whom** — the attention mask — and therefore how they are pretrained and what they do "
    "well. Blue cells below mean *this row's token may attend to this column's token*."
)
st.latex(r"\operatorname{softmax}\!\Big(\frac{QK^{\top}}{\sqrt{d_k}} + M\Big),\qquad "
         r"M_{ij} = \begin{cases}0 & \text{allowed}\\ -\infty & \text{blocked}\end{cases}")

c1, c2 = st.columns(2)
with c1:
    src_raw = st.text_input("Your sentence (the input)", "The cat sleeps on the warm mat.", key="architectures.text")
with c2:
    tgt_raw = st.text_input("An output for the encoder-decoder (e.g. a translation)", "Le chat dort.",
                            key="architectures.target")
src_txt = inputs.clean_text(src_raw, max_chars=300, what="sentence")
tgt_txt = inputs.clean_text(tgt_raw, max_chars=300, what="output")
if src_txt is None or tgt_txt is None:
    common.stop_page()
src, tgt = architectures.words(src_txt), architectures.words(tgt_txt)
if not src or not tgt:
    st.info("Both boxes need at least one word or symbol.")
    common.stop_page()
if len(architectures.words(src_txt, 10_000)) > architectures.MAX_WORDS or len(architectures.words(tgt_txt, 10_000)) > architectures.MAX_WORDS:
    st.warning(f"Only the first {architectures.MAX_WORDS} words of each box are drawn.")
m = architectures.mask_patterns(src, tgt)
st.caption("Split into words and punctuation for readability; real models use sub-word tokens "
           "(see *Tokens and the context window*), the pattern is the same.")


def mask_fig(mask, cols, rows, title, x_title="key", y_title="query"):
    z = mask.float()
    text = [["✓" if v else "" for v in row] for row in mask.tolist()]
    return figures.heatmap(z, cols, rows, title=title, zmin=0, zmax=1, colorscale=[[0, "#F2F2F2"], [1, "#4C78A8"]],
                      text=text, showscale=False, x_title=x_title, y_title=y_title,
                      height=min(620, 200 + 24 * len(rows)))


c1, c2 = charts.main_figure().columns(2)   # encoder-only vs decoder-only: the lesson's main figure
with c1:
    st.subheader("Encoder-only")
    charts.show(mask_fig(m.encoder_self, src, src, "bidirectional self-attention"), key="architectures.enc", fit=True)
    st.caption(f"{int(m.encoder_self.sum())} of {m.encoder_self.numel()} cells allowed: every token "
               "sees the whole sentence (MiniLM, BERT).")
with c2:
    st.subheader("Decoder-only")
    charts.show(mask_fig(m.decoder_self, src, src, "causal self-attention"), key="architectures.dec", fit=True)
    st.caption(f"{int(m.decoder_self.sum())} of {m.decoder_self.numel()} cells allowed: nothing above the "
               "diagonal, no peeking at the future (SmolLM2, GPT).")

st.subheader("Encoder-decoder")
c1, c2, c3 = st.columns(3)
with c1:
    charts.show(mask_fig(m.encoder_self, src, src, "1 · encoder:<br>bidirectional over the input"), key="architectures.s2s_enc")
with c2:
    charts.show(mask_fig(m.seq2seq_decoder, tgt, tgt, "2 · decoder:<br>causal over the output"), key="architectures.s2s_dec")
with c3:
    charts.show(mask_fig(m.cross, src, tgt, "3 · cross-attention:<br>output → input", x_title="input (keys)",
                             y_title="output (queries)"), key="architectures.cross")
st.caption(f"Cross-attention is {len(tgt)} × {len(src)}: queries come from the decoder (the output so far), "
           "keys and values from the encoder's final states, and every output token may read the whole input (T5, BART).")

st.subheader("What each family is good at")
st.dataframe(pd.DataFrame(architectures.FAMILIES), hide_index=True, width="stretch", key="architectures.table")
task = st.selectbox("Pick a task", list(architectures.TASKS), key="architectures.task")
fam = architectures.family_for(task)
st.success(f"**{task.capitalize()}** → a natural fit is **{fam['family']}** ({fam['examples']}): {fam['good at']}.")
st.markdown(
    "This is the course's rule of thumb, not a law: very large decoder-only models handle "
    "translation or classification through prompting too, at a higher cost per request."
)

common.try_this(
    "Make the output longer than the input: the cross-attention block becomes a tall rectangle.",
    "Count the allowed cells: a sentence of T tokens gives T² for the encoder but T(T+1)/2 for a decoder.",
    "Open *Attention maps of real models* with the same sentence: MiniLM fills the whole square, "
    "SmolLM2 leaves the upper triangle at exactly 0.",
)
