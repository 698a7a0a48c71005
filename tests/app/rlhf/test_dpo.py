"""AppTest: DPO trains on the session's pairs and is compared with a PPO run and pi_ref
on the same evaluation."""
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
    n_steps = len(lv.run.history)
    assert lv.status == "finished" and lv.run.stopped.value == "steps"
    assert n_steps == -(-300 // 32)        # one epoch over all 300 pairs in batches of 32
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
