"""lessons.core.measured: the bench figures the Week 3 pages show, read from assets/measured/."""
import json

from lessons.core import measured


def test_lines_per_section_from_a_bench_file(tmp_path, monkeypatch):
    data = {"date": "2026-12-01 17:00 UTC", "models": {
        "M": {"reasoning": {"direct": {"correct": 2, "n": 20, "accuracy": 0.1},
                            "cot": {"correct": 9, "n": 20, "accuracy": 0.45},
                            "pal": {"correct": 11, "n": 20, "accuracy": 0.55}},
              "react": {"success": 3, "n": 10, "success_rate": 0.3, "used_a_tool": 10},
              "rag": {"with_context": {"correct": 9, "n": 10, "accuracy": 0.9},
                      "without_context": {"correct": 0, "n": 10, "accuracy": 0.0}}}}}
    (tmp_path / "week3_apps.json").write_text(json.dumps(data))
    monkeypatch.setattr(measured, "MEASURED_DIR", tmp_path)
    assert measured.week3_lines("reasoning") == [
        "M: direct 2/20 (10 %), chain-of-thought 9/20 (45 %), PAL 11/20 (55 %)"]
    assert measured.week3_lines("react") == ["M: 3/10 ReAct tasks solved (30 %); 10/10 runs used a tool"]
    assert measured.week3_lines("rag") == ["M: 9/10 right with retrieved context (90 %), 0/10 without (0 %)"]
    monkeypatch.setattr(measured, "MEASURED_DIR", tmp_path / "missing")
    assert measured.week3_apps() == {} and measured.week3_lines("rag") == []


def test_the_shipped_file_has_the_three_sets_for_both_models():
    data = measured.week3_apps()
    assert data, "bench/week3_apps.py figures are missing from assets/measured/"
    for name in ("SmolLM2-135M-Instruct", "Qwen2.5-Coder-0.5B-Instruct"):
        row = data["models"][name]
        assert {"reasoning", "react", "rag"} <= set(row)
        assert row["reasoning"]["cot"]["n"] >= 20 and row["react"]["n"] >= 10 and row["rag"]["with_context"]["n"] >= 10
