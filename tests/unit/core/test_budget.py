"""lessons.core.budget: the cut-off share that every scored generation reports."""
from lessons.core import budget


def test_only_the_budget_counts_as_cut_off():
    assert budget.was_cut_off("token limit") and budget.was_cut_off("time limit")
    assert not budget.was_cut_off("eos") and not budget.was_cut_off("stop string")


def test_summary_and_its_line():
    s = budget.summary([True, False, False, False, False, False, False, False, False, False])
    assert s == {"n": 10, "cut_off": 1, "cut_off_share": 0.1, "conclusive": True}
    assert budget.text(s) == "1 of 10 cut off by their budget (10 %)"
    s = budget.summary([True, True, False])
    assert not s["conclusive"] and s["cut_off"] == 2
    assert "do not draw a conclusion" in budget.text(s)
    assert budget.summary([]) == {"n": 0, "cut_off": 0, "cut_off_share": 0.0, "conclusive": True}
