"""AppTest: perplexity across domains and a short continued-pretraining run on a private copy."""
import pytest
from lessons import models
from lessons.pretraining.tiny_gpt import TrainLog
from ui import live
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w1_domain_adaptation.py"


def _metric(at, label):
    return next(m for m in at.metric if m.label == label)


@pytest.mark.slow
def test_domains_table_and_own_text():
    at = open_page(PAGE, timeout=600)
    df = at.dataframe[0].value
    assert set(df["domain"]) == {"Shakespeare (held-out plays)", "modern English (written for the app)"}
    tiny = df[df["model"].str.startswith("tiny")].set_index("domain")
    # Our Shakespeare model is more surprised by modern English than by held-out Shakespeare
    # (same model, same tokenizer: perplexities are comparable).
    assert tiny.loc["modern English (written for the app)", "perplexity"] > \
        1.5 * tiny.loc["Shakespeare (held-out plays)", "perplexity"]
    smol = df[df["model"].str.startswith("SmolLM2")].set_index("domain")
    assert smol.loc["modern English (written for the app)", "perplexity"] < \
        smol.loc["Shakespeare (held-out plays)", "perplexity"]
    at.text_area(key="domain-adaptation.own").input("<b>Quarterly revenue</b> rose 4% on higher net interest income. 🙂").run()
    assert_no_exception(at)
    assert "your text" in set(at.dataframe[0].value["domain"])


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
