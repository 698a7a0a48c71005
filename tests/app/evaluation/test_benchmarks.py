"""AppTest: benchmarks page. Filters, comparison, HELM metric picker and goal picker
show what lessons.evaluation.benchmarks holds."""
import json

from lessons.evaluation import benchmarks as bm
from tests.app.helpers import open_page, texts

PAGE = "pages/w2_benchmarks.py"


def _table(at):
    return next(d.value.reset_index() for d in at.table if d.value.index.name == "benchmark")


def test_filters_compare_and_pickers():
    at = open_page(PAGE, timeout=60)
    assert list(_table(at)["benchmark"]) == ["GLUE", "SuperGLUE", "MMLU", "BIG-bench", "HELM"]
    at.multiselect(key="benchmarks.caps").set_value(["safety"]).run()
    assert list(_table(at)["benchmark"]) == ["BIG-bench", "HELM"]
    at.multiselect(key="benchmarks.caps").set_value([]).run()
    at.selectbox(key="benchmarks.dim").select("calibration").run()
    assert list(_table(at)["benchmark"]) == ["MMLU", "BIG-bench", "HELM"]
    at.selectbox(key="benchmarks.dim").select("toxicity").run()
    at.slider(key="benchmarks.min_tasks").set_value(100).run()
    assert "No benchmark matches all filters" in texts(at)
    at.slider(key="benchmarks.min_tasks").set_value(0).run()
    assert list(_table(at)["benchmark"]) == ["HELM"]
    # side-by-side comparison
    at.selectbox(key="benchmarks.left").select("GLUE").run()
    at.selectbox(key="benchmarks.right").select("SuperGLUE").run()
    t = texts(at)
    assert "#### GLUE (2018)" in t and "#### SuperGLUE (2019)" in t and "human baseline 89.8" in t
    # HELM's metrics
    at.radio(key="benchmarks.metric").set_value("robustness").run()
    assert bm.HELM_METRICS["robustness"] in texts(at)
    assert "Headline metric in: **HELM**" in texts(at)
    at.radio(key="benchmarks.metric").set_value("accuracy").run()
    assert "Headline metric in: **GLUE, SuperGLUE, MMLU, BIG-bench, HELM**" in texts(at)
    goal = "How much world knowledge does my LLM have?"
    at.selectbox(key="benchmarks.goal").select(goal).run()
    assert any(s.value.startswith("**MMLU**") for s in at.success)
    cov = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-benchmarks.coverage")).proto.spec)
    assert cov["data"][0]["x"] == bm.DIMENSIONS and cov["data"][0]["z"][-1] == [1.0] * 7
