"""The teacher's broadcast on EVERY class-run training page (issue 26 point 3), the pages found from
the source (a page whose Train and Stop are ``live.buttons`` and that trains through
``class_run_page.train_together``; the long generations that are class runs, e.g. the
constitutional-AI page's, have a plain button and no broadcast): the teacher switches
"Broadcast my run to the class" on and presses the page's Train; a learner's page shows "Your
teacher is training live" and follows that run; the teacher's Stop ends it, and the learner's page
shows the run as it ended, from its first step. Two AppTest sessions, a real worker process."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.helpers import TeacherTab, assert_no_exception, follow_until_rows, open_page, texts
from ui import class_run_page, class_runs

ROOT = Path(__file__).resolve().parents[2]


PAGES = {p.url: p for p in class_run_page.training_pages()}


def test_every_class_run_page_is_found_and_passes_its_broadcast_to_train():
    assert {"pretraining-live", "domain-adaptation", "prompt-tuning", "distillation", "ppo", "reward-hacking",
            "dpo"} <= set(PAGES)
    assert {url for url, p in PAGES.items() if p.first} == {"ppo", "reward-hacking", "dpo"}   # the one click first
    for url, page in PAGES.items():
        path = page.path
        src = (ROOT / path).read_text(encoding="utf-8")
        assert f'class_run_page.teacher_broadcast(\n    "{url}"' in src, f"{path}: no teacher broadcast"
        assert "broadcast=broadcast" in src, f"{path}: Train does not pass the teacher's broadcast switch"


@pytest.mark.slow
@pytest.mark.parametrize("url", sorted(PAGES))
def test_a_learner_follows_the_teachers_run_and_sees_it_end_when_the_teacher_stops_it(url, monkeypatch):
    from study import access
    from ui import live

    page = PAGES[url]
    path, start = page.path, page.train
    monkeypatch.setenv(access.ENV_KEY, "a-teacher-key")     # a key is set: only the unlocked session is the teacher
    class_runs.ensure_workers()
    teacher = open_page(path, timeout=300)
    teacher.session_state["_teacher.ok"] = True                     # unlocked (ui/teacher.py)
    teacher.session_state["_teacher.sid"] = "the-teacher"
    if page.first:                        # the one-click reward model: a class run the page follows to its end
        teacher.button(key=page.first).click().run(timeout=300)
    real_follow = class_run_page.follow
    # While the pages start and join the run, their follow loop returns at once (the teacher's page
    # is stood in for by TeacherTab's heartbeat): the run must still be on when the learner joins.
    monkeypatch.setattr(class_run_page, "follow", lambda key, *a, **k: live.state(key))
    teacher.run()
    teacher.toggle(key=f"{url}.broadcast").set_value(True).run()
    teacher.button(key=start).click().run(timeout=300)
    assert_no_exception(teacher)
    air = class_runs.broadcasts(url)
    assert air is not None and teacher.session_state[f"{url}.live"].result["job_id"] == air.id

    with TeacherTab(air.id, follower="session:the-teacher"):
        learner = open_page(path, timeout=300)
        learner.session_state["_teacher.sid"] = "a-learner"
        learner.run()
        assert "Your teacher is training live" in texts(learner)
        assert not [t for t in learner.toggle if t.key == f"{url}.broadcast"]     # the switch is the teacher's
        learner.button(key=f"{url}.follow_teacher").click().run(timeout=300)
        assert_no_exception(learner)
        lv = learner.session_state[f"{url}.live"]
        assert lv.running and lv.result["job_id"] == air.id and lv.result.get("watching")
        # A learner cannot stop the teacher's run: it is still on after the learner's page ran.
        assert class_runs.poll(air.id).job.active
        # The teacher's Stop ends the run for everybody (after its first steps: a run stopped before
        # its first step has nothing to show).
        follow_until_rows(air.id, "session:the-teacher", 2)
        teacher.button(key=f"{url}.stop").click().run(timeout=300)
        assert_no_exception(teacher)
    monkeypatch.setattr(class_run_page, "follow", real_follow)
    learner.run(timeout=600)                          # the learner's page follows the run to its end
    assert_no_exception(learner)
    end = class_runs.poll(air.id)
    assert not end.job.active and end.job.state in ("stopped", "done")
    lv = learner.session_state[f"{url}.live"]
    assert lv.status == "finished" and lv.run.history == end.rows      # the teacher's run, from its first step
    assert "Your teacher's run, followed live from its first step." in texts(learner)
    assert "Your teacher is training live" not in texts(learner)       # over: no banner
