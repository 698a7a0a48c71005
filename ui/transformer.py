"""Page layer of the transformer lessons (tokens, embeddings, attention, next token): the two
real models to look inside, cached attention runs of the shared READ-ONLY models, the token
strip, and the label placer of the embedding scatter."""
from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go
import streamlit as st

from lessons.core import pieces
from lessons.transformer import attention as attn, tokens as tok_lesson
from ui import loaders
from ui.figures import esc


MINILM = "all-MiniLM-L6-v2 (encoder)"
SMOLLM2 = "SmolLM2-135M-Instruct (decoder)"
MODELS = [MINILM, SMOLLM2]

# Palette for tokens: light enough for black text, distinct neighbours.
TOKEN_COLORS = ["#FFD6A5", "#CAFFBF", "#9BF6FF", "#BDB2FF", "#FFC6FF", "#FDFFB6", "#A0C4FF", "#D0F4DE"]


def load(model_choice: str, dev: str):
    """The shared, cached model for a radio choice."""
    return loaders.smollm2(dev) if model_choice == SMOLLM2 else loaders.minilm(dev)


@st.cache_resource(max_entries=12, show_spinner="Running the model on your text ...")
def _attention_run(model_choice: str, text: str, dev: str, max_tokens: int) -> attn.AttentionRun:
    return attn.run_attention(load(model_choice, dev), text, max_tokens=max_tokens)


def attention_run(model_choice: str, text: str, dev: str, max_tokens: int = attn.MAX_TOKENS) -> attn.AttentionRun:
    """One forward pass per (model, text, device), shared by reruns (changing layer or head
    does not run the model again). The result is never mutated by the page."""
    load(model_choice, dev)  # outside the cached call: shows the first-run conversion bar
    return _attention_run(model_choice, text, dev, max_tokens)


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


_LABEL_SPOTS = ("top center", "bottom center", "middle right", "middle left",
                "top right", "top left", "bottom right", "bottom left")


def place_scatter_labels(fig, xs, ys, labels) -> None:
    """Apply :func:`label_layout` to a plotly scatter whose traces carry ``labels`` as text:
    each label beside its point, or, in a tight cluster, as an annotation on a leader line."""
    at = lambda x, y: (round(float(x), 5), round(float(y), 5))   # noqa: E731 - points by position
    layout = label_layout(xs, ys, labels)
    spot = {at(x, y): place for x, y, place in zip(xs, ys, layout)}
    fig.for_each_trace(lambda t: t.update(
        textposition=[spot.get(at(x, y), ("top center", None))[0] or "top center" for x, y in zip(t.x, t.y)],
        text=[lab if spot.get(at(x, y), ("", None))[1] is None else "" for lab, x, y in zip(t.text, t.x, t.y)]))
    for x, y, lab, (_, off) in zip(xs, ys, labels, layout):
        if off is not None:
            fig.add_annotation(x=x, y=y, text=lab, ax=off[0], ay=off[1], showarrow=True, arrowhead=0,
                               arrowwidth=1, arrowcolor="#999", font=dict(size=12, color="#555"))


def label_layout(xs, ys, labels, *, width_px: float = 760, height_px: float = 460,
                 font_px: float = 12) -> list[tuple]:
    """:func:`_label_layout`, remembered per process: a class opening the same words (the page's
    defaults) pays for the search once, not on every rerun of every learner."""
    return list(_label_layout(tuple(map(float, xs)), tuple(map(float, ys)), tuple(map(str, labels)),
                              float(width_px), float(height_px), float(font_px)))


@lru_cache(maxsize=64)
def _label_layout(xs: tuple, ys: tuple, labels: tuple, width_px: float, height_px: float,
                  font_px: float) -> tuple:
    """Where each label of a labelled scatter goes, so that labels overlap neither each other
    nor the other markers nor the plot's edge (greedy, densest points first). Per point either
    ``(textposition, None)``, a plotly spot next to the point, or ``(None, (dx, dy))``: the label
    moves out of a tight cluster on a thin leader line, ``dx, dy`` pixels away (y down; plotly's
    annotation ``ax``/``ay``). The plot is assumed ``width_px`` x ``height_px`` (the narrow
    1280-px projector case); on a wider screen the labels only get more room."""
    import math

    n = len(xs)
    if n == 0:
        return []
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = width_px / ((x1 - x0) or 1.0)
    sy = height_px / ((y1 - y0) or 1.0)
    pts = [((x - x0) * sx, (y1 - y) * sy) for x, y in zip(xs, ys)]   # pixels, y down
    h, gap, r = font_px * 1.25, 6.0, 6.0

    def width(i: int) -> float:
        return 0.6 * font_px * len(str(labels[i]))

    def box(i: int, spot: str) -> tuple:
        px, py = pts[i]
        w = width(i)
        v, u = spot.split()
        left = {"center": px - w / 2, "right": px + gap, "left": px - gap - w}[u]
        top = {"top": py - gap - h, "bottom": py + gap, "middle": py - h / 2}[v]
        return left, top, left + w, top + h

    def moved(i: int, dx: float, dy: float) -> tuple:
        cx, cy, w = pts[i][0] + dx, pts[i][1] + dy, width(i)
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    def hits(a, b) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    dots = [(px - r, py - r, px + r, py + r) for px, py in pts]
    frame = (0.0, -h, width_px, height_px + h)

    def cost(i: int, b: tuple) -> float:
        outside = (b[2] - b[0]) * (b[3] - b[1]) - hits(b, frame)   # a label past the plot's edge is cut
        return sum(hits(b, p) for p in placed) + sum(hits(b, d) for j, d in enumerate(dots) if j != i) + 10 * outside

    crowd = [sum(abs(pts[i][0] - p[0]) < 80 and abs(pts[i][1] - p[1]) < 40 for p in pts) for i in range(n)]
    placed: list[tuple] = []
    out: list[tuple] = [("top center", None)] * n
    for i in sorted(range(n), key=lambda j: -crowd[j]):
        c, spot = min(((cost(i, box(i, sp)), sp) for sp in _LABEL_SPOTS), key=lambda t: t[0])
        if c == 0:
            out[i] = (spot, None)
            placed.append(box(i, spot))
            continue
        # No free spot beside the point: try further out, on a leader line, nearest first.
        best = (c, (spot, None), box(i, spot))
        for radius in (34, 50, 66, 82, 98):
            for k in range(16):
                a = 2 * math.pi * k / 16
                dx, dy = radius * math.cos(a), radius * math.sin(a)
                b = moved(i, dx, dy)
                cb = cost(i, b)
                if cb < best[0]:
                    best = (cb, (None, (round(dx), round(dy))), b)
            if best[0] == 0:
                break
        out[i] = best[1]
        placed.append(best[2])
    return tuple(out)
