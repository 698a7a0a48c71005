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
        "M: direct 2/20 (10 %), cut-off share not measured, chain-of-thought 9/20 (45 %), cut-off share not "
        "measured, PAL 11/20 (55 %), cut-off share not measured. So: no conclusion on chain-of-thought vs direct "
        "(answers cut off by the budget, or not measured); no conclusion on PAL vs direct (answers cut off by the "
        "budget, or not measured)."]
    assert measured.week3_lines("react") == ["M: 3/10 ReAct tasks solved (30 %); 10/10 runs used a tool"]
    assert measured.week3_lines("rag") == ["M: right with retrieved context 9/10 (90 %), cut-off share not measured; "
                                           "without 0/10 (0 %), cut-off share not measured"]
    monkeypatch.setattr(measured, "MEASURED_DIR", tmp_path / "missing")
    assert measured.week3_apps() == {} and measured.week3_lines("rag") == []


def test_the_reasoning_verdict_follows_the_data():
    """The page's conclusion is the figures' (whichever way they go), and a score with too many
    answers cut off by the budget carries none."""
    def s(ok, cut=0, n=24):
        return {"correct": ok, "n": n, "accuracy": ok / n, "cut_off": cut, "conclusive": cut / n <= 0.1}
    r = {"direct": s(2), "cot": s(9), "self_consistency": dict(s(9), k=5), "pal": s(1),
         "budget": {"max_new_tokens": {"cot": 96}}}
    line = measured.reasoning_verdict("M", r)
    assert line.startswith("M: direct 2/24 (8 %), 0 cut off, chain-of-thought 9/24 (38 %), 0 cut off")
    assert "chain-of-thought helps (+7 problems over direct)" in line
    assert "self-consistency (k = 5) makes no clear difference over greedy chain-of-thought (+0 problems)" in line
    assert "PAL makes no clear difference over direct (-1 problems)" in line and line.endswith("chain-of-thought 96 new tokens.")
    r["cot"] = s(2, cut=3)
    line = measured.reasoning_verdict("M", r)
    assert "(too many cut off to conclude)" in line and "no conclusion on chain-of-thought vs direct" in line
    r["cot"], r["direct"] = s(1), s(9)
    assert "chain-of-thought hurts (-8 problems against direct)" in measured.reasoning_verdict("M", r)


def test_the_shipped_file_has_the_three_sets_for_both_models():
    data = measured.week3_apps()
    assert data, "bench/week3_apps.py figures are missing from assets/measured/"
    for name in ("SmolLM2-135M-Instruct", "Qwen2.5-Coder-0.5B-Instruct"):
        row = data["models"][name]
        assert {"reasoning", "react", "rag"} <= set(row)
        assert row["reasoning"]["cot"]["n"] >= 20 and row["react"]["n"] >= 10 and row["rag"]["with_context"]["n"] >= 10
