"""AppTest: a short live pretraining run from scratch, and a stopped run keeping its results."""
import pytest
from lessons.pretraining import tiny_gpt
from tests.app.helpers import assert_no_exception, main_figure_charts, open_page, texts
from ui import live

PAGE = "pages/w1_pretraining_live.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.slow
def test_short_run_trains_and_samples():
    at = open_page(PAGE, timeout=300)
    assert "Press **Start pretraining**" in texts(at)
    at.select_slider(key="pretraining-live.layers").set_value(1)
    at.select_slider(key="pretraining-live.width").set_value(32)
    at.slider(key="pretraining-live.steps").set_value(40)
    at.select_slider(key="pretraining-live.every").set_value(20)
    at.select_slider(key="pretraining-live.lr").set_value(1e-2)
    at.button(key="pretraining-live.start").click().run()
    assert_no_exception(at)
    lv = at.session_state["pretraining-live.live"]
    run = lv.result
    assert lv.status == "finished" and run.log.stopped.value in ("steps", "time")
    done = run.log.steps[-1]
    assert _metric(at, "Steps done") == f"{done} of 40"
    # Samples at step 0 and every 20 steps, plus the final one if the time limit cut the run.
    steps_sampled = [s for s, _ in run.samples]
    assert steps_sampled[0] == 0 and all(s % 20 == 0 for s in steps_sampled[:-1])
    df = at.dataframe[-1].value
    assert list(df["step"]) == steps_sampled
    # It learned: the last losses are well below the ln(4096) = 8.3 of random weights.
    assert sum(run.log.losses[-5:]) / 5 < run.log.losses[0] - 0.5
    assert 1 < float(_metric(at, "Validation perplexity").replace(",", "")) < 4096


def test_interrupted_run_keeps_partial_results():
    # A Stop click reruns the page while the loop is running; the rerun finds the LiveRun
    # still "running". Simulate exactly that state.
    at = open_page(PAGE, timeout=300)
    tok_len = 4096
    model = tiny_gpt.fresh_model(tiny_gpt.live_config(tok_len, 0, 1, 32), seed=0)
    log = tiny_gpt.TrainLog(500, 60.0)
    log.history = [{"step": i, "seconds": 0.1 * i, "loss": loss, "lr": 1e-3, "tokens": i * 8 * 64}
                   for i, loss in enumerate([8.3, 8.1, 7.9], start=1)]
    at.session_state["pretraining-live.live"] = live.LiveRun("pretraining-live", "running", log,
                                                             tiny_gpt.PretrainResult(model, log, 500, 50, 0))
    at.button(key="pretraining-live.stop").click().run()
    assert_no_exception(at)
    assert "Stopped at step 3 of 500" in texts(at)
    assert _metric(at, "Steps done") == "3 of 500"
    lv = at.session_state["pretraining-live.live"]
    assert lv.status == "finished" and lv.run.stopped.value == "stopped"
    assert lv.result.val_ppl is not None and lv.result.samples[-1][0] == 3   # the partial model was finished
    # Reset forgets the run (and its private model): the page is back to its first state
    at.button(key="pretraining-live.reset").click().run()
    assert_no_exception(at)
    assert at.session_state["pretraining-live.live"].status == "idle"
    assert "Press **Start pretraining**" in texts(at) and not [m for m in at.metric if m.label == "Steps done"]


def test_opens_with_the_recorded_default_run():
    """At the defaults the page draws the recorded run (lessons/pretraining/recorded_live.py) at
    once, as its main figure, labelled as recorded, with its samples; another setting shows no
    record, only the Start button."""
    import json

    from lessons import models
    from lessons.pretraining import recorded_live

    rec = recorded_live.recorded(recorded_live.Lab(models.load_tiny_gpt("cpu")), recorded_live.KIND,
                                 recorded_live.settings())
    assert rec is not None, "no current record (scripts/record_runs.py)"
    at = open_page(PAGE, timeout=300)
    info = next(m.value for m in at.info if "Recorded run" in m.value)
    assert f"{rec.result['val_ppl']:,.1f}" in info and f"{rec.result['steps_done']} steps" in info
    main = main_figure_charts(at)
    assert len(main) == 1
    assert json.loads(main[0].proto.spec)["data"][0]["name"] == "training loss"
    assert list(at.dataframe[-1].value["step"]) == [s for s, _ in rec.result["samples"]]
    assert rec.result["samples"][-1][1].strip() in [t.value.strip() for t in at.text]   # the last sample
    assert at.button(key="pretraining-live.start")

    at.select_slider(key="pretraining-live.layers").set_value(1).run()
    assert_no_exception(at)
    assert not any("Recorded run" in m.value for m in at.info) and main_figure_charts(at) == []
    assert "Press **Start pretraining**. Expect" in texts(at) and at.button(key="pretraining-live.start")
