"""AppTest: perplexity across domains and a short continued-pretraining run on a private copy."""
import pytest
from lessons import models
from lessons.pretraining import domain_adaptation
from lessons.pretraining import recorded as domain_recorded
from lessons.pretraining.tiny_gpt import TrainLog
from ui import live
from tests.app.helpers import assert_no_exception, open_page, texts
from tests.floats import same

PAGE = "pages/w1_domain_adaptation.py"
SHAKESPEARE, MODERN = domain_adaptation.SHAKESPEARE, domain_adaptation.MODERN


def _metric(at, label):
    return next(m for m in at.metric if m.label == label)


@pytest.mark.slow
def test_domains_table_opens_recorded_then_own_text_then_live():
    at = open_page(PAGE, timeout=600)
    df = at.dataframe[0].value
    assert list(df["domain"]) == [SHAKESPEARE, MODERN] * 2
    assert "recorded measurement" in texts(at)
    rec = domain_recorded.recorded(domain_recorded.Lab(models.load_tiny_gpt("cpu"), models.load_smollm2("cpu")),
                                   domain_recorded.KIND, domain_recorded.settings())
    # the table shows 3 decimals; a record made on another CPU may round the other way (tests/floats.py)
    assert same(df.to_dict("records"), [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
                                        for r in rec.result["rows"]], abs_tol=1.01e-3)
    tiny = df[df["model"].str.startswith("tiny")].set_index("domain")
    # Our Shakespeare model is more surprised by modern English than by held-out Shakespeare
    # (same model, same tokenizer: perplexities are comparable).
    assert tiny.loc[MODERN, "perplexity"] > 1.5 * tiny.loc[SHAKESPEARE, "perplexity"]
    # a learner's own text: measured now, on its first 256 tokens; the record stays
    at.text_area(key="domain-adaptation.own").input(("<b>Quarterly revenue</b> rose 4% on higher net interest income. 🙂 " * 40)).run()
    assert_no_exception(at)
    df = at.dataframe[0].value
    own = df[df["domain"] == "your text"]
    assert len(own) == 2 and set(own["tokens scored"]) == {256}
    assert list(df["domain"]) == [SHAKESPEARE, MODERN, "your text"] * 2
    assert "Your text is measured now." in texts(at)
    # "Measure live": the two shipped domains scored on the spot give the recorded figures
    recorded_cells = df[df["domain"] != "your text"].round(6).to_dict("records")
    at.button(key="domain-adaptation.measure").click().run(timeout=600)
    assert_no_exception(at)
    df = at.dataframe[0].value
    assert "measured on this server just now" in texts(at) and "recorded measurement" not in texts(at)
    assert same(df[df["domain"] != "your text"].round(6).to_dict("records"), recorded_cells, abs_tol=1.01e-3)  # 3 decimals shown


@pytest.mark.slow
def test_continued_pretraining_lowers_modern_perplexity():
    at = open_page(PAGE, timeout=600)
    fp = models.state_fingerprint(models.load_tiny_gpt("cpu").model)
    at.slider(key="domain-adaptation.steps").set_value(20)
    at.select_slider(key="domain-adaptation.every").set_value(5)
    at.button(key="domain-adaptation.train").click().run()
    assert_no_exception(at)
    lv = at.session_state["domain-adaptation.live"]
    state, curve = lv.result, lv.result["curve"]
    assert lv.status == "finished" and lv.run.steps_done == curve[-1][0]
    # Bounded by 20 steps or 60 s (a loaded CPU may hit the time limit first).
    done = state["curve"][-1][0]
    assert curve[0][0] == 0 and 5 <= done <= 20
    assert all(c[0] % 5 == 0 for c in curve[:-1])
    assert curve[-1][1] < curve[0][1]                       # modern perplexity fell
    assert _metric(at, "Steps done").value == f"{done} of 20"
    assert _metric(at, "Modern English perplexity").value == f"{curve[-1][1]:.1f}"
    assert state["fingerprint_unchanged"] and "shared tiny GPT is unchanged" in texts(at)
    assert models.state_fingerprint(models.load_tiny_gpt("cpu").model) == fp


@pytest.mark.slow
def test_a_stopped_run_keeps_its_curve():
    # A Stop click reruns the page while the loop runs; the rerun finds the LiveRun "running".
    at = open_page(PAGE, timeout=600)
    log = TrainLog(60, 600.0)
    log.history = [{"step": i, "seconds": 0.1 * i, "loss": 5.0, "lr": 3e-4, "tokens": i * 512} for i in (1, 2, 3, 4)]
    curve = [(0, 300.0, 40.0), (2, 250.0, 41.0)]
    at.session_state["domain-adaptation.live"] = live.LiveRun(
        "domain-adaptation", "running", log, {"curve": curve, "prompt": "Hi", "before_sample": " there"}, {"every": 2})
    at.button(key="domain-adaptation.stop").click().run()
    assert_no_exception(at)
    assert "Stopped by you after 4 of 60 steps" in texts(at)
    assert "last measured at step 2 (every 2 steps)" in texts(at)
    assert _metric(at, "Steps done").value == "4 of 60"
    assert _metric(at, "Modern English perplexity").value == "250.0"
    assert at.session_state["domain-adaptation.live"].stopped


@pytest.mark.slow
def test_section_two_opens_with_the_recorded_run_of_its_settings():
    """Idle at the defaults, section 2 shows the recorded continued-pretraining run (labelled as
    recorded); the Try-this's 3e-3 for 100 steps is recorded too; other settings show the button."""
    at = open_page(PAGE, timeout=600)
    lab = domain_recorded.Lab(models.load_tiny_gpt("cpu"), models.load_smollm2("cpu"))
    rec = domain_recorded.recorded(lab, domain_recorded.TRAINING, domain_recorded.training())
    assert rec is not None
    assert any("Recorded run" in m.value for m in at.info)
    last = rec.result["curve"][-1]
    assert _metric(at, "Modern English perplexity").value == f"{last[1]:.1f}"
    assert _metric(at, "Steps done").value == f"{rec.result['steps']} of {domain_adaptation.TRAIN_DEFAULTS['steps']}"
    assert rec.result["after_sample"] in texts(at)
    at.slider(key="domain-adaptation.steps").set_value(100)
    at.select_slider(key="domain-adaptation.lr").set_value(3e-3).run()
    hot = domain_recorded.recorded(lab, domain_recorded.TRAINING, domain_recorded.training(steps=100, lr=3e-3))
    assert _metric(at, "Shakespeare perplexity").value == f"{hot.result['curve'][-1][2]:.1f}"
    at.slider(key="domain-adaptation.steps").set_value(20).run()
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press **Continue pretraining**" in texts(at)
