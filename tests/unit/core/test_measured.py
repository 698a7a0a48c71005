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


def test_cai_line_per_model_and_budget(tmp_path, monkeypatch):
    """One sentence per measured budget; a run with more than 10 % of its stages cut off says so."""
    def run(tokens, cut):
        s = {"n": 5, "cut_off": cut, "cut_off_share": cut / 5, "conclusive": cut / 5 <= 0.1}
        return {"n": 5, "revision_less_harmful": 2, "ties": 3, "revision_more_harmful": 0,
                "critique_names_principle": 1, "date": "2026-12-05 21:00 UTC", "code_version": "abc",
                "budget": {"max_new_tokens": tokens}, "cut_off": {
                    "response": s, "critique": s, "revision": s,
                    "all": {"n": 15, "cut_off": 3 * cut, "cut_off_share": round(cut / 5, 3), "conclusive": cut == 0}}}
    data = {"models": {"M": {"cai": {"runs": [run(80, 2), run(320, 0)]}}}}
    (tmp_path / "week3_apps.json").write_text(json.dumps(data))
    monkeypatch.setattr(measured, "MEASURED_DIR", tmp_path)
    first, second = measured.week3_lines("cai")
    assert first.startswith("M, at most 80 new tokens per stage: revision judged less harmful 2/5 (ties 3, "
                            "more harmful 0), critique names the principle 1/5; cut off by the budget: "
                            "response 2/5, critique 2/5, revision 2/5; stages in all: 6 of 15 cut off")
    assert "do not draw a conclusion" in first and "do not draw a conclusion" not in second
    assert "at most 320 new tokens" in second and "(code abc, 2026-12-05 21:00 UTC)" in second


def test_the_shipped_file_has_the_cai_set_for_both_models():
    from lessons.rlhf import constitutional_ai

    for name in ("SmolLM2-135M-Instruct", "Qwen2.5-Coder-0.5B-Instruct"):
        cai = measured.week3_apps()["models"][name]["cai"]
        page = cai["runs"][0]
        assert page["n"] == 5 and page["budget"]["max_new_tokens"] == constitutional_ai.DEFAULT_TOKENS and page["code_version"] and page["date"]
        assert set(page["cut_off"]) == {"response", "critique", "revision", "all"}
        assert len(cai["runs"]) == (1 if page["conclusive"] else 2)      # a longer budget when > 10 % cut off
