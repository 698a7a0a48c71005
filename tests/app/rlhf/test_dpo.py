"""AppTest: DPO trains on the session's pairs (in a class-run worker process,
lessons/rlhf/dpo_job.py) and is compared with a PPO run and pi_ref on the same evaluation. A
second learner with the same settings on the one-click data sees the finished run at once; a
learner with pairs of their own gets a run of their own."""
import pytest
import json

from lessons.rlhf import ppo
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_dpo.py"


@pytest.mark.slow
def test_dpo_against_ppo_table():
    at = open_page(PAGE)
    at.button(key="dpo.quickstart").click().run()
    at.slider(key="dpo.epochs").set_value(1).run()
    at.slider(key="dpo.ppo_steps").set_value(2).run()
    assert at.checkbox(key="dpo.with_ppo").value is True
    at.button(key="dpo.run").click().run()
    assert_no_exception(at)
    table = at.dataframe[0].value
    assert list(table["method"]) == ["starting model π_ref", "DPO (β = 0.1)", f"PPO (β = {ppo.POLICY_DEFAULTS['tiny']['beta']})"]
    lv = at.session_state["dpo.live"]
    n_steps = len([r for r in lv.run.history if r["phase"] == "dpo"])
    assert lv.status == "finished" and lv.run.stopped.value == "steps"
    assert n_steps == -(-300 // 32)        # one epoch over all 300 pairs in batches of 32
    assert [r["step"] for r in lv.run.history] == list(range(1, n_steps + 3))   # the bar counts both phases
    assert table.loc[1, "steps"] == n_steps and table.loc[2, "steps"] == 2
    assert abs(table.loc[0, "KL to π_ref (nats)"]) < 1e-6          # pi_ref against itself

    # KL and perplexity are explained next to a chart with one panel (one axis) per measure
    shown = texts(at)
    assert "How to read KL and perplexity." in shown
    assert f"perplexity {table.loc[0, 'perplexity under π_ref']:,.0f} under π_ref" in shown.replace("\n", " ")
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    titles = [a.get("text") for a in spec["layout"].get("annotations", [])]
    for title in ("reward r_φ (std units)", "labeler win-rate vs π_ref", "KL to π_ref (nats / completion)",
                  "perplexity under π_ref (log axis)"):
        assert title in titles
    ppl_axis = spec["layout"]["yaxis4"]   # a log axis from 1: bar lengths compare honestly
    assert ppl_axis["type"] == "log" and ppl_axis["range"][0] == 0

    # A second learner, the same settings on the one-click data: the finished run at once, the same table.
    two = open_page(PAGE)
    two.button(key="dpo.quickstart").click().run()
    two.slider(key="dpo.epochs").set_value(1).run()
    two.slider(key="dpo.ppo_steps").set_value(2).run()
    two.button(key="dpo.run").click().run()
    assert_no_exception(two)
    assert "These settings ran before" in texts(two)
    assert two.dataframe[0].value.equals(table)

    # A third learner whose pairs are their own (one removed): never merged with the one-click run.
    three = open_page(PAGE)
    three.button(key="dpo.quickstart").click().run()
    three.session_state["w3_rlhf_state"].pairs.pop()
    three.slider(key="dpo.epochs").set_value(1).run()
    three.checkbox(key="dpo.with_ppo").set_value(False).run()
    three.button(key="dpo.run").click().run()
    assert_no_exception(three)
    mine = three.dataframe[0].value
    assert "These settings ran before" not in texts(three)
    assert list(mine["method"]) == ["starting model π_ref", "DPO (β = 0.1)"] and mine.loc[1, "steps"] == -(-299 // 32)
    lv3 = three.session_state["dpo.live"]
    from ui import class_runs

    assert len(class_runs.spec_of(lv3.result["outcome"].id)["pairs"]) == 299
