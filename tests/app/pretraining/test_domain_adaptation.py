"""AppTest: perplexity across domains and a short continued-pretraining run on a private copy."""
import pytest
from lessons import models
from lessons.pretraining import domain_adaptation
from lessons.pretraining import recorded as domain_recorded
from tests.app.helpers import assert_no_exception, follow_as_this_session, open_page, texts
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
    """The run trains in a class-run worker (ui/class_runs.py), as the recorded run's recipe trains
    these settings; a second session with the same settings sees it at once from its record."""
    import torch

    from ui import jobs

    at = open_page(PAGE, timeout=600)
    fp = models.state_fingerprint(models.load_tiny_gpt("cpu").model)
    at.slider(key="domain-adaptation.steps").set_value(20)
    at.select_slider(key="domain-adaptation.every").set_value(5)
    at.button(key="domain-adaptation.train").click().run()
    assert_no_exception(at)
    lv = at.session_state["domain-adaptation.live"]
    job = lv.result["job"]
    curve = job["curve"]
    assert lv.status == "finished" and lv.run.stopped.value == "steps" and lv.run.steps_done == 20
    assert [c[0] for c in curve] == [0, 5, 10, 15, 20]
    assert [c for r in lv.run.history for c in r["curve"]] == curve       # each point streamed with its step
    assert curve[-1][1] < curve[0][1]                       # modern perplexity fell
    assert _metric(at, "Steps done").value == "20 of 20"
    assert _metric(at, "Modern English perplexity").value == f"{curve[-1][1]:.1f}"
    assert job["fingerprint_unchanged"] and "shared tiny GPT is unchanged" in texts(at)
    assert job["after_sample"] in texts(at) and job["before_sample"] in texts(at)
    assert models.state_fingerprint(models.load_tiny_gpt("cpu").model) == fp
    # the worker trained what the recorded run's recipe trains for these settings, at its thread count
    s = domain_recorded.training(steps=20, every=5)
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        ref = domain_recorded.continue_pretraining(domain_recorded.Lab(models.load_tiny_gpt("cpu"), None), s)
    finally:
        torch.set_num_threads(n)
    assert job["curve"] == [list(c) for c in ref["curve"]] and job["after_sample"] == ref["after_sample"]

    two = open_page(PAGE, timeout=600)
    two.slider(key="domain-adaptation.steps").set_value(20)
    two.select_slider(key="domain-adaptation.every").set_value(5)
    two.button(key="domain-adaptation.train").click().run()
    assert_no_exception(two)
    assert "These settings ran before" in texts(two)
    assert _metric(two, "Modern English perplexity").value == _metric(at, "Modern English perplexity").value


@pytest.mark.slow
def test_stop_ends_a_run_nobody_else_follows_and_keeps_its_curve():
    """The learner's Stop on a run only they follow: it stops after its current step, and the page
    shows the stopped copy's curve (measured at its last step too) and its after-sample."""
    from lessons.pretraining import domain_adaptation_job
    from ui import class_runs, jobs

    at = open_page(PAGE, timeout=600)
    s = domain_recorded.training(steps=200, every=20)
    spec = domain_adaptation_job.spec(s, 600, domain_adaptation_job.fingerprints(models.load_tiny_gpt("cpu")),
                                      jobs.budget().threads)
    job = follow_as_this_session(at, "domain-adaptation", domain_adaptation_job.KIND, spec, steps=200, max_seconds=600,
                                settings=s, rows=3)
    at.button(key="domain-adaptation.stop").click().run()
    assert_no_exception(at)
    lv = at.session_state["domain-adaptation.live"]
    end = class_runs.poll(job.id).job
    done = len(lv.run.history)
    assert end.state == "stopped" and lv.stopped and 3 <= done < 200 and end.result["steps"] == done
    assert end.result["curve"][-1][0] == done                     # measured at the step it stopped at
    assert f"Stopped by you after {done} of 200 steps; the copy keeps what it learned." in texts(at)
    assert _metric(at, "Steps done").value == f"{done} of 200"
    assert _metric(at, "Modern English perplexity").value == f"{end.result['curve'][-1][1]:.1f}"
    assert end.result["after_sample"] in texts(at)


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
