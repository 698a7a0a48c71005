"""AppTest: clicks, a ranking, the simulated labeler, the dataset table, the reward model
(accuracy, one pair's logits and softmax, scoring typed text)."""
import pytest
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_preferences_reward.py"


def _state(at):
    return at.session_state["w3_rlhf_state"]


@pytest.mark.slow
def test_clicks_ranking_labeler_and_reward_model(monkeypatch):
    at = open_page(PAGE)
    assert "Preferences and the reward model" in at.title[0].value
    assert "No pairs yet" in texts(at)
    # 1. a click records (prompt, chosen, rejected); skip records nothing
    at.button(key="preferences-reward.skip").click().run()
    assert len(_state(at).pairs) == 0
    at.button(key="preferences-reward.a").click().run()
    assert_no_exception(at)
    pairs = _state(at).pairs
    assert len(pairs) == 1 and pairs[0].source == "you" and pairs[0].prompt == at.selectbox(key="preferences-reward.prompt").value
    # 2. a ranking of k=3 gives 3 pairs, best first; duplicate ranks are refused
    at.slider(key="preferences-reward.k").set_value(3).run()
    assert at.button(key="preferences-reward.rank_add").label == "Add this ranking (3 pairs)"
    at.selectbox(key="preferences-reward.rank_1").set_value(1).run()
    assert "different rank" in texts(at)
    at.selectbox(key="preferences-reward.rank_0").set_value(2).run()     # now #2 is best, #1 second, #3 third
    at.button(key="preferences-reward.rank_add").click().run()
    new = _state(at).pairs[1:]
    assert len(new) == 3 and new[0].source == "your ranking"
    assert new[0].chosen == new[1].chosen                   # the best one beats both others
    # 3. the simulated labeler
    at.slider(key="preferences-reward.n_pairs").set_value(100).run()
    at.button(key="preferences-reward.simulate").click().run()
    assert_no_exception(at)
    s = _state(at)
    assert len(s.pairs) == 104 and sum(p.source == "simulated: reader" for p in s.pairs) == 100
    assert "100 pairs from" in texts(at)
    assert at.dataframe[0].value.shape[0] == 104
    for p in s.pairs[4:]:
        assert s.labeler.score(p.chosen) > s.labeler.score(p.rejected)
    # 4. reward model
    at.button(key="preferences-reward.rm_train").click().run()
    assert_no_exception(at)
    shown = {m.label: m.value for m in at.metric}
    r = _state(at).rm_result
    assert int(shown["training pairs"]) == r.n_train and int(shown["held-out pairs"]) == r.n_test
    assert r.n_train + r.n_test == 104 and r.n_test >= 1
    acc = int(shown["held-out accuracy"].rstrip("%"))
    assert acc == round(100 * _state(at).rm_result.test_acc)
    at.number_input(key="preferences-reward.rm_pair_idx").set_value(5).run()
    v = _state(at).rm.pair_view(_state(at).pairs[5])
    assert f"σ(r_w − r_l) = {v['p_chosen_sigmoid']:.3f}" in texts(at)
    # typed text is scored; HTML is just text
    at.text_input(key="preferences-reward.rm_text").set_value("<script>alert('x')</script> 😀").run()
    assert_no_exception(at)
    assert "reward r_φ (standardised)" in {m.label for m in at.metric}
    at.text_input(key="preferences-reward.rm_text").set_value("").run()
    assert "Type some text" in texts(at)
    # 5. Stop after 20 of 300 epochs (the loop asks before each epoch): the partly trained reward
    # model becomes the session's, and the page says it was stopped and where
    from lessons.core.loop import StopReason
    from ui import runtime
    asked = []
    monkeypatch.setattr(runtime, "stop_requested", lambda: asked.append(1) or len(asked) > 20)
    finished_rm = _state(at).rm
    at.button(key="preferences-reward.rm_train").click().run()
    assert_no_exception(at)
    assert at.session_state["preferences-reward.live"].running     # the Stop's rerun finishes it
    at.run()
    assert_no_exception(at)
    r = _state(at).rm_result
    assert r.steps_done == 20 and r.stopped is StopReason.STOPPED and _state(at).rm is not finished_rm
    assert "Reward model training stopped by you after 20 of 300 epochs" in texts(at)
    assert int(dict((m.label, m.value) for m in at.metric)["held-out accuracy"].rstrip("%")) == round(100 * r.test_acc)
    assert at.session_state["preferences-reward.live"].stopped
    # a Stop before the first epoch: the session keeps its reward model, and the page says so
    from ui import live, runtime
    kept = _state(at).rm
    at.session_state["preferences-reward.live"] = live.LiveRun("preferences-reward", "running", None, {})
    at.button(key="preferences-reward.stop").click().run()
    assert_no_exception(at)
    assert "stopped before its first epoch: the reward model did not change" in texts(at)
    assert _state(at).rm is kept


def test_avoid_labeler_needs_one_word():
    at = open_page(PAGE)
    at.selectbox(key="preferences-reward.labeler").set_value("avoid").run()
    at.text_input(key="preferences-reward.word").set_value("two words").run()
    assert "Type one word" in texts(at)
    assert models.tiny_gpt_available()


@pytest.mark.slow
def test_opens_with_the_recorded_default_pipeline_and_one_click_reproduces_it():
    """A fresh session at the defaults shows the recorded default pipeline (simulated reader, the
    one-click pairs, r_phi at the default epochs: lessons/rlhf/recorded_pages.py) as the main
    figure, labelled as recorded; another setting hides it; the one-click button builds the same
    pairs and reward model live, and its curve equals the record's."""
    import json

    from lessons.core import records
    from lessons.rlhf import recorded, recorded_pages
    from tests.app.helpers import main_figure_charts

    lab = recorded.Lab(models.load_tiny_gpt("cpu"), models.load_minilm("cpu"))
    rec = records.FileStore().get(recorded_pages.REWARD, recorded_pages.key(lab, recorded_pages.REWARD,
                                                                           recorded_pages.REWARD_MODEL)[2])
    assert rec is not None, "no current record (scripts/record_runs.py)"
    at = open_page(PAGE)
    info = next(m.value for m in at.info if "Recorded run" in m.value)
    assert f"held-out accuracy {rec.result['test_acc']:.0%}" in info
    assert len(main_figure_charts(at)) == 1
    shown = {m.label: m.value for m in at.metric}
    assert shown["held-out accuracy"] == f"{rec.result['test_acc']:.0%}"
    assert shown["training pairs"] == str(rec.result["n_train"])

    at.slider(key="preferences-reward.n_pairs").set_value(200).run()           # not the recorded pipeline
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info) and main_figure_charts(at) == []
    assert "No reward model yet in this session." in texts(at)
    at.slider(key="preferences-reward.n_pairs").set_value(recorded_pages.REWARD_MODEL["n_pairs"]).run()

    at.button(key="preferences-reward.quickstart").click().run()              # the live run, one click
    assert_no_exception(at)
    r = _state(at).rm_result
    assert r is not None and len(_state(at).pairs) == rec.result["n_pairs"]
    assert not any("Recorded run" in m.value for m in at.info)
    assert r.test_acc == rec.result["test_acc"] and r.train_acc == rec.result["train_acc"]
    for a, b in zip(r.curve, rec.result["curve"]):
        assert a["step"] == b["step"] and a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    main = main_figure_charts(at)
    assert len(main) == 1 and "held-out accuracy" in json.dumps(json.loads(main[0].proto.spec)["data"])
