# lesson: Pruning: how many weights can go?
# week: 3
# order: 32
# icon: ✂️
# topics: magnitude pruning, sparsity, unstructured pruning, model compression, deployment trade-offs
# summary: Zero the smallest weights of the tiny GPT with a sparsity slider and watch perplexity and the next-token distribution change.
"""Magnitude pruning of a COPY of the tiny GPT: sparsity slider, global vs per-layer, the
perplexity-vs-sparsity curve, the next-token distribution before/after, and what pruning
does (and does not) buy at deployment."""
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from lessons import course
from lessons.efficiency import pruning
from lessons.core.perplexity import describe as describe_slice, perplexity
from ui import charts, common, efficiency, figures, inputs, loaders

st.title("✂️ Pruning: how many weights can go?")
st.markdown(
    "Trained networks have many weights close to zero. **Magnitude pruning** sets the smallest "
    "|w| to exactly zero and keeps the rest. Here we prune the weight matrices inside the tiny "
    "GPT's transformer blocks (attention and MLP; the embeddings stay), always on a private "
    "**copy**: the shared model is never touched."
)
st.latex(r"m_{ij} = \mathbb{1}\big[\,|w_{ij}| > \tau_s\,\big],\qquad W' = m \odot W")
st.latex(r"\tau_s = \text{the } s\text{-quantile of } |w| \text{ (over all layers, or per layer)}")

dev = common.device()
tg = common.model_or_stop(loaders.tiny_gpt, dev)
_, val_ids = efficiency.shakespeare_ids(dev, tg.tokenizer)


@st.cache_resource(show_spinner="Pruning at 12 sparsities and measuring perplexity ...", max_entries=4)
def curve(scope: str, device: str, _model) -> list[dict]:
    """Deterministic and read-only (each point prunes a fresh copy), so one result serves everyone."""
    return pruning.sparsity_curve(_model, val_ids, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
                                  scope, block=64, max_blocks=16)


@st.cache_resource(show_spinner=False, max_entries=2)
def dense_ppl(device: str, _model) -> float:
    return perplexity(_model, val_ids, 64, 16)


# --------------------------------------------------------------------------- prune
st.header("1 · Prune")
c1, c2 = st.columns([2, 1])
sparsity = c1.slider("Sparsity (share of weights set to zero)", 0.0, 0.99, 0.5, step=0.01, key="pruning.sparsity")
scope = c2.radio("Threshold", ["global", "layer"], key="pruning.scope", horizontal=True,
                 format_func={"global": "global (one for all layers)", "layer": "per layer"}.get)
pruned = pruning.prune_copy(tg.model, sparsity, scope)
ppl0, ppl = dense_ppl(dev, tg.model), perplexity(pruned.model, val_ids, 64, 16)
m1, m2, m3 = st.columns(3)
m1.metric("Weights set to zero", f"{pruned.achieved:.1%}",
          help=f"of {sum(r['weights'] for r in pruned.per_layer):,} weights in {len(pruned.per_layer)} matrices")
m2.metric("Validation perplexity", f"{ppl:.1f}", f"{ppl - ppl0:+.1f} vs dense", delta_color="inverse",
          help=f"Shakespeare, {describe_slice()}.")
m3.metric("Dense perplexity", f"{ppl0:.1f}", help="The tiny GPT's Shakespeare perplexity: the same number on every page.")

lay = pd.DataFrame(pruned.per_layer)
fig = go.Figure(go.Bar(x=lay["layer"].str.removeprefix("transformer."), y=lay["sparsity"]))
fig.update_layout(height=300, yaxis_range=[0, 1], yaxis_title="sparsity", margin=dict(t=40, b=10), font=dict(size=14),
                  title="Sparsity per weight matrix (global: layers with small weights lose more)")
charts.show(fig, key="pruning.layers")

# --------------------------------------------------------------------------- next token
st.header("2 · What the model now predicts")
raw = st.text_input("Context", "KING HENRY: What say you, my", key="pruning.prompt")
text = inputs.clean_text(raw, max_chars=300, what="context")
if text is not None:
    try:
        nt = pruning.next_token_change(tg.model, pruned.model, tg.tokenizer, text, top_k=10)
    except ValueError:
        st.warning("The tokenizer produced no tokens for that text.")
        nt = None
    if nt:
        pct = f"{pruned.achieved:.0%}"
        fig2 = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                             subplot_titles=["The dense model's top 10 (and what the pruned one gives them)",
                                             f"The pruned model's ({pct}) own top 10"])
        labels = [repr(t) for t in nt.tokens]
        fig2.add_trace(go.Bar(x=labels, y=nt.dense, name="dense", marker_color=charts.BEFORE), row=1, col=1)
        fig2.add_trace(go.Bar(x=labels, y=nt.pruned, name=f"pruned {pct}", marker_color=charts.AFTER,
                              marker_pattern_shape=charts.PATTERN["after"]), row=1, col=1)
        fig2.add_trace(go.Bar(x=[repr(t) for t in nt.pruned_tokens], y=nt.pruned_top, name=f"pruned {pct}",
                              marker_color=charts.AFTER, marker_pattern_shape=charts.PATTERN["after"],
                              showlegend=False), row=1, col=2)
        fig2.update_layout(barmode="group", height=360, margin=dict(t=50, b=10), font=dict(size=14),
                           legend=dict(orientation="h", y=1.2))
        fig2.update_annotations(font_size=14)
        fig2.update_yaxes(title_text="probability", row=1, col=1)
        fig2.update_xaxes(tickangle=-45)
        charts.show(fig2, key="pruning.next")
        st.markdown(f"The dense model's next token: **{inputs.md_escape(repr(nt.tokens[0]))}** "
                    f"({nt.dense[0]:.0%}) · the pruned model's: **{inputs.md_escape(repr(nt.pruned_tokens[0]))}** "
                    f"({nt.pruned_top[0]:.0%}) · same most likely token: **{'yes' if nt.same_top1 else 'no'}** · "
                    f"KL(dense ‖ pruned) over the whole vocabulary: **{nt.kl:.3f} nats** · entropy "
                    f"{nt.dense_entropy:.1f} → {nt.pruned_entropy:.1f} bits")

# --------------------------------------------------------------------------- curve
st.header("3 · Quality vs sparsity")
pts = {s: curve(s, dev, tg.model) for s in ("global", "layer")}
fig3 = go.Figure()
for s, rows in pts.items():
    fig3.add_trace(go.Scatter(x=[r["sparsity"] for r in rows], y=[r["perplexity"] for r in rows],
                              mode="lines+markers", name={"global": "global threshold", "layer": "per-layer threshold"}[s]))
fig3.add_vline(x=sparsity, line_dash="dot", annotation_text="your slider")
fig3.update_layout(height=360, xaxis_title="sparsity", yaxis_title="validation perplexity (log scale)",
                   yaxis=figures.log_axis([r["perplexity"] for rows in pts.values() for r in rows]),
                   margin=dict(t=30, b=10), font=dict(size=14), legend=dict(orientation="h", y=1.12))
charts.show(fig3, key="pruning.curve", main=True)
knee = next((r["sparsity"] for r in pts["global"] if r["perplexity"] > 1.1 * ppl0), None)
if knee is not None:
    st.markdown(f"With a global threshold the perplexity first rises by more than 10% at **{knee:.0%}** sparsity.")

# --------------------------------------------------------------------------- deployment
st.header("4 · What pruning buys at deployment")
n_w = sum(r["weights"] for r in pruned.per_layer)
size = pruning.storage_mb(n_w, pruned.achieved)
t_dense, t_pruned = pruning.compare_speed(tg.model, pruned.model)
st.dataframe(pd.DataFrame([
    {"format": k, "MB for the pruned matrices": round(v, 3)} for k, v in size.items()]), hide_index=True)
st.markdown(
    f"- **Speed:** a forward pass took {t_dense:.1f} ms dense and {t_pruned:.1f} ms pruned (median of 7, "
    "interleaved). The work is identical — the zeros are still multiplied — so any difference is "
    "measurement noise. Unstructured sparsity needs sparse kernels (or structured pruning of whole "
    "heads/rows, or 2:4 sparsity on recent GPUs) before it saves time.\n"
    "- **Size:** a sparse format stores an index per kept weight, so it only shrinks the file above "
    "about 50% sparsity. **Quantization** (int8, 4-bit) shrinks every weight 4-8× with no index cost "
    "and usually loses less quality, which is why it is the first tool for deployment; pruning and "
    "distillation stack on top of it.\n"
    "- **Quality:** pruned models are usually fine-tuned briefly afterwards to recover (not done here)."
)
quant = [l for l in course.discover() if any("quantiz" in t.lower() for t in l.topics)]
if quant:
    st.page_link(quant[0].rel_path, label=f"Week {quant[0].week}: {quant[0].title}", icon=quant[0].icon)

common.try_this(
    "Find the largest sparsity where the most likely next token is still the same as the dense model's.",
    "Compare global and per-layer at 80%: which layers does the global threshold prune hardest, and "
    "which curve degrades first?",
    "Move from 0% to 30%: perplexity barely moves. What does that say about how many of the weights "
    "the model really uses?",
    "At 99% sparsity, what does the model predict? (Only the embeddings and ~1% of the weights are left.)",
)
