# lesson: Quantization and the memory of LLMs
# week: 1
# order: 33
# icon: 🔢
# topics: fp32, fp16, bf16, int8, quantization, GPU memory, training memory
# summary: See your number's bits in fp32, fp16, bf16 and int8, compute the memory a model needs to run and to train, and measure what quantizing the tiny GPT and SmolLM2 really changes.
"""Number formats bit by bit, a memory calculator, and real quantization effects."""
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lessons import corpus, models
from lessons.efficiency import quantization as qz
from ui import charts, common, loaders

st.title("🔢 Quantization and the memory of LLMs")
st.markdown(
    "A model is billions of numbers. Stored in **fp32** each takes 4 bytes; **fp16** and **bf16** "
    "take 2; **int8** takes 1. Fewer bits mean less memory and faster transfers, at the cost of "
    "rounding every weight. A float stores a sign, an exponent (the range) and a mantissa (the "
    "precision):"
)
st.latex(r"x = (-1)^{s}\times 1.m \times 2^{\,e-\text{bias}}"
         r"\qquad\text{int8 (absmax): } q=\operatorname{round}\!\Big(\frac{x}{\text{absmax}/127}\Big),\ \hat x = q\cdot\frac{\text{absmax}}{127}")

# --------------------------------------------------------------------------- bits
st.header("1 · Your number, bit by bit")
c1, c2 = st.columns([2, 1])
raw = c1.text_input("A number", "3.14159265", key="quantization.number",
                    help="Try 0.1, 65504, 70000, 1e-8, -2.5, 1e38 ...")
try:
    x = float(raw.strip().replace(",", "")) if raw and len(raw) < 60 else None
except ValueError:
    x = None
if x is None or math.isnan(x):
    st.warning("Type a number such as 3.14159, -2.5, 1e-8 or 65504.")
    common.stop_page()
absmax = c2.number_input("int8 range: absmax of the tensor", min_value=1e-6, max_value=1e6,
                         value=4.0, key="quantization.absmax",
                         help="int8 needs a scale; here the largest |value| in the tensor your number belongs to.")

COLORS = {"s": "#EF553B", "e": "#636EFA", "m": "#00CC96"}
layouts = [qz.float_layout(x, f) for f in ("fp32", "fp16", "bf16")]
fig = go.Figure()
for row, lay in enumerate(layouts):
    bits = lay.sign + lay.exponent + lay.mantissa
    kinds = ["s"] + ["e"] * len(lay.exponent) + ["m"] * len(lay.mantissa)
    fig.add_trace(go.Scatter(x=list(range(len(bits))), y=[lay.fmt] * len(bits), mode="markers+text", text=list(bits),
                             marker=dict(symbol="square", size=18, color=[COLORS[k] for k in kinds]),
                             textfont=dict(color="white", size=11), showlegend=False,
                             hovertext=[{"s": "sign", "e": "exponent", "m": "mantissa"}[k] for k in kinds]))
q8 = qz.int8_absmax(x, absmax) if math.isfinite(x) else None
if q8:
    fig.add_trace(go.Scatter(x=list(range(8)), y=["int8"] * 8, mode="markers+text", text=list(q8.bits),
                             marker=dict(symbol="square", size=18, color="#AB63FA"), textfont=dict(color="white", size=11),
                             showlegend=False, hovertext=["two's complement integer"] * 8))
fig.update_layout(height=230, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(visible=False),
                  yaxis=dict(categoryorder="array", categoryarray=["int8", "bf16", "fp16", "fp32"]))
charts.show(fig, key="quantization.bits_fig", main=True)
st.caption("🟥 sign · 🟦 exponent (range) · 🟩 mantissa (precision) · 🟪 int8 integer (needs a separate scale)")

rows = []
for lay in layouts:
    rows.append({"format": lay.fmt, "bits s/e/m": f"1/{len(lay.exponent)}/{len(lay.mantissa)}",
                 "stored value": repr(lay.stored), "kind": lay.kind,
                 "exponent": "" if lay.exponent_unbiased is None else f"2^{lay.exponent_unbiased}",
                 "abs. error": f"{lay.abs_error:.3g}", "rel. error": f"{lay.rel_error:.2e}",
                 "max value": f"{lay.max_value:.4g}", "smallest normal": f"{lay.min_normal:.3g}",
                 "eps (precision at 1)": f"{lay.eps:.3g}", "≈ decimal digits": f"{lay.digits:.1f}"})
if q8:
    rows.append({"format": "int8", "bits s/e/m": "8-bit integer", "stored value": repr(q8.stored),
                 "kind": f"q = {q8.q}{' (clipped)' if q8.clipped else ''}", "exponent": f"scale {q8.scale:.4g}",
                 "abs. error": f"{q8.abs_error:.3g}", "rel. error": f"{q8.abs_error / abs(x):.2e}" if x else "0",
                 "max value": f"{absmax:.4g}", "smallest normal": f"{q8.scale:.3g} (one step)",
                 "eps (precision at 1)": f"{q8.scale:.3g}", "≈ decimal digits": ""})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption("The bits are computed by hand (round to nearest, ties to even, rounding your number once) "
           "and the tests check them bit for bit against torch's own conversions of float32 values "
           "(torch converts a float64 through float32, rounding twice: for a rare number just above a "
           "halfway point, such as 1 + 2⁻⁸ + 2⁻³⁰ in bf16, it lands one step lower). bf16 keeps fp32's "
           "8 exponent bits: almost the same range (max 3.39e38 vs fp32's 3.40e38), far less precision, "
           "and none of fp16's overflow above 65,504 — why it became the default for training. Right at "
           "the top of the range rounding can still overflow: 3.4e38 fits in fp32 but becomes inf in bf16.")

# --------------------------------------------------------------------------- memory
st.header("2 · Memory calculator")
presets = {"SmolLM2-135M": 135e6, "1B": 1e9, "Llama 2 7B": 7e9, "Llama 2 70B": 70e9, "GPT-3 175B": 175e9,
           "tiny GPT (ours)": 1.35e6}
m1, m2 = st.columns([1, 1])
preset = m1.selectbox("Model size", list(presets) + ["custom"], index=1, key="quantization.preset")
params = presets.get(preset)
if params is None:
    params = m1.number_input("Parameters (billions)", 0.001, 2000.0, 3.0, key="quantization.params_b") * 1e9
fmt = m2.radio("Weights stored as", ["fp32", "bf16", "fp16", "int8", "int4"], horizontal=True, key="quantization.fmt")
mem = qz.memory_estimate(params, fmt)
k1, k2, k3 = st.columns(3)
k1.metric(f"Inference: weights in {fmt}", f"{mem['inference_gb']:,.2f} GB")
k2.metric("Full training (fp32 + Adam)", f"{mem['training_gb']:,.2f} GB")
k3.metric("Training / fp32 weights", f"{mem['training_over_weights']:.0f}x")
bars = go.Figure(go.Bar(x=list(mem["training_rows_gb"].values()), y=list(mem["training_rows_gb"]), orientation="h",
                        text=[f"{v:,.2f} GB" for v in mem["training_rows_gb"].values()]))
bars.update_layout(height=230, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="GB")
charts.show(bars, key="quantization.mem_fig")
st.caption("The course's rule of thumb, used here: 4 bytes per fp32 weight, plus about 20 extra bytes per "
           "parameter to train it (Adam's two moments 8, gradients 4, activations and buffers ~8), so training "
           "needs ~6x the memory of the weights. Activations really depend on batch size and sequence length. "
           "1 GB = 10⁹ bytes; an 80 GB GPU holds the fp32 training state of only ~3B parameters.")

# --------------------------------------------------------------------------- real models
st.header("3 · Quantize a real model")
st.markdown("We round every weight of a **copy** of the model to the format, then measure perplexity on held-out "
            "Shakespeare and how far the next-token distributions move (KL divergence from the fp32 model). "
            "int8 is per-channel absmax, weight-only (one scale per output channel); computation runs in fp32 "
            "after de-quantizing, so what you measure is exactly the rounding of the stored weights.")
r1, r2 = st.columns([1, 2])
which = r1.radio("Model", ["tiny GPT (ours)", "SmolLM2-135M-Instruct"], key="quantization.model")
n_tok = r2.slider("Evaluation tokens", 64, 512, 256, 64, key="quantization.tokens")
dev = common.device()


@st.cache_data(show_spinner=False, max_entries=8)
def measure(_lm, model_name: str, n_tokens: int, device: str) -> list[dict]:
    # Deterministic: cached per (model, tokens, device) for every session.
    text = corpus.shakespeare_text("validation")[:6000]
    return qz.quantization_effects(_lm.model, _lm.tokenizer, text, max_tokens=n_tokens)


if st.button("Quantize and measure", type="primary", key="quantization.run"):
    st.session_state["quantization.ask"] = (which, n_tok)
if st.session_state.get("quantization.ask") == (which, n_tok):
    try:
        lm = loaders.tiny_gpt(dev) if which.startswith("tiny") else loaders.smollm2(dev)
        with st.spinner(f"Quantizing {which} four ways and measuring ..."):
            res = measure(lm, which, n_tok, dev)
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        common.stop_page()
    df = pd.DataFrame([{"format": r["format"], "size (MB)": round(r["size_mb"], 2),
                        "size vs fp32": f"{r['size_vs_fp32']:.0%}", "perplexity": round(r["perplexity"], 3),
                        "Δ perplexity": f"{r['delta_ppl_pct']:+.3f} %", "mean KL (nats)": f"{r['kl_mean']:.2e}",
                        "max KL": f"{r['kl_max']:.2e}", "same top-1 token": f"{r['top1_agreement']:.1%}"} for r in res])
    st.dataframe(df, hide_index=True, width="stretch")
    f2 = go.Figure()
    f2.add_trace(go.Bar(x=[r["format"] for r in res], y=[r["size_mb"] for r in res], name="size (MB)", yaxis="y"))
    # fp32 is the reference (KL exactly 0, which a log axis cannot show): only the others are drawn,
    # on a log axis with one labelled tick per power of ten (plotly's own log ticks get unreadable).
    kl = [(r["format"], r["kl_mean"]) for r in res if r["format"] != "fp32" and r["kl_mean"] > 0]
    yaxis2 = dict(title="mean KL to fp32 (log scale)", overlaying="y", side="right", type="log", showgrid=False)
    if kl:
        lo, hi = math.floor(math.log10(min(v for _, v in kl))), math.ceil(math.log10(max(v for _, v in kl)))
        hi = max(hi, lo + 1)
        yaxis2.update(tickvals=[10.0 ** e for e in range(lo, hi + 1)], ticktext=[f"1e{e}" for e in range(lo, hi + 1)],
                      range=[lo - 0.2, hi + 0.2])
        f2.add_trace(go.Scatter(x=[f for f, _ in kl], y=[v for _, v in kl], name="mean KL (fp32 = reference, 0)",
                                mode="lines+markers+text", text=[f"{v:.1e}" for _, v in kl], textposition="top center",
                                yaxis="y2"))
    f2.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(title="size (MB)"), yaxis2=yaxis2,
                     legend=dict(orientation="h", y=1.15))
    charts.show(f2, key="quantization.effects_fig")
    if res[0]["tokens"] < n_tok and res[0]["window"] == res[0]["tokens"]:
        st.caption(f"ℹ️ {which} reads at most {res[0]['window']} tokens at a time (its context window), so "
                   f"the first {res[0]['tokens']} of the {n_tok} asked for were measured.")
    st.caption(f"{res[0]['tokens']} tokens of the held-out plays (The Tempest, Macbeth). Sizes count every "
               "distinct tensor once (the embedding is tied to the output layer). Note: SmolLM2 ships to us as a "
               "4-bit GGUF file, so its 'fp32' weights are already de-quantized 4-bit values; the tiny GPT "
               "was trained in fp32.")
else:
    st.info("Press **Quantize and measure** (a few seconds for the tiny GPT, ~30 s for SmolLM2 on a CPU).")

common.try_this(
    "Type 70000: fp16 overflows to infinity, bf16 keeps it (rounded to 70144).",
    "Type 0.1 and compare the relative errors: fp16 keeps ~3 decimal digits, bf16 ~2.",
    "Set absmax to 100 and type 0.3: int8's step (0.79) is bigger than your number — it rounds to 0. One outlier weight ruins the scale for a whole tensor; that is why per-channel scales help.",
    "Quantize SmolLM2: which format moves its predictions most?",
)
