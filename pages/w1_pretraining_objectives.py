# lesson: Pretraining objectives
# week: 1
# order: 30
# icon: 🎯
# topics: pretraining, masked language modeling, causal language modeling, span corruption, surprisal
# summary: Turn your own sentence into the training examples of BERT (masked LM), GPT (causal LM) and T5 (span corruption), and see which of its tokens surprise SmolLM2.
"""Masked LM, causal LM and span corruption built from the learner's sentence (seeded), plus
a per-token surprisal heatmap from a real pretrained decoder."""
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import models
from lessons.pretraining import objectives, surprisal
from ui import charts, common, inputs, loaders

st.title("🎯 Pretraining objectives")
st.markdown(
    "Pretraining needs no labels: the text is its own answer key. Hide part of it and train the "
    "model to guess the hidden part. *Which* part you hide decides what kind of model you get. "
    "Type a sentence and see the exact training example each family builds from it."
)
st.dataframe(pd.DataFrame(objectives.FAMILIES), hide_index=True, width="stretch")

c1, c2, c3 = st.columns([3, 1, 1])
raw = c1.text_input("Your sentence", "The teacher explained the experiment and the students took careful notes.",
                    key="pretraining-objectives.text")
unit = c2.radio("Tokens", ["words", "GPT-2 BPE"], key="pretraining-objectives.unit")
seed = c3.number_input("seed", 0, 9999, 0, key="pretraining-objectives.seed")
text = inputs.clean_text(raw, what="sentence")
if text is None:
    common.stop_page()
tokens, cut = objectives.display_tokens(text, loaders.gpt2_tokenizer() if unit == "GPT-2 BPE" else None)
if cut:
    st.warning(f"Only the first {objectives.MAX_OBJECTIVE_TOKENS} tokens are used here.")
if len(tokens) < 2:
    st.info("Type at least two words to build the training examples.")
    common.stop_page()


# the three objectives side by side: the lesson's main figure
tab_mlm, tab_clm, tab_span = charts.main_figure().tabs(["Masked LM (BERT)", "Causal LM (GPT)", "Span corruption (T5)"])
with tab_mlm:
    st.latex(r"\mathcal{L}_{\text{MLM}} = -\sum_{i \in \mathcal{M}} \log p_\theta\big(x_i \mid x_{\setminus \mathcal{M}}\big)")
    rate = st.slider("Masking rate", 0.05, 0.5, 0.15, 0.05, key="pretraining-objectives.mask_rate")
    o = objectives.masked_lm(tokens, seed=int(seed), mask_prob=rate)
    st.markdown(f"**Input** (the model sees both sides of every gap): {o.note}")
    st.dataframe(pd.DataFrame({"input": o.inputs, "target (loss here)": [t or "·" for t in o.targets]},
                              index=[str(i) for i in range(len(o.inputs))]).T, width="stretch")
    st.caption(f"'·' = no loss at that position. Only the {len(o.loss_positions)} picked tokens of {len(o.inputs)} "
               f"({len(o.loss_positions) / len(o.inputs):.0%} here; BERT used 15 %) teach anything per pass, one reason "
               "masked LMs need more compute per useful signal than causal LMs, where every position teaches.")
with tab_clm:
    st.latex(r"\mathcal{L}_{\text{CLM}} = -\sum_{t=1}^{T-1} \log p_\theta\big(x_{t+1} \mid x_{\le t}\big)")
    o = objectives.causal_lm(tokens)
    st.markdown(f"**Targets are the inputs shifted left by one**: {o.note}")
    st.dataframe(pd.DataFrame({"input x≤t (last token)": o.inputs, "target x(t+1)": o.targets},
                              index=[str(i) for i in range(len(o.inputs))]).T, width="stretch")
    st.caption("A causal mask stops position t from looking at t+1, t+2, ... so one forward pass trains "
               "every position at once. No seed here: nothing random.")
with tab_span:
    st.latex(r"\mathcal{L}_{\text{span}} = -\sum_{j} \log p_\theta\big(y_j \mid y_{<j},\ \tilde{x}\big),"
             r"\quad y = \langle\text{sentinels and hidden spans}\rangle")
    s1, s2 = st.columns(2)
    density = s1.slider("Noise density", 0.05, 0.5, 0.15, 0.05, key="pretraining-objectives.density")
    mean_span = s2.slider("Mean span length", 1.0, 5.0, 3.0, 0.5, key="pretraining-objectives.span")
    o = objectives.span_corruption(tokens, seed=int(seed), noise_density=density, mean_span=mean_span)
    st.markdown(f"{o.note}")
    st.markdown("**Encoder input:**")
    st.code(" ".join(o.inputs), language=None)
    st.markdown("**Decoder target:**")
    st.code(" ".join(o.targets), language=None)

# --------------------------------------------------------------------------- surprisal
st.header("Which tokens surprise a real model?")
st.markdown("A pretrained decoder's loss on each token is its **surprisal**, $-\\log_2 p(x_t\\mid x_{<t})$ bits. "
            "Predictable tokens (the end of a common phrase) cost almost nothing; names, numbers and "
            "unusual words cost many bits. The mean over the text, exponentiated, is the perplexity.")
st.latex(r"\text{surprisal}(x_t) = -\log_2 p_\theta(x_t \mid x_{<t}),\qquad "
         r"\text{PPL} = \exp\Big(\tfrac{1}{T-1}\sum_t -\ln p_\theta(x_t\mid x_{<t})\Big)")
mc1, mc2 = st.columns([1, 2])
which = mc1.radio("Model", ["SmolLM2-135M-Instruct", "tiny GPT (ours)"], key="pretraining-objectives.model")
dev = common.device()
try:
    lm = loaders.smollm2(dev) if which.startswith("Smol") else loaders.tiny_gpt(dev)
except models.ModelUnavailable as exc:
    common.show_model_error(exc)
    common.stop_page()
try:
    s = surprisal.surprisal(lm.model, lm.tokenizer, text, max_tokens=96)
except ValueError as exc:
    st.info(f"{exc} Type a longer text to see surprisals.")
    common.stop_page()
mc2.metric("Perplexity on your text", f"{s.perplexity:,.1f}",
           help=f"{len(s.tokens)} tokens; mean surprisal {s.mean_nats / math.log(2):.2f} bits per token")
mc2.metric("Bits per character", f"{s.bits_per_char:.2f}",
           help="Total surprise divided by the characters predicted: comparable across models.")
st.caption(f"{lm.name} has a vocabulary of {len(lm.tokenizer):,} tokens. Perplexity is per TOKEN, and the two "
           "models cut text into different tokens (SmolLM2: 49,152 kinds, our tiny GPT: 4,096), so their "
           "perplexities are not comparable: compare **bits per character** across models.")

per_row = 10
n = len(s.tokens)
rows_n = math.ceil(n / per_row)
z, txt, hover = [], [], []
for r in range(rows_n):
    zr, tr, hr = [], [], []
    for c in range(per_row):
        i = r * per_row + c
        if i < n:
            b = s.bits[i]
            zr.append(None if b is None else b)
            tr.append(s.tokens[i].replace(" ", "␣").replace("\n", "⏎"))
            hr.append("first token: nothing to predict it from" if b is None else
                      f"p = {s.probs[i]:.3f}<br>{b:.2f} bits<br>model expected: {s.top_pred[i]!r}")
        else:
            zr.append(None)
            tr.append("")
            hr.append("")
    z.append(zr)
    txt.append(tr)
    hover.append(hr)
fig = go.Figure(go.Heatmap(z=z, text=txt, texttemplate="%{text}", hovertext=hover, hoverinfo="text",
                           colorscale="Reds", zmin=0, zmax=max(12, max((b for b in s.bits if b is not None), default=1)),
                           colorbar=dict(title="bits"), xgap=2, ygap=2))
fig.update_layout(height=70 + 45 * rows_n, margin=dict(l=10, r=10, t=10, b=10),
                  xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed"))
charts.show(fig, key="pretraining-objectives.surprisal_fig")
top = sorted([i for i in range(1, n)], key=lambda i: -s.nats[i])[:5]
st.dataframe(pd.DataFrame([{"token": s.tokens[i], "p(token)": f"{s.probs[i]:.2g}", "bits": round(s.bits[i], 2),
                            "model expected": s.top_pred[i]} for i in top]), hide_index=True, width="stretch")
st.caption(f"{which}: the most surprising tokens of your text. Hover a cell for its probability. "
           "The mean surprisal equals the model's own training loss on this text (checked in the tests).")

common.try_this(
    "Change the seed: a different 15 % gets masked. Raise the masking rate to 0.5: is the sentence still guessable?",
    "Switch to GPT-2 BPE tokens: a long or rare word becomes several pieces, and T5's spans may cut through words.",
    "Compare 'The capital of France is Paris.' with 'The capital of France is Berlin.' in the surprisal view.",
    "Paste a line of Shakespeare and switch between SmolLM2 and our tiny GPT: compare the bits per "
    "character, not the perplexities (different vocabularies make different tokens).",
)
