"""AppTest: clicks, a ranking, the simulated labeler, the dataset table, the reward model
(trained in a class-run worker process, lessons/rlhf/preferences_reward_job.py: accuracy, one
pair's logits and softmax, scoring typed text, a Stop that keeps what it learned so far)."""
import pytest
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_preferences_reward.py"


def _state(at):
    return at.session_state["w3_rlhf_state"]


@pytest.mark.slow
def test_clicks_ranking_labeler_and_reward_model():
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
    # 4. reward model: trained in a worker; the learner's own clicks and ranking keep it theirs
    at.button(key="preferences-reward.rm_train").click().run()
    assert_no_exception(at)
    lv = at.session_state["preferences-reward.live"]
    assert lv.status == "finished" and lv.result["outcome"].shareable is False
    shown = {m.label: m.value for m in at.metric}
    r = _state(at).rm_result
    assert int(shown["training pairs"]) == r.n_train and int(shown["held-out pairs"]) == r.n_test
    assert r.n_train + r.n_test == 104 and r.n_test >= 1
    assert [row["step"] for row in r.curve] == [1] + list(range(10, 301, 10))     # the measured epochs
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
    # 5. a run whose page was left mid-run (a long one: 3000 epochs on the pairs repeated 40 times)
    # stops after its current epoch; when the session comes back, the partly trained reward model
    # becomes its own, and the page says where the run stopped and why
    from lessons.core.loop import StopReason
    from lessons.rlhf import preferences_reward_job as job
    from tests.app.helpers import follow_as_this_session
    from ui import class_runs, rlhf

    finished_rm = _state(at).rm
    settings = {"epochs": 3000, "seed": 0}
    spec = job.spec(settings, _state(at).pairs * 40, rlhf._lab("cpu").fingerprints({}), 1)
    got = follow_as_this_session(at, "preferences-reward", job.KIND, spec, steps=3000,
                                 max_seconds=spec["max_seconds"], settings=settings, rows=3)
    class_runs.leave(got.id, "session:stop-test")        # what a closed tab amounts to, once its heartbeat expires
    at.run()
    assert_no_exception(at)
    r = _state(at).rm_result
    done = r.history[-1]["step"]
    assert r.stopped is StopReason.STOPPED and 20 <= done < 3000 and _state(at).rm is not finished_rm
    assert (f"Reward model training stopped after {done} of 3000 epochs (the page was left while it trained)"
            in texts(at))
    assert int(dict((m.label, m.value) for m in at.metric)["held-out accuracy"].rstrip("%")) == round(100 * r.test_acc)
    assert at.button(key="preferences-reward.rm_train") and not any(b.key == "preferences-reward.stop" for b in at.button)
    # 6. Clear the dataset while a reward model trains on it: the run is left and never comes back
    got = follow_as_this_session(at, "preferences-reward", job.KIND, spec, steps=3000,
                                 max_seconds=spec["max_seconds"], settings=settings, rows=3)
    at.button(key="preferences-reward.clear").click().run()
    assert_no_exception(at)
    assert class_runs.followers(got.id) == 0 and at.session_state["preferences-reward.live"].status == "idle"
    assert _state(at).rm is None and _state(at).pairs == [] and "No pairs yet" in texts(at)
    at.run()
    assert_no_exception(at)
    assert _state(at).rm is None


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
    lv = at.session_state["preferences-reward.live"]
    assert lv.result.get("record") is None and lv.result["outcome"].kind == "preferences-reward"   # ran live, in a worker
    r = _state(at).rm_result
    assert r is not None and len(_state(at).pairs) == rec.result["n_pairs"]
    assert not any("Recorded run" in m.value for m in at.info)
    assert r.test_acc == rec.result["test_acc"] and r.train_acc == rec.result["train_acc"]
    for a, b in zip(r.curve, rec.result["curve"]):
        assert a["step"] == b["step"] and a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    main = main_figure_charts(at)
    assert len(main) == 1 and "held-out accuracy" in json.dumps(json.loads(main[0].proto.spec)["data"])
