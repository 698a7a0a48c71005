"""AppTest: the distillation page's temperature widget and its two students trained live in a
class-run worker (ui/class_runs.py), on the real tiny GPT; the shared teacher is never changed."""
import pytest
import re

from lessons.efficiency import distillation as kd
from lessons import models
from tests.app.helpers import assert_no_exception, follow_as_this_session, open_page, texts

PAGE = "pages/w3_distillation.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))



def _train_small_students(at, steps: int) -> None:
    """Press Train with 1-layer, 32-wide students (fast) for ``steps`` steps."""
    at.slider(key="distillation.steps").set_value(steps)
    at.select_slider(key="distillation.layers").set_value(1)
    at.select_slider(key="distillation.width").set_value(32)
    at.button(key="distillation.train").click()
    at.run(timeout=600)

def test_temperature_widget_matches_the_lesson():
    at = open_page(PAGE)
    at.text_input(key="distillation.prompt").set_value("KING LEAR:\nWhat")
    at.slider(key="distillation.T").set_value(5.0)
    at.run()
    assert_no_exception(at)
    from ui import loaders
    teacher = loaders.tiny_gpt("cpu")  # the same process-wide cached object the page used
    sl = kd.soft_labels(teacher.model, teacher.tokenizer, "KING LEAR:\nWhat", 5.0)
    assert _metric(at, "Entropy at T = 1") == f"{sl.entropy1:.2f} bits"
    assert _metric(at, "Entropy at T = 5") == f"{sl.entropyT:.2f} bits"
    assert sl.entropyT > sl.entropy1
    at.text_input(key="distillation.prompt").set_value("")
    at.run()
    assert_no_exception(at)
    assert "Type some context" in texts(at)


@pytest.mark.slow
def test_two_students_train_in_a_worker_as_the_recipe_does_and_a_second_session_sees_them_at_once():
    """Train: both students train in a class-run worker; the page's table and result sentence are
    the worker's figures, which are the recorded recipe's for these settings, float for float (at
    the worker's thread count); the shared teacher is never changed; a second session with the same
    settings gets the finished run from its record at once; a moved setting marks the result stale."""
    import torch

    from lessons.efficiency import recorded as kd_recorded
    from ui import jobs, loaders

    at = open_page(PAGE)
    teacher = loaders.tiny_gpt("cpu")
    before = models.state_fingerprint(teacher.model)
    at.slider(key="distillation.alpha").set_value(1.0)
    _train_small_students(at, steps=10)
    assert_no_exception(at)
    lv = at.session_state["distillation.live"]
    job = lv.result["job"]
    assert lv.status == "finished" and job["stopped"] == "steps" and [r["step"] for r in lv.run.history] == list(range(1, 11))
    assert models.state_fingerprint(teacher.model) == before
    table = at.dataframe[0].value
    assert list(table["model"]) == ["teacher (tiny GPT)", "student, hard labels", "student, distilled"]
    assert table["parameters"].iloc[1] == table["parameters"].iloc[2] < table["parameters"].iloc[0]
    assert table["parameters"].iloc[1] == kd.n_params(kd.make_student(teacher.model.config, 1, 32, 2))
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    soft, hard = map(float, re.search(r"\(([\d.]+) distilled vs ([\d.]+) hard labels\)", result).groups())
    assert soft == round(job["students"]["distilled"]["val_ppl"][-1][1], 1) == table["validation perplexity"].iloc[2]
    assert hard == round(job["students"]["hard labels"]["val_ppl"][-1][1], 1) == table["validation perplexity"].iloc[1]
    assert ("**distilled**" in result) == (soft < hard)
    # The worker trained what the recorded run's recipe trains for these settings.
    n = torch.get_num_threads()
    torch.set_num_threads(jobs.budget().threads)
    try:
        ref = kd_recorded.train_students(kd_recorded.Lab(models.load_tiny_gpt("cpu")),
                                         kd_recorded.settings(alpha=1.0, steps=10, layers=1, width=32))
    finally:
        torch.set_num_threads(n)
    for name, student in ref["students"].items():
        assert {k: job["students"][name][k] for k in student} == student, name
    assert [r["ce_distilled"] for r in job["history"]] == ref["students"]["distilled"]["ce"]

    # The same settings in a second session: the finished class run at once, from its record
    two = open_page(PAGE)
    two.slider(key="distillation.alpha").set_value(1.0)
    _train_small_students(two, steps=10)
    assert_no_exception(two)
    assert "These settings ran before" in texts(two)
    assert two.dataframe[0].value["validation perplexity"].tolist()[1:] == table["validation perplexity"].tolist()[1:]
    # moving a setting marks the result as stale instead of silently mixing settings
    at.slider(key="distillation.alpha").set_value(0.5)
    at.run()
    assert "trained with other settings" in texts(at)


@pytest.mark.slow
def test_stop_ends_a_run_nobody_else_follows_and_compares_both_students_where_they_stopped():
    """The learner's Stop on a class run only they follow: both students stop after the same step,
    the worker evaluates them there, and the page compares them and says where the run stopped."""
    from lessons.efficiency import distillation_job, recorded as kd_recorded
    from ui import class_runs, jobs

    at = open_page(PAGE)
    s = kd_recorded.settings(steps=400, layers=1, width=32)
    spec = distillation_job.spec(s, 600, distillation_job.lab().fingerprints(s), jobs.budget().threads)
    job = follow_as_this_session(at, "distillation", distillation_job.KIND, spec, steps=400, max_seconds=600,
                                 settings={k: s[k] for k in kd.PAGE_DEFAULTS}, rows=3)
    at.button(key="distillation.stop").click().run(timeout=600)
    assert_no_exception(at)
    end = class_runs.poll(job.id).job
    lv = at.session_state["distillation.live"]
    done = len(lv.run.history)
    assert end.state == "stopped" and lv.stopped and 3 <= done < 400
    students = end.result["students"]
    assert students["hard labels"]["steps"] == students["distilled"]["steps"] == done
    assert students["distilled"]["val_ppl"][-1][0] == done            # the step it stopped on was evaluated
    assert f"stopped by you, after {done} of 400 steps" in texts(at)
    table = at.dataframe[0].value
    assert list(table["steps"])[1:] == [f"{done} (stopped by you)"] * 2
    assert "You left the run" not in texts(at)


def test_opens_with_the_recorded_default_run():
    """At the defaults the page draws the recorded run of both students at once (labelled as
    recorded, lessons/efficiency/recorded.py) and its 'what to expect' caption quotes that record;
    another setting shows no record, only the button."""
    import json

    from lessons.efficiency import recorded as kd_recorded

    at = open_page(PAGE)
    assert_no_exception(at)
    rec = kd_recorded.recorded(kd_recorded.Lab(models.load_tiny_gpt("cpu")), kd_recorded.KIND, kd_recorded.settings())
    assert rec is not None
    info = next(m.value for m in at.info if "Recorded run" in m.value)
    soft = rec.result["students"]["distilled"]["val_ppl"][-1][1]
    assert f"{soft:.1f}" in info and f"after {kd.PAGE_DEFAULTS['steps']} steps" in info
    ppl = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Validation perplexity" in c.proto.spec)
    assert {t["name"]: t["y"][-1] for t in ppl["data"]} == {
        n: s["val_ppl"][-1][1] for n, s in rec.result["students"].items()}
    v50 = kd_recorded.val_at(rec, 50)
    assert f"perplexity was {v50['distilled']:.0f} distilled vs {v50['hard labels']:.0f} hard labels at step 50" in texts(at)
    at.slider(key="distillation.alpha").set_value(0.5).run()
    assert not any("Recorded run" in m.value for m in at.info)
    assert "Press *Train both students*" in texts(at)
