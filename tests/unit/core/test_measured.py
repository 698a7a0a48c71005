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
