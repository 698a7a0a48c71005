"""Plotly figure helpers shared by many pages: heatmaps, bars, small multiples, axes for
training steps and log scales. Every label that may come from learner text goes through
:func:`esc` (plotly interprets a few HTML-like tags in text)."""
from __future__ import annotations

import html
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go



def esc(label: str) -> str:
    """Escape a (learner-derived) label for plotly text, ticks and hovers."""
    return html.escape(str(label), quote=True)


# --------------------------------------------------------------------------- figures
def _axis_ticks(labels: list[str], max_ticks: int = 64) -> dict:
    n = len(labels)
    if n > 12 and all(l.isdigit() for l in labels):  # plain indices: let plotly pick ticks
        return dict(tickmode="auto")
    step = max(1, -(-n // max_ticks))
    idx = list(range(0, n, step))
    return dict(tickmode="array", tickvals=idx, ticktext=[esc(labels[i]) for i in idx])


def _indices(labels) -> bool:
    """The labels are 0, 1, 2, ... as text: a row or column's label is its index."""
    return all(l == str(i) for i, l in enumerate(labels))


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
    if _indices(x_labels) and _indices(y_labels):
        # rows and columns named by their own index (positions, dimensions): plotly's %{y}/%{x}
        # say it, with no per-cell hover text (512 x 512 cells would be 262,144 strings on every rerun)
        tr = go.Heatmap(z=z, colorscale=colorscale, zmin=zmin, zmax=zmax, showscale=showscale,
                        hovertemplate="%{y} → %{x}<br>%{z:.4f}<extra></extra>")
    else:
        hover = _hover_pairs(tuple(y_labels), tuple(x_labels))
        tr = go.Heatmap(z=z, colorscale=colorscale, zmin=zmin, zmax=zmax, customdata=hover, showscale=showscale,
                        hovertemplate="%{customdata}<br>%{z:.4f}<extra></extra>")
    if text is not None:
        tr.update(text=text, texttemplate="%{text}", textfont=dict(size=12))
    elif text_fmt:
        tr.update(texttemplate="%{z:" + text_fmt + "}", textfont=dict(size=12))
    n = max(len(x_labels), len(y_labels))
    # the layout as one dict: plotly's update_layout/update_xaxes path is the slow part of a figure
    return go.Figure(tr, layout=dict(
        title=dict(text=title), height=height or min(760, 180 + 22 * n),
        margin=dict(l=10, r=10, t=50 + 22 * title.count("<br>"), b=10),
        xaxis=dict(title=dict(text=x_title), **_axis_ticks(x_labels)),
        yaxis=dict(autorange="reversed", title=dict(text=y_title), **_axis_ticks(y_labels))))


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


def step_axis(last_step, title: str | None = "step") -> dict:
    """Axis settings for training steps (whole numbers): while a live chart has only a few
    steps, plotly's automatic ticks would read "1, 1.5, 2, 2.5"; up to 10 steps every step
    gets a tick, beyond that plotly's own spacing is kept with whole-number labels.
    ``title=None`` leaves the title alone (subplots titled on one row only)."""
    out: dict = {"tickformat": "d"}
    if title is not None:
        out["title_text"] = title
    if last_step is None or last_step <= 10:
        out.update(tick0=0, dtick=1)
    return out


def log_axis(values) -> dict:
    """Plotly axis settings for a log axis with readable, plain-number ticks (1-2-5 per
    decade; powers of ten over a wide range; denser over a narrow one) instead of plotly's
    default minor labels ("4, 3, 2, 1000, 9"). ``values``: the numbers the axis will show."""
    import math

    vals = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    if not vals:
        return dict(type="log")
    lo, hi = min(vals) / 1.05, max(vals) * 1.05
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for per_decade in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 4, 5, 7)):
        ticks = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in per_decade if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) < 2:   # a narrow range: three log-spaced values, two significant figures
        ticks = [float(f"{lo * (hi / lo) ** f:.2g}") for f in (0.1, 0.5, 0.9)]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:,.0f}" if t >= 1 else f"{t:g}" for t in ticks])
