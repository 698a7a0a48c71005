# lesson: Tokens and the context window
# week: 1
# order: 10
# icon: 🔤
# topics: tokenization, BPE, WordPiece, byte-level BPE, token ids, context window
# summary: Your text cut into tokens by three real tokenizers (GPT-2, SmolLM2, MiniLM), with ids, counts and context-window fill.
"""Tokens: GPT-2 BPE, SmolLM2 BPE and MiniLM WordPiece side by side, counts, context fill."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons.transformer import tokens
from lessons.core import pieces
from ui import charts, common, inputs, loaders, transformer

st.title("🔤 Tokens and the context window")
st.markdown(
    "A language model never sees letters or words: a **tokenizer** first cuts the text into "
    "pieces from a fixed vocabulary and replaces each piece by its number (its **id**). The "
    "model works on those ids. Different models use different tokenizers, so the same sentence "
    "costs a different number of tokens — and the **context window** (how many tokens a model "
    "can read at once) is counted in tokens, not words."
)
st.latex(r"\text{text} \;\xrightarrow{\text{tokenizer}}\; [t_1, t_2, \dots, t_n],\quad t_i \in \{0,\dots,|V|-1\}"
         r"\qquad\text{fill} = \frac{n}{\text{window}}")

raw = st.text_area("Your text", "Transformers don't read words, they read tokens! Unbelievably, "
                   "東京 and 🤖 work too.", key="tokens.text", height=90)
text = inputs.clean_text(raw)
if text is None:
    common.stop_page()

dev = common.device()
try:
    tokenizers = {
        "GPT-2 BPE": (loaders.gpt2_tokenizer(), pieces.BYTE_LEVEL),
        "SmolLM2 BPE": (loaders.smollm2(dev).tokenizer, pieces.BYTE_LEVEL),
        "MiniLM WordPiece": (loaders.minilm(dev).tokenizer, pieces.WORDPIECE),
    }
except Exception as exc:
    common.show_model_error(exc)
    common.stop_page()
results = tokens.compare(tokenizers, text)
counts = tokens.text_counts(text)

c = st.columns(3)
c[0].metric("characters", f"{counts['characters']:,}")
c[1].metric("bytes (UTF-8)", f"{counts['bytes (UTF-8)']:,}")
c[2].metric("words", f"{counts['words']:,}")

st.subheader("The same text, three tokenizers")
st.caption("Each box is one token with its id underneath. ␣ is a space that belongs to the token; "
           "grey boxes like <F0 9F> are single bytes of a character the BPE vocabulary has no "
           "token for; red is WordPiece's [UNK] (unknown); light grey are special tokens.")
cols = charts.main_figure().columns(3)   # the same text, three tokenizers: the lesson's main figure
for col, tk in zip(cols, results):
    with col:
        st.markdown(f"**{tk.name}** · {tk.scheme} · vocabulary {tk.vocab_size:,}")
        st.metric(f"{tk.name} tokens", tk.n_tokens,
                  help="including special tokens" if tk.n_special else None)
        extra = []
        if tk.n_special:
            extra.append(f"{tk.n_special} special")
        if any(tk.partial_bytes):
            extra.append(f"{sum(tk.partial_bytes)} byte pieces")
        if tk.unknown:
            extra.append(f"{tk.unknown} [UNK]")
        if extra:
            st.caption(", ".join(extra))
        charts.show(transformer.token_strip(tk, line_cells=26), key=f"tokens.strip_{tk.name}", fit=True,
                    summary=f"{tk.name}: {len(tk.ids)} tokens, in order (piece = id): "
                            + " · ".join(f"{l} = {i}" for l, i in zip(tk.labels[:60], tk.ids[:60]))
                            + (" …" if len(tk.ids) > 60 else ""))
        if tk.n_tokens > 400:
            st.caption("Showing the first 400 tokens.")

table = pd.DataFrame([{
    "tokenizer": tk.name, "scheme": tk.scheme, "vocabulary": tk.vocab_size, "tokens": tk.n_tokens,
    "tokens per word": round(tk.n_tokens / max(counts["words"], 1), 2),
    "characters per token": round(counts["characters"] / max(tk.n_tokens, 1), 2),
    "[UNK]": tk.unknown, "byte pieces": sum(tk.partial_bytes),
} for tk in results])
st.dataframe(table, hide_index=True, width="stretch", key="tokens.table")

with st.expander("Every token with its id"):
    cols = st.columns(3)
    for col, tk in zip(cols, results):
        with col:
            st.markdown(f"**{tk.name}**")
            st.dataframe(pd.DataFrame({"#": range(tk.n_tokens), "token": tk.labels, "id": tk.ids,
                                       "raw piece": tk.pieces}), hide_index=True, width="stretch",
                         height=300, key=f"tokens.df_{tk.name}")

st.subheader("How much of the context window does it fill?")
window = st.select_slider("Context window (tokens)", options=[64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768, 131072],
                          value=1024, key="tokens.window",
                          help="MiniLM reads 256 (512 positions), GPT-2 1,024, GPT-3 2,048, SmolLM2 8,192.")
fills = [tokens.context_fill(tk.n_tokens, window) for tk in results]
fig = go.Figure(go.Bar(y=[tk.name for tk in results], x=[100 * f["fraction"] for f in fills], orientation="h",
                       marker_color=[charts.WRONG if f["overflow"] else charts.RIGHT for f in fills],
                       marker_pattern_shape=[charts.PATTERN["wrong" if f["overflow"] else "right"] for f in fills],
                       text=[f"{100 * f['fraction']:.1f}%" + (" · overflows" if f["overflow"] else "") for f in fills],
                       textposition="outside"))
fig.add_vline(x=100, line_dash="dash", annotation_text="window full")
fig.update_layout(height=230, margin=dict(l=10, r=10, t=20, b=10), xaxis_title="% of the window used", yaxis_autorange="reversed",
                  xaxis_range=[0, max(110, 100 * max(f["fraction"] for f in fills) * 1.15)])
charts.show(fig, key="tokens.fill")
for tk, f in zip(results, fills):
    if f["overflow"]:
        st.markdown(f"- **{tk.name}**: {tk.n_tokens:,} tokens do **not** fit in {window:,}; "
                    f"{f['overflow']:,} tokens would be cut.")
    else:
        st.markdown(f"- **{tk.name}**: {tk.n_tokens:,} of {window:,} tokens ({100 * f['fraction']:.1f}%); "
                    f"about {f['copies']:,} copies of your text would fit, {f['left']:,} tokens left.")

common.try_this(
    "Type `unbelievably` and `Unbelievably`: case changes the BPE pieces but not MiniLM's (it lower-cases).",
    "Type an emoji or Japanese: byte-level BPE never fails — it falls back to raw bytes like `<F0 9F>` — "
    "while WordPiece shows [UNK] for characters it never saw.",
    "Paste a paragraph of English and of another language: which costs more tokens per word?",
    "Lower the window to 64 tokens and see which tokenizer overflows first.",
)
