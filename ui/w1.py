"""Page-layer helpers for the Week 1 lessons (tokens, embeddings, attention): cached runs
of the shared READ-ONLY models and plotly figure builders.

Every label that may come from learner text is passed through :func:`esc` before it goes
into a plotly figure: plotly interprets a few HTML-like tags (<b>, <br>, <a>...) in text,
so escaping makes ``<script>`` appear literally as the characters a learner typed.
"""
from __future__ import annotations

import html
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lessons.transformer import attention as attn, tokens as tok_lesson
from lessons.core import pieces
from ui import common

MINILM = "all-MiniLM-L6-v2 (encoder)"
SMOLLM2 = "SmolLM2-135M-Instruct (decoder)"
MODELS = [MINILM, SMOLLM2]

# Palette for tokens: light enough for black text, distinct neighbours.
TOKEN_COLORS = ["#FFD6A5", "#CAFFBF", "#9BF6FF", "#BDB2FF", "#FFC6FF", "#FDFFB6", "#A0C4FF", "#D0F4DE"]


def esc(label: str) -> str:
    """Escape a (learner-derived) label for plotly text, ticks and hovers."""
    return html.escape(str(label), quote=True)


def load(model_choice: str, dev: str):
    """The shared, cached model for a radio choice."""
    return common.smollm2(dev) if model_choice == SMOLLM2 else common.minilm(dev)


@st.cache_resource(max_entries=12, show_spinner="Running the model on your text ...")
def _attention_run(model_choice: str, text: str, dev: str, max_tokens: int) -> attn.AttentionRun:
    return attn.run_attention(load(model_choice, dev), text, max_tokens=max_tokens)


def attention_run(model_choice: str, text: str, dev: str, max_tokens: int = attn.MAX_TOKENS) -> attn.AttentionRun:
    """One forward pass per (model, text, device), shared by reruns (changing layer or head
    does not run the model again). The result is never mutated by the page."""
    load(model_choice, dev)  # outside the cached call: shows the first-run conversion bar
    return _attention_run(model_choice, text, dev, max_tokens)


# --------------------------------------------------------------------------- figures
def _axis_ticks(labels: list[str], max_ticks: int = 64) -> dict:
    n = len(labels)
    if n > 12 and all(l.isdigit() for l in labels):  # plain indices: let plotly pick ticks
        return dict(tickmode="auto")
    step = max(1, -(-n // max_ticks))
    idx = list(range(0, n, step))
    return dict(tickmode="array", tickvals=idx, ticktext=[esc(labels[i]) for i in idx])


@lru_cache(maxsize=32)
def _hover_pairs(y_labels: tuple, x_labels: tuple) -> np.ndarray:
    xs = [esc(l) for l in x_labels]
    return np.array([[f"{esc(yl)} → {xl}" for xl in xs] for yl in y_labels], dtype=object)


def heatmap(z, x_labels: list[str], y_labels: list[str], *, title: str = "", zmin=None, zmax=None,
            colorscale: str = "Blues", text_fmt: str | None = None, height: int | None = None,
            x_title: str = "", y_title: str = "", text=None, showscale: bool = True) -> go.Figure:
    """A heatmap with (possibly repeated) token labels on the axes, row 0 at the top.
    Non-finite cells (a masked -inf score) are left blank; ``text`` overrides cell labels."""
    z = np.asarray(z.detach().cpu() if hasattr(z, "detach") else z, dtype=np.float64)
    if zmin is not None:  # a masked score (-inf) is drawn in the lowest colour
        z = np.where(np.isneginf(z), zmin, z)
    z = np.where(np.isfinite(z), z, np.nan)
    hover = _hover_pairs(tuple(y_labels), tuple(x_labels))
    tr = go.Heatmap(z=z, colorscale=colorscale, zmin=zmin, zmax=zmax, customdata=hover, showscale=showscale,
                    hovertemplate="%{customdata}<br>%{z:.4f}<extra></extra>")
    if text is not None:
        tr.update(text=text, texttemplate="%{text}", textfont=dict(size=12))
    elif text_fmt:
        tr.update(texttemplate="%{z:" + text_fmt + "}", textfont=dict(size=12))
    fig = go.Figure(tr)
    n = max(len(x_labels), len(y_labels))
    fig.update_layout(title=title, height=height or min(760, 180 + 22 * n),
                      margin=dict(l=10, r=10, t=50 + 22 * title.count("<br>"), b=10))
    fig.update_xaxes(title=x_title, **_axis_ticks(x_labels))
    fig.update_yaxes(autorange="reversed", title=y_title, **_axis_ticks(y_labels))
    return fig


def small_multiples(mats, titles: list[str], cols: int = 3, colorscale: str = "Blues") -> go.Figure:
    """All heads of one layer as a grid of small heatmaps on one shared 0..1 colour scale.

    Drawn as ONE tiled heatmap (blank gaps between tiles) instead of one subplot per head:
    9-12 subplots cost plotly several hundred ms per rerun, one trace costs a few ms."""
    mats = np.asarray(mats, dtype=np.float32)                      # (H, T, T)
    n, t, _ = mats.shape
    rows = -(-n // cols)
    gap = max(2, t // 12)
    size = t + gap
    grid = np.full((rows * size - gap, cols * size - gap), np.nan, dtype=np.float32)
    # customdata: (head, query, key) for the hover, -1 in the gaps
    cd = np.full(grid.shape + (3,), -1, dtype=np.int16)
    qi, ki = np.meshgrid(np.arange(t), np.arange(t), indexing="ij")
    for h in range(n):
        r0, c0 = (h // cols) * size, (h % cols) * size
        grid[r0:r0 + t, c0:c0 + t] = mats[h]
        cd[r0:r0 + t, c0:c0 + t, 0] = h
        cd[r0:r0 + t, c0:c0 + t, 1] = qi
        cd[r0:r0 + t, c0:c0 + t, 2] = ki
    fig = go.Figure(go.Heatmap(z=grid, customdata=cd, colorscale=colorscale, zmin=0, zmax=1, hoverongaps=False,
                               hovertemplate="head %{customdata[0]}: query %{customdata[1]} → key "
                                             "%{customdata[2]}<br>%{z:.3f}<extra></extra>"))
    notes = [dict(x=(h % cols) * size + t / 2, y=(h // cols) * size - 0.5, text=esc(titles[h]), showarrow=False,
                  yanchor="bottom", font=dict(size=12)) for h in range(n)]
    w_px = 900
    fig.update_layout(annotations=notes, height=int(60 + w_px * grid.shape[0] / grid.shape[1]), margin=dict(l=10, r=10, t=30, b=10),
                      plot_bgcolor="white")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return fig


def bar(values, labels: list[str], *, title: str = "", x_title: str = "", horizontal: bool = False,
        color: str = "#4C78A8", height: int = 320, text_fmt: str = ".3f") -> go.Figure:
    """Bars with (possibly repeated) token labels."""
    vals = [float(v) for v in values]
    idx = list(range(len(vals)))
    names = [esc(l) for l in labels]
    if horizontal:
        tr = go.Bar(x=vals, y=idx, orientation="h", marker_color=color, customdata=names,
                    texttemplate="%{x:" + text_fmt + "}", textposition="outside",
                    hovertemplate="%{customdata}: %{x:.4f}<extra></extra>")
    else:
        tr = go.Bar(x=idx, y=vals, marker_color=color, customdata=names,
                    hovertemplate="%{customdata}: %{y:.4f}<extra></extra>")
    fig = go.Figure(tr)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10))
    ticks = dict(tickmode="array", tickvals=idx, ticktext=names)
    if horizontal:
        fig.update_yaxes(autorange="reversed", **ticks)
        fig.update_xaxes(title=x_title, range=[0, max(vals + [1e-9]) * 1.25])  # room for the labels
    else:
        fig.update_xaxes(title=x_title, **ticks)
    return fig


def token_strip(tk: tok_lesson.Tokenized, line_cells: int = 46, max_tokens: int = 400) -> go.Figure:
    """Tokens laid out like text, each in a coloured box with its id underneath.

    Byte tokens that hold only part of a character are drawn hatched-grey, [UNK] red."""
    shown = min(len(tk.ids), max_tokens)
    xs, ys, ws, texts, ids_txt, colors, hovers = [], [], [], [], [], [], []
    x, row = 0.0, 0
    for i in range(shown):
        label = tk.labels[i]
        w = max(tok_lesson.char_width(label), len(str(tk.ids[i]))) + 1.2
        if x + w > line_cells and x > 0:
            x, row = 0.0, row + 1
        xs.append(x + w / 2)
        ys.append(row)
        ws.append(w)
        texts.append(esc(label))
        ids_txt.append(str(tk.ids[i]))
        if tk.special[i]:
            colors.append("#DDDDDD")
        elif tk.scheme == pieces.WORDPIECE and tk.pieces[i] == "[UNK]":
            colors.append("#FF8A8A")
        elif tk.partial_bytes and tk.partial_bytes[i]:
            colors.append("#E8E8E8")
        else:
            colors.append(TOKEN_COLORS[i % len(TOKEN_COLORS)])
        hovers.append(f"#{i} id {tk.ids[i]}<br>piece {esc(tk.pieces[i])}")
        x += w
    rows = row + 1
    fig = go.Figure()
    fig.add_trace(go.Bar(x=xs, y=[0.9] * shown, base=[r - 0.45 for r in ys], width=[w - 0.3 for w in ws],
                         marker=dict(color=colors, line=dict(color="#888", width=0.5)), customdata=hovers,
                         hovertemplate="%{customdata}<extra></extra>", showlegend=False))
    fig.add_trace(go.Scatter(x=xs, y=[r - 0.12 for r in ys], mode="text", text=texts, hoverinfo="skip",
                             textfont=dict(family="DejaVu Sans Mono, monospace", size=15, color="#111"),
                             showlegend=False))
    fig.add_trace(go.Scatter(x=xs, y=[r + 0.25 for r in ys], mode="text", text=ids_txt, hoverinfo="skip",
                             textfont=dict(family="monospace", size=10, color="#555"), showlegend=False))
    fig.update_xaxes(visible=False, range=[-0.5, line_cells + 0.5])
    fig.update_yaxes(visible=False, range=[rows - 0.5, -0.55])
    fig.update_layout(height=40 + 46 * rows, margin=dict(l=0, r=0, t=10, b=0), bargap=0,
                      title=None, plot_bgcolor="white")
    return fig
