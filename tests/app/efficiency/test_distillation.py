"""AppTest: the distillation page's temperature widget and live student training, on the
real tiny GPT; the shared teacher is never changed."""
import pytest
import re

from lessons.efficiency import distillation as kd
from lessons import models
from tests.app.helpers import assert_no_exception, open_page, texts

PAGE = "pages/w3_distillation.py"


def _metric(at, label):
    return next(m.value for m in at.metric if m.label.startswith(label))



def _train_small_students(at, steps: int) -> None:
    """Press Train with 1-layer, 32-wide students (fast) for ``steps`` steps."""
    at.slider(key="distillation.steps").set_value(steps)
    at.select_slider(key="distillation.layers").set_value(1)
    at.select_slider(key="distillation.width").set_value(32)
    at.button(key="distillation.train").click()
    at.run()

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
def test_training_two_students_leaves_the_teacher_unchanged():
    at = open_page(PAGE)
    from ui import loaders
    teacher = loaders.tiny_gpt("cpu")
    before = models.state_fingerprint(teacher.model)
    at.slider(key="distillation.seconds").set_value(120)
    at.slider(key="distillation.alpha").set_value(1.0)
    _train_small_students(at, steps=10)
    assert_no_exception(at)
    assert models.state_fingerprint(teacher.model) == before
    table = at.dataframe[0].value
    assert list(table["model"]) == ["teacher (tiny GPT)", "student, hard labels", "student, distilled"]
    assert table["parameters"].iloc[1] == table["parameters"].iloc[2] < table["parameters"].iloc[0]
    student = kd.make_student(teacher.model.config, 1, 32, 2)
    assert table["parameters"].iloc[1] == kd.n_params(student)
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    soft, hard = map(float, re.search(r"\(([\d.]+) distilled vs ([\d.]+) hard labels\)", result).groups())
    assert soft == round(table["validation perplexity"].iloc[2], 1) and hard == round(table["validation perplexity"].iloc[1], 1)
    assert ("**distilled**" in result) == (soft < hard)
    runs = at.session_state["distillation.live"].result
    assert all(r.model is not teacher.model for r in runs.values())
    # moving a setting marks the result as stale instead of silently mixing settings
    at.slider(key="distillation.alpha").set_value(0.5)
    at.run()
    assert "trained with other settings" in texts(at)


@pytest.mark.slow
def test_stop_keeps_both_partly_trained_students(monkeypatch):
    """Stop (a rerun request seen by runtime.stop_requested) ends both students after the same step;
    the page keeps them, compares them and says the run was stopped and where."""
    from ui import runtime
    asked = {"n": 0}

    def stop_after_a_few_steps() -> bool:      # the loop asks twice per step (before it, before the update)
        asked["n"] += 1
        return asked["n"] > 6

    monkeypatch.setattr(runtime, "stop_requested", stop_after_a_few_steps)
    at = open_page(PAGE)
    _train_small_students(at, steps=40)
    assert_no_exception(at)
    assert at.session_state["distillation.live"].running   # a Stop click reruns the page: that run finishes it
    at.run()
    assert_no_exception(at)
    assert at.session_state["distillation.live"].stopped
    runs = at.session_state["distillation.live"].result
    assert runs["hard labels"].steps == runs["distilled"].steps == 3
    assert runs["distilled"].val_ppl[-1][0] == 3            # the step it stopped on was evaluated
    assert "stopped by you, after 3 of 40 steps" in texts(at)
    table = at.dataframe[0].value
    assert list(table["steps"])[1:] == ["3 (stopped by you)"] * 2
    # a Stop before the students were even made: nothing to compare, and the page says so
    from ui import live, runtime
    at.session_state["distillation.live"] = live.LiveRun("distillation", "running", None, {},
                                                         {"settings": None})
    at.button(key="distillation.stop").click().run()
    assert_no_exception(at)
    assert "stopped before the students were made" in texts(at) and not at.dataframe


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
