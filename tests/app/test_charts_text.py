"""Every chart has its text alternative (ui/charts.py): a "Chart as text" expander under each
chart, with a summary and the data; in presenter mode the chart's text is projector-sized."""
import json

from tests.app.helpers import open_page
from ui import charts

PAGES = ["pages/w1_scaling_laws.py", "pages/w1_lifecycle.py"]


def _chart_text_boxes(at):
    return [e for e in at.expander if "Chart as text" in e.label]


def test_every_chart_has_a_text_alternative():
    for page in PAGES:
        at = open_page(page)
        figs = at.get("plotly_chart")
        boxes = _chart_text_boxes(at)
        assert figs and len(boxes) == len(figs), (page, len(figs), len(boxes))
        for box in boxes:
            md = "\n".join(m.value for m in box.markdown)
            assert "|---|" in md and "empty chart" not in md, md[:200]   # a summary, then the data


def test_presenter_mode_charts_use_projector_fonts():
    at = open_page(PAGES[0])
    at.session_state["app.present"] = True
    at.run()
    for f in at.get("plotly_chart"):
        layout = json.loads(f.proto.spec)["layout"]
        assert layout["font"]["size"] >= charts.PRESENT_FONT
        assert layout["xaxis"]["tickfont"]["size"] >= charts.PRESENT_FONT
