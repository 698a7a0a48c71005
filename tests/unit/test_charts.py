"""ui/charts.py: every chart's text alternative (summary + data table), the one colour-blind-safe
palette, presenter-mode chart fonts, and that pages and ui/ draw charts only through it."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui import charts

ROOT = Path(__file__).resolve().parents[2]


def test_no_page_calls_plotly_chart_directly():
    """Every chart goes through charts.show (its text alternative); only ui/charts.py draws."""
    offenders = []
    for f in [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]:
        if f.name == "charts.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "plotly_chart":
                offenders.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_bar_chart_summary_and_table():
    fig = go.Figure([go.Bar(name="dense", x=["a", "b"], y=[0.5, 0.25]),
                     go.Bar(name="pruned", x=["a", "b"], y=[0.125, 1.0])])
    fig.update_layout(title="next token")
    s = charts.summary_of(fig)
    assert s == "next token: dense (bar, 2 points, values 0.25 to 0.5); pruned (bar, 2 points, values 0.125 to 1)"
    header, rows, left = charts.table_of(fig)
    assert header == ["series", "x", "y"] and left == 0
    assert rows == [["dense", "a", "0\\.5"], ["dense", "b", "0\\.25"], ["pruned", "a", "0\\.125"], ["pruned", "b", "1"]]


def test_horizontal_bars_report_their_values_not_their_labels():
    fig = go.Figure(go.Bar(y=["GPT-2", "MiniLM"], x=[12.0, 140.0], orientation="h", name="fill"))
    assert "values 12 to 140" in charts.summary_of(fig)


def test_heatmap_is_a_matrix_and_is_capped():
    z = [[i * 20 + j for j in range(20)] for i in range(3)]
    fig = go.Figure(go.Heatmap(z=z, x=[f"k{j}" for j in range(20)], y=["q0", "q1", "q2"]))
    header, rows, left = charts.table_of(fig)
    assert header[0] == "row / column" and len(header) == 1 + charts.MAX_COLS
    assert rows[1][:3] == ["q1", "20", "21"] and left == 0
    assert "3 × 20 cells, values 0 to 59" in charts.summary_of(fig)


def test_long_series_are_cut_and_counted():
    fig = go.Figure(go.Scatter(x=list(range(100)), y=[float(i) for i in range(100)], name="loss"))
    _, rows, left = charts.table_of(fig)
    assert len(rows) == charts.MAX_ROWS and left == 100 - charts.MAX_ROWS
    two = go.Figure([go.Bar(x=list(range(20)), y=list(range(20)), name="a"),
                     go.Bar(x=list(range(20)), y=list(range(20, 40)), name="b")])
    _, rows, left = charts.table_of(two)                      # the cap spans the traces
    assert len(rows) == charts.MAX_ROWS and left == 40 - charts.MAX_ROWS
    assert rows[0][0] == "a" and rows[-1][:3] == ["b", "9", "29"]


def test_a_large_heatmap_is_capped_and_its_range_skips_nan():
    import numpy as np

    z = np.arange(64 * 64, dtype=float).reshape(64, 64)
    z[0, 0] = np.nan                                           # a masked cell (causal attention)
    fig = go.Figure(go.Heatmap(z=z))
    header, rows, left = charts.table_of(fig)
    assert len(rows) == charts.MAX_ROWS and left == 64 - charts.MAX_ROWS and len(header) == 1 + charts.MAX_COLS
    assert "64 × 64 cells, values 1 to 4095" in charts.summary_of(fig)
    ragged = go.Figure(go.Heatmap(z=[[1, 2, 3], [4, None]]))    # rows of unequal length: cell by cell
    assert "values 1 to 4" in charts.summary_of(ragged)
    assert "values" not in charts.summary_of(go.Figure(go.Heatmap(z=[[None, None]])))


def test_learner_text_in_a_chart_is_escaped_in_its_table():
    fig = go.Figure(go.Bar(x=["<b>x</b> | *y*", "line\nbreak"], y=[1, 2], name="[link](http://e)"))
    _, rows, _ = charts.table_of(fig)
    table = charts._markdown_table(["series", "x", "y"], rows)
    assert "\\<b\\>x\\</b\\> \\| \\*y\\*" in table          # literal: no HTML, no cell break
    assert "line break" in table and "\\[link\\]\\(http\\://e\\)" in table
    assert all(line.count(" | ") == 2 for line in table.splitlines()[2:])


def test_empty_figure_has_a_summary():
    assert charts.summary_of(go.Figure()) == "an empty chart"
    assert charts.table_of(go.Figure())[1] == []


def test_projector_fonts_reach_every_text():
    fig = make_subplots(rows=1, cols=2, subplot_titles=["left", "right"])
    fig.add_trace(go.Bar(x=["a"], y=[1], text=["1"], textfont=dict(size=10)), row=1, col=1)
    fig.update_layout(font=dict(size=11), title="t")
    big = charts.for_projector(fig, size=16)
    assert big.layout.font.size == 16 and big.layout.legend.font.size == 16
    assert big.layout.xaxis.tickfont.size == 16 and big.layout.yaxis2.tickfont.size == 16
    assert all(a.font.size >= 16 for a in big.layout.annotations)
    assert big.data[0].textfont.size == 16 and big.layout.title.font.size >= 16
    assert fig.layout.font.size == 11                                   # the original is untouched


def test_meaningful_colours_are_okabe_ito_and_distinct():
    okabe = set(charts.OKABE_ITO.values())
    for c in (charts.RIGHT, charts.WRONG, charts.KEPT, charts.REMOVED, charts.BEFORE, charts.AFTER):
        assert c in okabe
    assert charts.RIGHT != charts.WRONG and charts.BEFORE != charts.AFTER and charts.KEPT != charts.REMOVED
    # never colour alone: the "bad"/"changed" side of each pair also has a pattern
    assert charts.PATTERN["wrong"] and charts.PATTERN["removed"] and charts.PATTERN["after"]


def test_a_diagram_drawn_with_annotations_is_read_out():
    fig = go.Figure()
    fig.add_shape(type="rect", x0=0, x1=1, y0=0, y1=1)
    fig.add_annotation(x=0.5, y=0.5, text="<b>1. Define</b>", showarrow=False)
    fig.add_annotation(x=0.5, y=0.2, text="", showarrow=True)
    assert charts.summary_of(fig) == "a diagram with the labels 1. Define"
    assert charts.table_of(fig) == (["label"], [["1\\. Define"]], 0)


def test_text_on_points_is_a_column():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[0, 0], mode="text", text=["Hello", "world"], name="tokens"))
    header, rows, _ = charts.table_of(fig)
    assert header == ["series", "x", "y", "text"] and [r[3] for r in rows] == ["Hello", "world"]


def test_a_heatmap_hover_names_each_cell_by_its_row_and_column():
    """ui/figures.heatmap: token labels (repeats allowed, learner text escaped) travel as per-cell
    hover text; rows and columns named by their own index (positions, dimensions) are said by
    plotly's %{y}/%{x}, with no per-cell text (a 512 x 512 heatmap would send 262,144 strings)."""
    import plotly.io as pio

    from ui import figures

    tokens = ["the", "<b>cat</b>", "the"]
    fig = figures.heatmap(np.eye(3), tokens, tokens)
    hover = fig.data[0].customdata
    assert hover[1][0] == "&lt;b&gt;cat&lt;/b&gt; → the" and "%{customdata}" in fig.data[0].hovertemplate
    n = 512
    idx = [str(i) for i in range(n)]
    big = figures.heatmap(np.random.default_rng(0).random((n, n)), idx, idx)
    assert big.data[0].customdata is None and big.data[0].hovertemplate.startswith("%{y} → %{x}")
    assert len(pio.to_json(big, validate=False)) < 4_000_000
    shifted = figures.heatmap(np.eye(3), ["1", "2", "3"], ["1", "2", "3"])   # digits, not indices
    assert shifted.data[0].customdata is not None
