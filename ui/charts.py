"""Every chart of the app goes through :func:`show` (issue 22, point 4).

- A text alternative a screen-reader user can reach: under each chart a collapsed expander
  "Chart as text" holds a one-line summary (the page's own, or one made from the traces) and
  the traces' data as a small table (a real <table>, at most ``MAX_ROWS`` rows).
- One colour-blind-safe palette for colours that carry meaning (Okabe & Ito 2008, "Color
  Universal Design"): right/wrong, kept/removed, before/after. Never colour alone: the same
  meanings have a bar pattern (``PATTERN``) and the traces carry names or labels.
- In presenter mode the chart's text is large enough for the back of a room (``PRESENT_FONT``).
- Every lesson marks ONE main figure, the one that carries its idea: ``show(fig, main=True)``, or
  ``with charts.main_figure():`` around a figure that is not one chart (a table, a trace, several
  charts). Presenter mode moves it to the top of the page, under the title, and caps its height
  (``PRESENT_MAIN_HEIGHT``), so it is on a 1280x720 projector without scrolling
  (tests/e2e/test_every_page.py checks every lesson of the navigation).

Pages call ``charts.show(fig, key=...)`` where they used to call
``st.plotly_chart(fig, width="stretch", key=...)``; ``where=`` draws into a column or an
``st.empty()`` placeholder (a live chart redrawn during training)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import inputs

# Okabe-Ito: distinguishable with protanopia, deuteranopia and tritanopia.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
RIGHT = OKABE_ITO["blue"]            # right / chosen / fits
WRONG = OKABE_ITO["vermillion"]      # wrong / rejected / overflows
KEPT = OKABE_ITO["blue"]
REMOVED = OKABE_ITO["vermillion"]
BEFORE = OKABE_ITO["sky_blue"]       # before / dense / reference
AFTER = OKABE_ITO["orange"]          # after / pruned / changed
NEUTRAL = "#BBBBBB"
# Bar patterns (plotly marker.pattern.shape) that go with the colours above.
PATTERN = {"right": "", "wrong": "x", "kept": "", "removed": "/", "before": "", "after": "."}

MAX_ROWS = 30          # rows of the text table (the rest is counted, not shown)
MAX_COLS = 12          # columns of a heatmap's table
PRESENT_FONT = 18      # presenter mode: chart text in px (ticks, legend, labels)
PRESENT_DENSE_FONT = 16  # presenter mode: tick labels of an axis with many labels (a token per row)
DENSE_TICKS = 12         # more tick labels than this on an axis: PRESENT_DENSE_FONT
PRESENT_MAIN_HEIGHT = 440  # presenter mode: the main figure's chart height at most (px)
MAIN_KEY = "lesson-figure"  # the main figure's container key (CSS class st-key-lesson-figure)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        return f"{v:.4g}"
    return str(v)


def _cell(v: Any) -> str:
    """A table cell: the value shown literally (learner text is escaped, never markdown)."""
    return inputs.md_escape(" ".join(_fmt(v).split()))[:80]


def _seq(v: Any) -> list:
    if v is None:
        return []
    try:
        return list(v.tolist() if hasattr(v, "tolist") else v)
    except TypeError:
        return [v]


def _name(trace: Any, i: int) -> str:
    return str(getattr(trace, "name", None) or f"series {i + 1}")


def _labels(fig: go.Figure) -> list[str]:
    """The non-empty texts of the figure's annotations (a diagram drawn with shapes), tags removed."""
    import re

    out = []
    for a in fig.layout.annotations or ():
        t = " ".join(re.sub(r"<[^>]+>", " ", str(a.text or "")).split())
        if t:
            out.append(t)
    return out


def _title(fig: go.Figure) -> str:
    t = fig.layout.title.text if fig.layout.title else None
    return " ".join(str(t).replace("<br>", " ").split()) if t else ""


def _finite_range(z: list) -> list:
    """[min, max] of a matrix's numbers, NaN and non-numbers left out ([] if none), in numpy: a
    64 x 64 attention map is 4,096 cells, and this runs on every rerun of the page."""
    try:
        arr = np.asarray(z, dtype=float)
    except (TypeError, ValueError):     # ragged rows, text cells: cell by cell
        vals = [v for r in z for v in _seq(r) if isinstance(v, (int, float)) and not math.isnan(v)]
        return [min(vals), max(vals)] if vals else []
    arr = arr[np.isfinite(arr)]
    return [arr.min().item(), arr.max().item()] if arr.size else []


def summary_of(fig: go.Figure) -> str:
    """One line: the chart's title and what each trace holds (kind, name, size, range)."""
    parts = []
    for i, tr in enumerate(fig.data):
        kind = tr.type
        if kind == "heatmap":
            z = _seq(tr.z)
            n_cols = len(_seq(z[0])) if z else 0
            vals = _finite_range(z)
            size = f"{len(z)} × {n_cols} cells"
        else:
            ys = _seq(tr.y if kind != "pie" else tr.values)
            xs = _seq(tr.x)
            if getattr(tr, "orientation", None) == "h":
                xs, ys = ys, xs
            vals = [v for v in ys if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))]
            size = f"{max(len(xs), len(ys))} points"
        rng = f", values {_fmt(min(vals))} to {_fmt(max(vals))}" if vals else ""
        parts.append(f"{_name(tr, i)} ({kind}, {size}{rng})")
    head = _title(fig)
    if not parts and _labels(fig):
        parts = ["a diagram with the labels " + ", ".join(_labels(fig))]
    body = "; ".join(parts[:8]) + (f"; and {len(parts) - 8} more series" if len(parts) > 8 else "")
    return (head + ": " if head else "") + (body or "an empty chart")


def table_of(fig: go.Figure) -> tuple[list[str], list[list[str]], int]:
    """(header, rows, rows left out) of the traces' data: one row per point (series, x, y),
    a heatmap as its matrix (row label, then one column per x label). Only the ``MAX_ROWS``
    rows shown are formatted; the rest are counted."""
    header: list[str] = []
    rows: list[list[str]] = []
    total = 0
    for i, tr in enumerate(fig.data):
        if tr.type == "heatmap":
            z = _seq(tr.z)
            xs = _seq(tr.x) or list(range(len(_seq(z[0])) if z else 0))
            ys = _seq(tr.y) or list(range(len(z)))
            header = ["row / column"] + [_cell(x) for x in xs[:MAX_COLS]]
            rows = [[_cell(y)] + [_cell(v) for v in _seq(r)[:MAX_COLS]] for y, r in zip(ys[:MAX_ROWS], z[:MAX_ROWS])]
            total = min(len(ys), len(z))
            break      # one matrix is the table
        if tr.type == "pie":
            xs, ys = _seq(tr.labels), _seq(tr.values)
        else:
            xs, ys = _seq(tr.x), _seq(tr.y)
        if not ys and not xs:
            continue
        if not xs:
            xs = list(range(len(ys)))
        if not ys:
            ys = [""] * len(xs)
        texts = _seq(getattr(tr, "text", None)) if not isinstance(getattr(tr, "text", None), str) else []
        texts = texts if len(texts) == len(xs) else [""] * len(xs)
        header = ["series", "x", "y", "text"]
        points = list(zip(xs, ys, texts))
        total += len(points)
        rows += [[_cell(_name(tr, i)), _cell(x), _cell(y), _cell(t)] for x, y, t in points[:max(0, MAX_ROWS - len(rows))]]
    if header and header[-1] == "text" and not any(r[3] for r in rows):
        header, rows = header[:3], [r[:3] for r in rows]          # no trace has text on its points
    if not rows and _labels(fig):
        labels = _labels(fig)
        header, rows, total = ["label"], [[_cell(t)] for t in labels[:MAX_ROWS]], len(labels)
    return header, rows[:MAX_ROWS], max(0, total - MAX_ROWS)


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r + [""] * (len(header) - len(r))) + " |" for r in rows]
    return "\n".join(lines)


def presenting() -> bool:
    return bool(st.session_state.get("app.present"))


def for_projector(fig: go.Figure, size: int = PRESENT_FONT) -> go.Figure:
    """A copy of ``fig`` with every text at least ``size`` px (ticks, axis titles, legend,
    annotations such as subplot titles, text on bars)."""
    fig = go.Figure(fig)
    base = fig.layout.font.size or 12
    fig.update_layout(font_size=max(base, size), legend_font_size=max(fig.layout.legend.font.size or 0, size),
                      legend_title_font_size=max(fig.layout.legend.title.font.size or 0, size),
                      hoverlabel_font_size=max(size, 14))
    if fig.layout.coloraxis and fig.layout.coloraxis.colorbar:
        fig.update_layout(coloraxis_colorbar=dict(tickfont_size=size, title_font_size=size))
    fig.update_xaxes(tickfont_size=size, title_font_size=size)
    fig.update_yaxes(tickfont_size=size, title_font_size=size)
    # an axis with a label per token keeps its rows apart at the smallest readable size
    fig.for_each_xaxis(lambda ax: ax.update(tickfont_size=PRESENT_DENSE_FONT)
                       if ax.tickvals is not None and len(ax.tickvals) > DENSE_TICKS else None)
    fig.for_each_yaxis(lambda ax: ax.update(tickfont_size=PRESENT_DENSE_FONT)
                       if ax.tickvals is not None and len(ax.tickvals) > DENSE_TICKS else None)
    for a in fig.layout.annotations or ():
        a.font.size = max(a.font.size or 0, size)
    if fig.layout.title and fig.layout.title.text:
        fig.update_layout(title_font_size=max(fig.layout.title.font.size or 0, size + 2))
    for tr in fig.data:
        if hasattr(tr, "textfont") and tr.textfont is not None and (tr.textfont.size or 0) < size:
            tr.textfont.size = size
        if hasattr(tr, "colorbar") and tr.colorbar is not None:
            tr.colorbar.tickfont.size = size
            tr.colorbar.title.font.size = size
    return fig


def main_figure(where: Any = None):
    """The container of the lesson's main figure: ``with charts.main_figure(): ...``. One per
    page (a second one is a duplicate-key error). ``where``: a column or container to put it in."""
    return (where if where is not None else st).container(key=MAIN_KEY)


def show(fig: go.Figure, *, key: str | None = None, summary: str | None = None, where: Any = None,
         main: bool = False, fit: bool | int = False, **kwargs: Any) -> None:
    """Draw ``fig`` full width (st.plotly_chart) with its "Chart as text" expander below.

    ``summary``: one sentence that says what the chart shows (default: made from the traces;
    learner text in it is escaped here). ``where``: a column, container or st.empty()
    placeholder to draw into (default: the current one). ``main``: this is the lesson's main
    figure (:func:`main_figure`; only for a chart drawn once per run). ``fit``: a chart inside
    ``main_figure()`` (one of several, or redrawn into a placeholder during training): in
    presenter mode its height is capped as the main figure's (``True``) or at ``fit`` px (a chart
    that shares the screen with metrics). Other keyword arguments go to st.plotly_chart."""
    if presenting():
        fig = for_projector(fig)
        cap = PRESENT_MAIN_HEIGHT if (main or fit is True) else (int(fit) or None)
        if cap and (fig.layout.height or 450) > cap:
            fig.update_layout(height=cap)
    box = main_figure(where) if main else (where if where is not None else st).container()
    with box:
        st.plotly_chart(fig, width="stretch", key=key, **kwargs)
        with st.expander("Chart as text", expanded=False, icon=":material/table:"):
            st.markdown(inputs.md_escape(summary if summary is not None else summary_of(fig)))
            header, rows, left = table_of(fig)
            if rows:
                st.markdown(_markdown_table(header, rows))
            if left:
                st.caption(f"… and {left} more rows.")
