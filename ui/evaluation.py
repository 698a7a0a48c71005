"""Page-layer helpers for the Week 2 evaluation pages: safe highlighting of learner text
and the plotly figures (LCS table, score bars, distributions). No metric is computed here:
every number comes from lessons.evaluation."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from lessons.evaluation import rouge
from ui import inputs

MAX_TABLE_SIDE = 60  # the LCS heatmap is drawn up to 60 x 60 tokens


def highlight_md(text: str, tokens: Sequence[rouge.Token], marked: Sequence[int], color: str = "green") -> str:
    """Markdown showing ``text`` with the marked tokens on a coloured background.

    Safety: every piece of learner text goes through inputs.md_escape (which escapes
    < > [ ] : * _ ` and friends), so '<b>' is shown literally as <b> and a ':red[...]'
    typed by a learner cannot open a directive. No HTML is ever produced."""
    parts = []
    for piece, on in rouge.highlight_segments(text, tokens, marked):
        lines = piece.split("\n")
        esc = "  \n".join(inputs.md_escape(line) for line in lines)
        if on and piece.strip():
            parts.append(f":{color}-background[{esc}]")
        else:
            parts.append(esc)
    return "".join(parts) or "*(empty)*"


def lcs_figure(res: rouge.RougeL, ref: Sequence[str], cand: Sequence[str]) -> go.Figure | None:
    """The DP table as a heatmap; the back-trace path as a line, matches as stars."""
    if not ref or not cand or len(ref) > MAX_TABLE_SIDE or len(cand) > MAX_TABLE_SIDE:
        return None
    table = res.table
    x = ["∅"] + [f"{j}:{t}" for j, t in enumerate(cand, 1)]
    y = ["∅"] + [f"{i}:{t}" for i, t in enumerate(ref, 1)]
    fig = go.Figure(go.Heatmap(
        z=table, x=x, y=y, colorscale="Blues", showscale=False,
        text=table, texttemplate="%{text}" if len(ref) * len(cand) <= 900 else "",
        hovertemplate="ref[:%{y}] vs cand[:%{x}]<br>LCS length %{z}<extra></extra>",
    ))
    px = [x[j] for _, j in res.path]
    py = [y[i] for i, _ in res.path]
    fig.add_trace(go.Scatter(x=px, y=py, mode="lines+markers", name="back-trace path",
                             line=dict(color="orange", width=3), marker=dict(size=6, color="orange")))
    mx = [x[j + 1] for _, j in res.pairs]
    my = [y[i + 1] for i, _ in res.pairs]
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers", name="match (diagonal step)",
                             marker=dict(symbol="star", size=16, color="crimson",
                                         line=dict(color="white", width=1))))
    side = max(360, min(900, 28 * (len(ref) + 2)))
    fig.update_layout(height=side, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis=dict(autorange="reversed", title="reference tokens (i)"),
                      xaxis=dict(side="top", title="candidate tokens (j)"),
                      legend=dict(orientation="h", y=-0.05))
    return fig


def score_bars(rows: list[dict]) -> go.Figure:
    """Grouped bars: precision / recall / F1 for each metric (0..1)."""
    fig = go.Figure()
    for key, color in (("precision", "#4c78a8"), ("recall", "#f58518"), ("F1", "#54a24b")):
        fig.add_trace(go.Bar(name=key, x=[r["metric"] for r in rows], y=[r.get(key) for r in rows],
                             marker_color=color, text=[f"{r.get(key):.2f}" if r.get(key) is not None else ""
                                                       for r in rows], textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1.15], title="score (0..1)"), height=330,
                      margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=1.12))
    return fig
