"""Page-layer helpers for the Week 1 decoding and prompting lessons (pages/w1_prompts_inference,
w1_sampling, w1_generation, w1_in_context_learning): the decoder picker, cached next-token
logits per prompt, cached generation traces, and plotly figures.

Models come from ui.loaders' process-wide loaders and are READ-ONLY: nothing here changes
them. Token strings can contain '<' (plotly reads HTML-like tags in text), so every label
that goes into a figure passes through :func:`esc`.
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from lessons import models
from lessons.decoding import generation, sampling
from ui import charts, common, loaders

SMOLLM2 = "SmolLM2-135M-Instruct (fast)"
QWEN = "Qwen2.5-Coder-0.5B-Instruct (stronger, slower)"
TINY = "tiny GPT (Shakespeare, ours)"
HUB = "a Hugging Face hub id ..."
# Okabe-Ito (ui/charts.py): kept blue, removed by top-k orange, by top-p yellow (removed bars are also hatched)
KEPT, TOPK, TOPP, GREEDY = charts.KEPT, charts.OKABE_ITO["orange"], charts.OKABE_ITO["yellow"], "#B2BEC3"


def esc(label: str) -> str:
    return html.escape(str(label), quote=False)


def model_choices() -> list[str]:
    """The optional Qwen first (the default) when installed (`make qwen`), SmolLM2 (the
    default without it), the tiny GPT, a hub id."""
    qwen = [QWEN] if models.qwen_available() else []
    return qwen + [SMOLLM2] + ([TINY] if models.tiny_gpt_available() else []) + [HUB]


def pick_model(page: str) -> models.LoadedModel | None:
    """A decoder picker (the optional Qwen by default when installed, else SmolLM2; the tiny
    GPT when it exists, or a hub id).
    Widget keys are "<page>.model" / "<page>.hub_id" (`page` = the page's URL name).
    Returns None after showing a clear message when the chosen model cannot load."""
    choice = st.selectbox("Model", model_choices(), key=f"{page}.model",
                          help="SmolLM2-135M-Instruct ships with the app and runs offline; `make qwen` adds the "
                               "stronger Qwen2.5-Coder-0.5B-Instruct.")
    dev = common.device()
    try:
        if choice == TINY:
            return loaders.tiny_gpt(dev)
        if choice == QWEN:
            return loaders.qwen(dev)
        if choice == HUB:
            mid = st.text_input("Hub model id", value="", placeholder="HuggingFaceTB/SmolLM2-360M-Instruct",
                                key=f"{page}.hub_id")
            if not mid.strip():
                st.info("Type a causal LM id. Offline, only models already in your local Hugging Face cache load.")
                return None
            return loaders.hub_model(mid.strip(), dev)
        return loaders.smollm2(dev)
    except models.ModelUnavailable as exc:
        common.show_model_error(exc)
        return None


def model_key(lm: models.LoadedModel) -> str:
    return f"{lm.name}@{lm.device}"


# --------------------------------------------------------------------------- cached computations
@st.cache_data(max_entries=128, show_spinner="Running the model on the prompt ...")
def next_logits(key: str, prompt: str, _lm: models.LoadedModel) -> np.ndarray:
    """Raw next-token logits (V,) per (model, prompt): moving a sampling slider reuses them."""
    return sampling.next_token_logits(_lm.model, _lm.tokenizer, prompt).numpy()


@st.cache_data(max_entries=64, show_spinner="Generating token by token ...")
def trace(key: str, prompt: str, settings: tuple, _lm: models.LoadedModel) -> generation.Trace:
    s = generation.GenSettings(**dict(settings))
    return generation.generate_steps(_lm.model, _lm.tokenizer, prompt, s, top_n=8)


def settings_tuple(s: generation.GenSettings) -> tuple:
    from dataclasses import asdict

    return tuple(sorted(asdict(s).items()))


def tokens_table(tokenizer, text: str) -> tuple[list[int], list[str]]:
    ids = tokenizer(text)["input_ids"]
    return ids, [sampling.token_label(tokenizer, i) for i in ids]


# --------------------------------------------------------------------------- figures
def filter_figure(steps: sampling.FilterSteps, labels: list[str], top_p: float) -> go.Figure:
    """Top tokens before (grey outline) and after the filters (coloured by fate), with the
    running total that top-p measures and the p threshold."""
    x = [f"{i + 1}. {esc(l)}" for i, l in enumerate(labels)]
    fig = go.Figure()
    kept = [r == "" for r in steps.removed_by]
    fig.add_bar(x=x, y=[p if k else None for p, k in zip(steps.p_final, kept)],
                name="kept: what generate() samples from", marker_color=KEPT,
                hovertemplate="%{x}<br>p after = %{y:.4f}<extra>kept</extra>")
    # A removed token has p = 0 after the filters, so a bar of its final p would be invisible:
    # draw it, hatched, at the probability it had just before it was removed (after T).
    for fate, color, name in (("top-k", TOPK, "removed by top-k"), ("top-p", TOPP, "removed by top-p"),
                              ("greedy", GREEDY, "dropped by greedy")):
        ys = [p if r == fate else None for p, r in zip(steps.p_temp, steps.removed_by)]
        if any(y is not None for y in ys):
            fig.add_bar(x=x, y=ys, name=name + " (had this p; now 0)", marker_color=color,
                        marker_pattern_shape="/", marker_pattern_fgcolor="#2D3436",
                        hovertemplate="%{x}<br>p before removal = %{y:.4f}<br>now 0<extra>" + name + "</extra>")
    fig.add_bar(x=x, y=steps.p_raw, name="before: softmax(z)", marker_color="rgba(0,0,0,0)",
                marker_line=dict(color="#636E72", width=2))
    fig.add_scatter(x=x, y=steps.cum_before_p, name="running total seen by top-p", mode="lines+markers",
                    line=dict(color="#6C5CE7", dash="dot"), yaxis="y2")
    if top_p < 1.0 and not steps.greedy:
        fig.add_hline(y=top_p, line=dict(color="#6C5CE7", width=1), yref="y2",
                      annotation_text=f"top_p = {top_p:.2f}", annotation_position="top left")
    fig.update_layout(
        barmode="overlay", height=430, margin=dict(l=10, r=10, t=30, b=10),
        yaxis=dict(title="probability", rangemode="tozero"),
        yaxis2=dict(title="running total", overlaying="y", side="right", range=[0, 1.05], showgrid=False,
                    tickmode="linear", tick0=0, dtick=0.25),
        legend=dict(orientation="h", y=1.12), xaxis=dict(tickangle=-40),
    )
    return fig


def samples_figure(res: sampling.SampleResult, labels: list[str]) -> go.Figure:
    x = [esc(l) for l in labels] + ["(all others)"]
    fig = go.Figure()
    fig.add_bar(x=x, y=res.theoretical + [res.other_theoretical], name="theoretical p", marker_color="#B2BEC3")
    fig.add_bar(x=x, y=res.empirical + [res.other_empirical], name=f"share of {res.n:,} draws",
                marker_color=KEPT)
    fig.update_layout(barmode="group", height=330, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="probability / share", legend=dict(orientation="h", y=1.15),
                      xaxis=dict(tickangle=-40))
    return fig


def step_figure(step: generation.Step) -> go.Figure:
    x = [esc(t) for t, _, _ in step.top]
    colors = [KEPT if i == step.token_id else "#B2BEC3" for _, _, i in step.top]
    fig = go.Figure(go.Bar(x=x, y=[p for _, p, _ in step.top], marker_color=colors,
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="probability",
                      yaxis=dict(rangemode="tozero"))
    return fig


def token_strip(tr: generation.Trace) -> go.Figure:
    """The generated tokens in order, coloured by the probability of the one chosen."""
    probs = [s.prob for s in tr.steps]
    fig = go.Figure(go.Bar(
        x=list(range(1, len(probs) + 1)), y=probs, text=[esc(s.token) for s in tr.steps],
        textposition="outside", marker=dict(color=probs, colorscale="Blues", cmin=0, cmax=1),
        hovertemplate="step %{x}: %{text}<br>p = %{y:.3f}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=20, b=10), xaxis_title="step",
                      yaxis=dict(title="p of chosen token", range=[0, 1.15]))
    return fig


def as_tensor(logits: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(logits, dtype=np.float32))


@st.cache_data(max_entries=32, show_spinner=False)
def measure_shots(key: str, task_key: str, use_chat: bool, instruction: str, examples: tuple,
                  _lm: models.LoadedModel) -> list:
    """Zero/one/few-shot accuracies; deterministic, so one classroom computes each setup once."""
    from lessons.prompting import in_context_learning

    task = in_context_learning.load_task(task_key)
    shots = [in_context_learning.Example(t, lab) for t, lab in examples]          # examples: ((text, label), ...)
    return in_context_learning.compare_shots(_lm.model, _lm.tokenizer, task, shots, use_chat=use_chat,
                                   instruction=instruction)
