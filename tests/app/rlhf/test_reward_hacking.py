"""AppTest: two interleaved PPO runs (beta = 0 and the slider's beta) end with one chart,
a start/end table with both runs, and samples of both policies."""
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
    assert lv.status == "finished" and set(lv.result) == {0.0, 0.2}
    assert all(len(v) == 5 for v in lv.run.rows().values())
    table = at.dataframe[0].value
    assert list(table.columns) == ["symptom", "β = 0 (no KL penalty)", "β = 0.2"]
    assert len(table) == len(reward_hacking.SYMPTOMS)
    assert any("empty lines" in x for x in table["symptom"]) and any("length" in x for x in table["symptom"])
    v = reward_hacking.verdict(lv.result[0.0])
    row = table[table["symptom"].str.startswith("labeler win-rate")].iloc[0]
    assert row["β = 0 (no KL penalty)"] == f"{v['win_rate'][0]:.2f} → {v['win_rate'][1]:.2f}"
    assert "What each policy writes now" in texts(at)
    assert len(at.get("plotly_chart")) == 1
    assert "Run ended early" not in texts(at)

    # A Stop click reruns the script while the runs are in flight (after 2 rounds, say): the
    # page keeps their rows and judges both partly trained policies.
    lv.status, lv.result = "running", None
    lv.run.history = lv.run.history[:2]
    for tr in lv.run.trainers.values():
        tr.history = tr.history[:2]
    at.button(key="reward-hacking.stop").click().run()
    assert_no_exception(at)
    assert all(len(v) == 2 for v in lv.run.rows().values())
    assert "Run ended early (stopped by you): showing the steps finished so far." in texts(at)
    assert all(r.stopped.value == "stopped" and len(r.history) == 2 for r in lv.result.values())
    assert len(at.dataframe[0].value) == len(reward_hacking.SYMPTOMS)
