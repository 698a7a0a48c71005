# lesson: Sampling lab: temperature, top-k, top-p
# week: 1
# order: 21
# icon: 🎲
# topics: sampling, temperature, top-k, top-p, greedy decoding, random sampling, entropy
# summary: Reshape SmolLM2's real next-token distribution with temperature, top-k and top-p, then draw samples from it.
"""The sampling lab: one real next-token distribution, reshaped live by the settings, in the
order generate() applies them; then real draws from it compared with the theory."""
import pandas as pd
import streamlit as st

from lessons.decoding import sampling
from ui import charts, common, decoding, inputs

PRESETS = ["The capital of France is", "My favourite colour is", "Once upon a time, there was a",
           "The best way to learn programming is to", "2 + 2 ="]

st.title("🎲 Sampling lab: temperature, top-k, top-p")
st.markdown(
    "A language model does not output text: it outputs a **score (logit) for every token** of its "
    "vocabulary, and a *decoding strategy* turns those scores into one chosen token. **Greedy** "
    "decoding always takes the most likely token; **random sampling** draws one in proportion to its "
    "probability. Three settings reshape the distribution before the draw. transformers' `generate()` "
    "applies them in this order: temperature, then top-k, then top-p."
)
st.latex(r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}} \qquad "
         r"\text{top-}k:\ \text{keep the } k \text{ largest } z_i")
st.latex(r"\text{top-}p:\ \text{keep the smallest top set with } \textstyle\sum p_i \ge p")

lm = decoding.pick_model("sampling")
if lm is None:
    common.stop_page()
c1, c2 = st.columns([2, 1])
with c2:
    preset = st.selectbox("Example prompt", PRESETS, key="sampling.preset")
with c1:
    prompt = st.text_input("Prompt", value=preset, key=f"sampling.prompt_{PRESETS.index(preset)}")
prompt = inputs.clean_text(prompt, what="prompt", max_chars=500)
if prompt is None:
    common.stop_page()

s1, s2, s3, s4 = st.columns(4)
temperature = s1.slider("temperature", 0.0, 2.5, 1.0, 0.05, key="sampling.temperature",
                        help="0 means greedy: the limit T → 0 puts all probability on the top token.")
top_k = s2.number_input("top_k (0 = off)", 0, 1000, 0, 1, key="sampling.top_k")
top_p = s3.slider("top_p (1.0 = off)", 0.05, 1.0, 1.0, 0.01, key="sampling.top_p")
n_show = s4.slider("tokens shown", 5, 40, 20, 1, key="sampling.n")

try:
    logits = decoding.as_tensor(decoding.next_logits(decoding.model_key(lm), prompt, lm))
except ValueError as exc:
    st.warning(str(exc))
    common.stop_page()
try:
    steps = sampling.explain_filtering(logits, temperature, int(top_k), top_p, n=n_show)
except sampling.SamplingSettingsError as exc:  # settings transformers would reject
    st.error(str(exc))
    common.stop_page()
labels = [sampling.token_label(lm.tokenizer, i) for i in steps.ids]

m1, m2, m3, m4 = st.columns(4)
m1.metric(f"tokens left (of {steps.vocab_size:,})", f"{steps.n_kept:,}")
m2.metric("entropy before", f"{steps.entropy_raw:.2f} bits")
m3.metric("entropy after", f"{steps.entropy_final:.2f} bits",
          delta=f"{steps.entropy_final - steps.entropy_raw:+.2f}", delta_color="off")
m4.metric("p(top token) after", f"{max(steps.p_final):.3f}", help=f"top token: {labels[0]}")

charts.show(decoding.filter_figure(steps, labels, top_p), key="sampling.fig", main=True)
st.caption("Outlined bars: the model's raw probabilities. Filled bars: 🟦 kept (what is left to sample "
           "from, renormalised); hatched 🟧 removed by top-k, hatched 🟨 removed by top-p (⬜ greedy), drawn at "
           "the probability they had after temperature, just before they were set to 0. The dotted line is the running "
           "total that top-p measures (after temperature and top-k): tokens are kept until it first "
           "reaches p. Spaces in tokens are shown as ␣.")

if steps.greedy:
    st.info("**Temperature 0 = greedy decoding.** Dividing the logits by a tiny T stretches the gaps "
            "between them without limit, so softmax puts all the probability on the largest one: "
            "sampling becomes `argmax`. transformers refuses `temperature=0`; write `do_sample=False`.")
elif temperature < 0.3:
    st.info(f"At T = {temperature:.2f} the distribution is nearly one-hot: this is almost greedy decoding.")

with st.expander("The numbers behind the chart"):
    st.dataframe(pd.DataFrame({
        "token": labels, "id": steps.ids, "p raw": steps.p_raw, "p after T": steps.p_temp,
        "p final": steps.p_final, "removed by": [r or "—" for r in steps.removed_by],
    }), hide_index=True, width="stretch")
    st.caption("A unit test checks `lessons.decoding.sampling.filter_distribution` against transformers' own "
               "TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper to 1e-6.")

st.header("Sampling for real")
st.markdown("Now draw tokens from the filtered distribution, as `generate(do_sample=True)` would "
            "(`torch.multinomial`). With few draws the histogram is noisy; it approaches the "
            "theoretical distribution as the number of draws grows. We measure the gap with the "
            "total-variation distance, which shrinks roughly like $1/\\sqrt{N}$.")
st.latex(r"\mathrm{TV}(\hat p, p) = \tfrac12 \sum_i |\hat p_i - p_i|")
d1, d2 = st.columns(2)
n_draws = d1.select_slider("number of draws N", [10, 30, 100, 300, 1000, 3000, 10000], value=100, key="sampling.draws")
seed = d2.number_input("seed", 0, 2**31 - 1, 0, 1, key="sampling.seed")
res = sampling.draw_samples(steps.probs_final, int(n_draws), seed=int(seed), support_size=min(n_show, 15))
e1, e2 = st.columns(2)
e1.metric("TV distance, empirical vs theoretical", f"{res.tv_distance:.3f}")
e2.metric("average TV for this N (exact)", f"{sampling.expected_tv(steps.probs_final, int(n_draws)):.3f}",
          help="The mean of the TV distance over all possible seeds, computed exactly from the binomial "
               "distribution of each token's count. Your draw is usually near it.")
charts.show(decoding.samples_figure(res, [sampling.token_label(lm.tokenizer, i) for i in res.support]), key="sampling.samples_fig")
st.markdown("**First draws, in order:**")
st.text(" · ".join(sampling.token_label(lm.tokenizer, i) for i in res.ids[:30]))

common.try_this(
    "Set temperature to 0: one bar remains. Now raise it to 2.0 and watch the entropy climb.",
    "Prompt `2 + 2 =`: the model is confident, so top-p 0.9 keeps only a few tokens. "
    "Try `Once upon a time, there was a`: top-p 0.9 keeps hundreds. top-p adapts; top-k does not.",
    "Set top_k = 1: that is greedy decoding too, whatever the temperature.",
    "Draw N = 10 with seeds 0, 1, 2: different histograms. Then N = 10000: they all agree.",
    "Temperature is applied *before* top-p: with top_p = 0.9, move T from 0.5 to 1.5 and count the tokens left.",
)
