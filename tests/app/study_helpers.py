"""AppTest checks of the study features that every lesson shares (questions, progress)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from study import db, questions
from tests.app.helpers import APP, assert_no_exception, texts


def open_app(page: str, params: dict | None = None, *, learner: str | None = None, teacher: bool = False,
             timeout: float = 240) -> AppTest:
    """The app opened on `page` as a fresh browser would: `params` in the URL, `learner` the id
    in its cookie (a reload = a fresh AppTest with the same learner), `teacher` a tab where the
    teacher key was typed (ui/teacher.py)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if learner:
        at.session_state["study.learner"] = learner
    if teacher:
        at.session_state["_teacher.ok"] = True
    at.run()
    at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert_no_exception(at)
    return at


def check_questions_and_progress(at: AppTest, url: str) -> None:
    """The lesson shows its questions; answering one right is stored as progress."""
    qs = questions.for_lesson(url)
    assert 3 <= len(qs) <= 5
    for q in qs:
        at.button(key=f"study.check.{url}.{q.id}")  # raises KeyError when missing
    q = next(q for q in qs if q.kind == "choice")
    at.radio(key=f"study.q.{url}.{q.id}").set_value(q.answer)      # options are chosen by id
    at.button(key=f"study.check.{url}.{q.id}").click().run()
    assert_no_exception(at)
    shown = texts(at)
    assert "Right." in shown and q.explain in shown
    assert f"1 of {len(qs)} solved" in shown
    learner = at.session_state["study.learner"]
    assert db.solved(db.engine(), learner).get(url) == {q.id}
