"""AppTest: the PPO, reward-hacking and DPO pages open with their recorded default runs (a
projector shows RLHF, not forms), drawn as the lesson's main figure, only at settings that were
recorded, only while the session's reward model is the one-click default (or none yet), and the
figures shown are the record's."""
import pytest

from lessons import models
from lessons.rlhf import dpo, ppo, recorded, recorded_pages
from tests.app.helpers import assert_no_exception, main_figure_charts, open_page, texts

pytestmark = pytest.mark.slow


def _record(kind: str, settings: dict):
    from lessons.core import records

    lab = recorded.Lab(models.load_tiny_gpt("cpu"), models.load_minilm("cpu"))
    mod = recorded_pages if kind in recorded_pages.RECIPES else recorded
    rec = records.FileStore().get(kind, mod.key(lab, kind, settings)[2])
    assert rec is not None, f"no current record of {kind} {settings}: run scripts/record_runs.py"
    return rec


def test_ppo_opens_with_its_recorded_default_run_and_only_at_recorded_settings():
    rec = _record("ppo", recorded.ppo_settings())
    last = rec.result["run"]["history"][-1]
    at = open_page("pages/w3_ppo.py")
    assert_no_exception(at)
    assert "Recorded run" in texts(at) and len(at.get("plotly_chart")) == 1
    assert len(main_figure_charts(at)) == 1                             # the record is the main figure
    shown = {m.label: m.value for m in at.metric}
    assert shown["step"] == str(last["step"]) == "60"
    assert shown["win-rate vs π_ref"] == f"{last['win_rate']:.2f}" and shown["KL to π_ref (nats)"] == f"{last['kl']:.2f}"
    assert [b for b in at.button if b.key == "ppo.train"] == []          # no Train before a reward model
    at.select_slider(key="ppo.beta.tiny").set_value(0.2).run()          # never recorded
    assert "Recorded run" not in texts(at) and "No recorded run has these settings" in texts(at)
    assert len(at.get("plotly_chart")) == 0 and main_figure_charts(at) == []
    at.select_slider(key="ppo.beta.tiny").set_value(0.5).run()          # the Try-this beta: recorded
    half = _record("ppo", recorded.ppo_settings(beta=0.5)).result["run"]["history"][-1]
    assert "Recorded run" in texts(at)
    assert {m.label: m.value for m in at.metric}["win-rate vs π_ref"] == f"{half['win_rate']:.2f}"
    at.select_slider(key="ppo.beta.tiny").set_value(0.3).run()

    at.button(key="ppo.quickstart").click().run()                       # the one-click reward model
    assert_no_exception(at)
    assert "Recorded run" in texts(at) and "to run it yourself, live" in texts(at)
    assert at.button(key="ppo.train")
    at.session_state["w3_rlhf_state"].recipe = None                     # as if the learner trained their own
    at.run()
    assert "Recorded run" not in texts(at) and "Press **Train**" in " ".join(i.value for i in at.info)


def test_reward_hacking_opens_with_both_recorded_runs_and_their_symptoms():
    rec = _record("reward-hacking", recorded.hacking_settings())
    at = open_page("pages/w3_reward_hacking.py")
    assert_no_exception(at)
    assert "Recorded run" in texts(at) and len(at.get("plotly_chart")) == 1
    assert len(main_figure_charts(at)) == 1
    table = at.dataframe[0].value
    assert list(table.columns) == ["symptom", "β = 0 (no KL penalty)", "β = 0.3"]
    from lessons.rlhf import reward_hacking

    v = reward_hacking.verdict(ppo.PPOResult.from_json(rec.result["runs"]["0.0"]))
    row = table[table["symptom"].str.startswith("labeler win-rate")].iloc[0]
    assert row["β = 0 (no KL penalty)"] == f"{v['win_rate'][0]:.2f} → {v['win_rate'][1]:.2f}"
    at.slider(key="reward-hacking.steps").set_value(30).run()           # never recorded
    assert "Recorded run" not in texts(at) and len(at.get("plotly_chart")) == 0


def _values(y) -> list:
    """A plotly spec's array: a list, or numpy's bytes in base64 ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return list(y)


def test_dpo_opens_with_its_recorded_default_run_before_any_reward_model():
    """No reward model yet: the DPO page shows its recorded default run (the loss curve as the main
    figure, pi_ref and DPO judged as a live run judges them) with the one-click button and no Train;
    another beta hides the record; the Try-this beta 1.0 shows its own record."""
    import json

    rec = _record(recorded_pages.DPO_PAGE, recorded_pages.dpo_page_settings())
    at = open_page("pages/w3_dpo.py")
    assert_no_exception(at)
    assert "Recorded run" in texts(at)
    assert at.button(key="dpo.quickstart") and [b for b in at.button if b.key == "dpo.run"] == []
    main = main_figure_charts(at)
    assert len(main) == 1
    curve = {t["name"]: _values(t["y"]) for t in json.loads(main[0].proto.spec)["data"]}
    assert curve["DPO loss"] == [r["loss"] for r in rec.result["history"]]
    table = at.dataframe[0].value
    assert list(table["method"]) == ["starting model π_ref", f"DPO (β = {dpo.DPOConfig.beta})"]
    assert table.loc[1, "steps"] == len(rec.result["history"])
    assert table.loc[1, "labeler win-rate"] == round(rec.result["end"]["win_rate"], 3)

    at.select_slider(key="dpo.beta").set_value(0.2).run()                # never recorded
    assert_no_exception(at)
    assert "Recorded run" not in texts(at) and main_figure_charts(at) == [] and not at.dataframe
    assert "No recorded run has these settings" in texts(at) and at.button(key="dpo.quickstart")

    at.select_slider(key="dpo.beta").set_value(1.0).run()                # the Try-this beta: recorded
    one = _record("dpo", recorded.dpo_settings(beta=1.0))
    assert "Recorded run" in texts(at) and len(main_figure_charts(at)) == 1
    assert at.dataframe[0].value.loc[1, "labeler win-rate"] == round(one.result["end"]["win_rate"], 3)
