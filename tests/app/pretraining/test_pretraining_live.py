"""AppTest: a short live pretraining run from scratch in a class-run worker (ui/class_runs.py),
the same run shown at once to a second session and trained again live step for step, and a
stopped run keeping its results (the worker's last sample and validation perplexity)."""

import pytest

from tests.app.helpers import TeacherTab, assert_no_exception, follow_as_this_session, main_figure_charts, open_page, texts

PAGE = "pages/w1_pretraining_live.py"
SMALL = {"pretraining-live.layers": 1, "pretraining-live.width": 32, "pretraining-live.steps": 40,
         "pretraining-live.every": 20, "pretraining-live.lr": 1e-2}


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _small(at):
    for key, value in SMALL.items():
        (at.slider(key=key) if key.endswith(".steps") else at.select_slider(key=key)).set_value(value)
    return at


def _without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.slow
def test_short_run_trains_in_a_worker_and_a_second_session_sees_it_at_once():
    import torch

    from lessons import models
    from lessons.pretraining import recorded_live
    from ui import jobs

    at = open_page(PAGE, timeout=300)
    assert "Press **Start pretraining**" in texts(at)
    _small(at).button(key="pretraining-live.start").click().run()
    assert_no_exception(at)
    lv = at.session_state["pretraining-live.live"]
    job, rows = lv.result["job"], lv.run.history
    assert lv.status == "finished" and lv.run.stopped.value == "steps" and job["stopped"] == "steps"
    assert [r["step"] for r in rows] == list(range(1, 41)) and _metric(at, "Steps done") == "40 of 40"
    # Samples at step 0 and every 20 steps, each streamed with its step's row and kept in the result.
    assert [s for s, _ in job["samples"]] == [0, 20, 40]
    assert [s for r in rows for s, _ in r["samples"]] == [0, 20, 40]
    assert list(at.dataframe[-1].value["step"]) == [0, 20, 40]
    # It learned: the last losses are well below the ln(4096) = 8.3 of random weights.
    losses = [r["loss"] for r in rows]
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5
    assert _metric(at, "Validation perplexity") == f"{job['val_ppl']:,.1f}" and 1 < job["val_ppl"] < 4096
    # The worker trained what the recorded run's recipe trains for these settings (the page's
    # claim "the same settings give the same curve and samples"), at the worker's thread count.
    s = dict(layers=1, width=32, steps=40, lr=1e-2, every=20, seed=0)
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        ref = recorded_live.pretrain(recorded_live.Lab(models.load_tiny_gpt("cpu")), s)
    finally:
        torch.set_num_threads(n)
    assert [r["loss"] for r in job["history"]] == ref["losses"] and job["samples"] == [list(x) for x in ref["samples"]]
    assert job["val_ppl"] == ref["val_ppl"]

    # The same settings in a second session: the finished class run at once, from its record ...
    two = open_page(PAGE, timeout=300)
    _small(two).button(key="pretraining-live.start").click().run()
    assert_no_exception(two)
    assert "These settings ran before" in texts(two)
    assert two.session_state["pretraining-live.live"].run.history == job["history"]
    assert _metric(two, "Validation perplexity") == _metric(at, "Validation perplexity")
    # ... and "Run it again live" trains it again in a worker: the same history, step for step
    two.button(key="pretraining-live.again").click().run()
    assert_no_exception(two)
    assert "These settings ran before" not in texts(two)
    again = two.session_state["pretraining-live.live"]
    assert _without_seconds(again.result["job"]["history"]) == _without_seconds(job["history"])


@pytest.mark.slow
def test_stop_ends_a_run_nobody_else_follows_and_keeps_what_it_learned():
    """The learner's Stop on a run only they follow: the run stops after its current step, and the
    page shows the stopped model's last sample and validation perplexity (from the worker)."""
    from lessons import models
    from lessons.pretraining import pretraining_live_job, recorded_live
    from ui import class_runs, jobs

    at = open_page(PAGE, timeout=300)
    s = dict(layers=1, width=32, steps=1000, lr=1e-2, every=50, seed=0)
    lab = recorded_live.Lab(models.load_tiny_gpt("cpu"))
    spec = pretraining_live_job.spec(s, 600, lab.fingerprints(s), jobs.budget().threads)
    job = follow_as_this_session(at, "pretraining-live", pretraining_live_job.KIND, spec, steps=1000, max_seconds=600,
                                settings=s, rows=3)
    at.button(key="pretraining-live.stop").click().run()
    assert_no_exception(at)
    lv = at.session_state["pretraining-live.live"]
    end = class_runs.poll(job.id).job
    assert end.state == "stopped" and lv.status == "finished" and lv.stopped
    done = len(lv.run.history)
    assert 3 <= done < 1000 and end.result["steps_done"] == done
    assert f"Stopped at step {done} of 1000" in texts(at) and _metric(at, "Steps done") == f"{done} of 1000"
    assert end.result["samples"][-1][0] == done                  # the stopped model's last sample
    assert _metric(at, "Validation perplexity") == f"{end.result['val_ppl']:,.1f}"
    assert "You left the run" not in texts(at)
    # Reset forgets the run: the page is back to its first state
    at.button(key="pretraining-live.reset").click().run()
    assert_no_exception(at)
    assert at.session_state["pretraining-live.live"].status == "idle"
    assert "Press **Start pretraining**" in texts(at) and not [m for m in at.metric if m.label == "Steps done"]


@pytest.mark.slow
def test_a_learner_follows_the_teachers_broadcast_run_and_stop_only_ends_the_watching():
    """The teacher's run (broadcast) in a worker; a learner's page offers to follow it, shows the
    same rows from its first step, and the learner's Stop ends only their watching."""
    from lessons import models
    from lessons.pretraining import pretraining_live_job, recorded_live
    from ui import class_runs, jobs

    class_runs.ensure_workers()
    s = dict(layers=1, width=32, steps=30, lr=1e-2, every=10, seed=7)
    lab = recorded_live.Lab(models.load_tiny_gpt("cpu"))
    spec = pretraining_live_job.spec(s, 600, lab.fingerprints(s), jobs.budget().threads)
    air = class_runs.request(pretraining_live_job.KIND, spec, "teacher-tab", shareable=True, max_seconds=600,
                             broadcast=True).job
    with TeacherTab(air.id):     # the teacher's page polls (and so heartbeats) while its run goes
        at = open_page(PAGE, timeout=300)
        assert "Your teacher is training live" in texts(at) and "1 layer(s) × 32 wide, 30 steps" in texts(at)
        at.button(key="pretraining-live.follow_teacher").click().run()
        assert_no_exception(at)
        lv = at.session_state["pretraining-live.live"]
        job = class_runs.poll(air.id)
        assert job.job.state == "done" and lv.run.history == job.rows and len(job.rows) == 30
        assert "Your teacher's run, followed live from its first step." in texts(at)
        assert _metric(at, "Validation perplexity") == f"{job.job.result['val_ppl']:,.1f}"
        assert "Your teacher is training live" not in texts(at)     # over: no banner
        # A Stop while watching: the learner stops watching; the teacher's run is not stopped by it
        lv.status, lv.result = "running", {"job_id": air.id, "rows": job.rows[:5], "watching": True}
        lv.run.history = lv.result["rows"]
        at.button(key="pretraining-live.stop").click().run()
        assert_no_exception(at)
        assert "You stopped watching: your teacher's run goes on" in texts(at)
        assert "Stopped at step" not in texts(at)
        assert "Your teacher is training live" not in texts(at)      # the teacher's run is over: no banner


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
