"""Week 2 captions and Try-this lines as experiments (issue #11.2): each test performs what
the page says with the page's own lessons functions and asserts the stated outcome. No model
is needed here; the training demos' outcomes are in tests/claims/test_week2_demos.py."""
import pytest

from lessons.evaluation import benchmarks, presets, rouge, summaries
from lessons.finetune import instructions

TWO = "rougeL vs rougeLsum (two sentences)"


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def test_rougelsum_try_this_as_the_page_states_it():
    p = presets.PRESETS[TWO]
    preset = rouge.rouge_breakdown(p["candidate"], p["reference"])
    assert round(preset["rougeL"].fmeasure, 3) == 0.5 and round(preset["rougeLsum"].fmeasure, 3) == 1.0
    # "put the two candidate sentences on ONE line: rougeLsum stays 1.000"
    cand_joined = rouge.rouge_breakdown(_one_line(p["candidate"]), p["reference"])
    assert round(cand_joined["rougeLsum"].fmeasure, 3) == 1.0
    # "Now put the reference on one line too: rougeLsum falls to rougeL's 0.500"
    both = rouge.rouge_breakdown(_one_line(p["candidate"]), _one_line(p["reference"]))
    assert round(both["rougeLsum"].fmeasure, 3) == round(both["rougeL"].fmeasure, 3) == 0.5


def test_rougelsum_matches_rouge_score_on_the_try_this_texts():
    from rouge_score import rouge_scorer

    p = presets.PRESETS[TWO]
    ref = rouge_scorer.RougeScorer(["rougeLsum"])
    for cand, refx in ((p["candidate"], p["reference"]), (_one_line(p["candidate"]), p["reference"]),
                       (_one_line(p["candidate"]), _one_line(p["reference"]))):
        assert abs(rouge.rouge_breakdown(cand, refx)["rougeLsum"].fmeasure
                   - ref.score(refx, cand)["rougeLsum"].fmeasure) < 1e-9


def test_helm_coverage_is_stated_as_in_the_paper():
    helm = next(b for b in benchmarks.BENCHMARKS if b.name == "HELM")
    text = " ".join(str(v) for v in vars(helm).values())
    assert "87.5" in text and "every core scenario" not in text


def _gen(text: str, stopped_by: str = "eos"):
    from lessons.core.generate import Generation
    return Generation("", text, 1, 5, 0.0, stopped_by)


def test_summaries_time_cap_skips_whole_dialogues(monkeypatch):
    monkeypatch.setattr(summaries, "generate_summary", lambda lm, d, ex, n: _gen("Amanda will buy the cake."))
    items = [{"id": i, "dialogue": f"A: hi {i}", "summary": "Amanda will buy the cake."} for i in (1, 2)]
    done = summaries.summarize_and_score(None, items, [], max_seconds=1e9)
    assert [r.get("skipped") for r in done] == [None, None]
    assert done[0]["zero-shot rougeL"] == done[0]["few-shot rougeL"] == 1.0
    assert done[0]["zero-shot cut off"] is False
    late = summaries.summarize_and_score(None, items, [], max_seconds=-1)
    # skipped for BOTH prompts and carrying no score at all (never a 0 counted against one prompt)
    assert all(r["skipped"] for r in late)
    assert not any(k.endswith(("rougeL", "bleu")) for r in late for k in r)
    # nobody waits any more (the class-run job's stop check): the dialogues not started are skipped too
    asked = []
    left = summaries.summarize_and_score(None, items, [], max_seconds=1e9, should_stop=lambda: asked.append(1) or len(asked) > 1)
    assert [r.get("skipped") for r in left] == [None, True] and "few-shot" in left[0]


def test_zero_vs_few_shot_comparison_equals_pandas(monkeypatch):
    """compare_modes (the model-summaries page's bars and verdict) against a pandas groupby
    over the same scored rows; a skipped dialogue counts nowhere."""
    import pandas as pd

    said = {"A: hi 1": "Amanda will buy the cake.", "A: hi 2": "Bob sells a car.", "A: hi 3": "the cake"}
    monkeypatch.setattr(summaries, "generate_summary",
                        lambda lm, d, ex, n: _gen(said[d], "token limit") if ex else _gen("Amanda buys a cake."))
    items = [{"id": i, "dialogue": f"A: hi {i}", "summary": "Amanda will buy the cake."} for i in (1, 2, 3)]
    rows = summaries.summarize_and_score(None, items, [{"dialogue": "x", "summary": "y"}], max_seconds=1e9)
    rows.append({"id": 4, "dialogue": "late", "reference": "r", "skipped": True})
    got = summaries.compare_modes(rows)
    long = pd.DataFrame([{"mode": mode, "metric": m, "v": r[f"{mode} {m}"]} for r in rows if not r.get("skipped")
                         for mode in summaries.MODES for m in summaries.METRICS])
    ref = long.groupby(["mode", "metric"])["v"].mean()
    assert got["n"] == 3
    assert got["budget"]["few-shot"]["cut_off"] == 3 and not got["budget"]["few-shot"]["conclusive"]
    assert got["budget"]["zero-shot"] == {"n": 3, "cut_off": 0, "cut_off_share": 0.0, "conclusive": True}
    for mode in summaries.MODES:
        for m in summaries.METRICS:
            assert got["mean"][mode][m] == pytest.approx(ref[(mode, m)], abs=1e-12)
    wide = pd.DataFrame([r for r in rows if not r.get("skipped")])
    assert got["few_shot_better"] == int((wide["few-shot rougeL"] > wide["zero-shot rougeL"]).sum()) == 2
    assert summaries.compare_modes([rows[-1]])["n"] == 0


def test_majority_baseline_is_the_floor_of_the_mood_task():
    floor = instructions.majority_baseline("mood")
    test = instructions.split("mood", "test")
    assert floor["answer"] in {"love", "war"}
    assert floor["accuracy"] == sum(e.output == floor["answer"] for e in test) / len(test)
    assert 0.4 < floor["accuracy"] < 0.6  # the 'always war' adapter of issue #11 scored exactly this
