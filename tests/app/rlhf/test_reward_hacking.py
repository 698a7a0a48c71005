"""AppTest: two interleaved PPO runs (beta = 0 and the slider's beta; a class run in a worker
process, ui/class_runs.py) end with one chart, a start/end table with both runs, and samples of
both policies; the same settings again are shown at once from the finished run's record."""
import pytest
from lessons.rlhf import reward_hacking
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_reward_hacking.py"


@pytest.mark.slow
def test_two_runs_side_by_side():
    at = open_page(PAGE)
    at.button(key="reward-hacking.quickstart").click().run()
    at.slider(key="reward-hacking.steps").set_value(5).run()
    at.select_slider(key="reward-hacking.beta").set_value(0.2).run()
    at.button(key="reward-hacking.run").click().run()
    assert_no_exception(at)
    lv = at.session_state["reward-hacking.live"]
    results = lv.result["results"]
    assert lv.status == "finished" and set(results) == {0.0, 0.2}
    assert [r["step"] for r in lv.run.history] == [1, 2, 3, 4, 5]
    assert all(len(r.history) == 5 for r in results.values())
    table = at.dataframe[0].value
    assert list(table.columns) == ["symptom", "β = 0 (no KL penalty)", "β = 0.2"]
    assert len(table) == len(reward_hacking.SYMPTOMS)
    assert any("empty lines" in x for x in table["symptom"]) and any("length" in x for x in table["symptom"])
    v = reward_hacking.verdict(results[0.0])
    row = table[table["symptom"].str.startswith("labeler win-rate")].iloc[0]
    assert row["β = 0 (no KL penalty)"] == f"{v['win_rate'][0]:.2f} → {v['win_rate'][1]:.2f}"
    assert "What each policy writes now" in texts(at)
    assert "Only 5 steps: the start and end averages overlap" in texts(at)    # says why start ≈ end
    assert len(at.get("plotly_chart")) == 1
    assert "Run ended early" not in texts(at)

    # The same settings again: the finished class run, at once, from its record
    full = lv.run.history
    at.button(key="reward-hacking.run").click().run()
    assert_no_exception(at)
    assert "These settings ran before" in texts(at)
    assert at.session_state["reward-hacking.live"].run.history == full

    # A Stop click while the page follows the runs (after 2 rounds, say): this learner leaves
    # them; the page keeps the rounds seen and judges both partly trained policies.
    lv = at.session_state["reward-hacking.live"]
    lv.status, lv.result = "running", {"job_id": 1, "rows": full[:2]}
    lv.run.history = lv.result["rows"]
    at.button(key="reward-hacking.stop").click().run()
    assert_no_exception(at)
    lv = at.session_state["reward-hacking.live"]
    assert [r["step"] for r in lv.run.history] == [1, 2]
    assert "Run ended early (stopped by you): showing the steps finished so far." in texts(at)
    assert len(at.dataframe[0].value) == len(reward_hacking.SYMPTOMS)
