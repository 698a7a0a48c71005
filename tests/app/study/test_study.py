"""AppTest of the study and class features: shared links (good, bad and stale parameters),
presenter mode, Home progress with export and reset, the teacher view and class polls.
Uses the LoRA counter page (no model needed to render it)."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from study import db, polls, questions
from tests.app.study_helpers import open_app
from tests.app.helpers import assert_no_exception, texts

PAGE, URL = "pages/w2_lora.py", "lora"


def _open(params: dict | None = None, page: str = PAGE, teacher: bool = False) -> AppTest:
    return open_app(page, params, teacher=teacher)


@pytest.fixture(scope="module")
def mirrored():
    """The settings the page mirrors into its URL on a plain visit."""
    at = _open()
    written = dict(at.session_state["_share.written"])
    assert written, "the lesson's settings are mirrored into the URL"
    return written


def _int_setting(written: dict) -> str:
    from study import share

    if f"{URL}.d" in written:  # the counter's d x k matrix: any value from 1 to 65536 is valid
        return f"{URL}.d"
    return next(k for k, v in written.items() if isinstance(share.decode(v), int)
                and not isinstance(share.decode(v), bool) and "seed" not in k)


@pytest.mark.slow
def test_a_link_reproduces_the_settings(mirrored):
    key = _int_setting(mirrored)
    new = int(mirrored[key]) + 64
    at = _open({**mirrored, key: str(new)})
    assert at.session_state[key] == new
    assert at.session_state["_share.written"][key] == str(new)   # and the URL keeps it
    assert "From the link" not in texts(at)


def test_bad_and_stale_parameters_fall_back_with_a_note(mirrored):
    key = _int_setting(mirrored)
    at = _open({key: "not a number", "nosuch.setting": "3", "x y": "1"})
    shown = texts(at)
    assert "From the link" in shown and "nosuch" in shown
    assert at.session_state[key] == int(mirrored[key])                  # the default again


def test_out_of_range_value_falls_back_not_a_traceback(mirrored):
    key = _int_setting(mirrored)
    at = _open({key: "99999999"})
    assert "From the link" in texts(at)
    assert at.session_state[key] == int(mirrored[key])


@pytest.mark.slow
def test_a_stale_url_from_an_earlier_rerun_never_snaps_a_setting_back(mirrored):
    """The browser sends its current URL with every rerun. On a busy server a setting moved
    twice quickly reruns before the first run's new URL reached the address bar: the rerun
    carries the URL this session wrote one step earlier, which must not be applied as a link
    (CI saw the PPO step slider stuck at its default while a test stepped it)."""
    key = _int_setting(mirrored)
    at = _open()
    first = dict(at.session_state["_share.written"])
    at.session_state[key] = int(first[key]) + 64
    at.run()
    assert at.session_state["_share.written"][key] == str(int(first[key]) + 64)
    at.query_params.clear()
    for k, v in first.items():          # the rerun arrives with the address of one step ago
        at.query_params[k] = v
    at.session_state[key] = int(first[key]) + 128     # ... while the learner moved on again
    at.run()
    assert_no_exception(at)
    assert at.session_state[key] == int(first[key]) + 128
    assert at.session_state["_share.written"][key] == str(int(first[key]) + 128)
    assert "From the link" not in texts(at)


@pytest.mark.slow
def test_presenter_mode_folds_the_prose_and_hides_questions():
    at = _open({"present": "1"})
    assert any("Text and formulas" in e.label for e in at.expander)
    assert not [b for b in at.button if b.key and b.key.startswith("study.check.")]
    assert at.button(key="app.present_exit")
    at.button(key="app.present_exit").click().run()
    assert [b for b in at.button if b.key and b.key.startswith("study.check.")]


@pytest.mark.slow
def test_home_progress_export_name_and_reset():
    at = _open()
    q = next(q for q in questions.for_lesson(URL) if q.kind == "choice")
    at.radio(key=f"study.q.{URL}.{q.id}").set_value(q.answer)
    at.button(key=f"study.check.{URL}.{q.id}").click().run()
    at.switch_page("pages/home.py").run()
    assert_no_exception(at)
    week2 = [p for p in at.get("progress") if "Week 2" in str(p.proto.text)]
    assert week2 and "1 of" in str(week2[0].proto.text)
    at.text_input(key="study.name").input("Ada <b>").run()
    at.button(key="study.save_name").click().run()
    lid = at.session_state["study.learner"]
    assert db.display_name(db.engine(), lid) == "Ada <b>"
    exported = json.loads(db.export_learner(db.engine(), lid))
    assert [a["question"] for a in exported["attempts"]] == [q.id]
    at.checkbox(key="study.reset_sure").check().run()
    at.button(key="study.reset").click().run()
    assert "Deleted 1 answers" in texts(at)
    assert db.solved(db.engine(), lid) == {} and db.display_name(db.engine(), lid) is None


def test_teacher_view_aggregates_without_anonymous_ids():
    eng = db.engine()
    named, anon = db.new_learner_id(), db.new_learner_id()
    db.ensure_learner(eng, named, "Grace T.")
    q = questions.for_lesson("rag")[0]
    db.record_answer(eng, named, "rag", q.id, "x", False)
    db.record_answer(eng, anon, "rag", q.id, "x", False)
    at = _open(page="pages/teacher.py", teacher=True)
    frames = [df.value for df in at.dataframe]
    blob = "\n".join(f.to_csv() for f in frames)
    assert "Grace T." in blob and q.text[:30] in blob
    assert named not in blob and anon not in blob
    db.reset_learner(eng, named)
    db.reset_learner(eng, anon)


@pytest.mark.slow
def test_poll_teacher_opens_learner_answers():
    at = _open(teacher=True)
    q = next(q for q in questions.for_lesson(URL) if q.pollable)
    idx = [x for x in questions.for_lesson(URL) if x.pollable].index(q)
    at.selectbox(key=f"study.poll_pick.{URL}").set_value(idx).run()
    at.button(key=f"study.poll_open.{URL}").click().run()
    assert_no_exception(at)
    code = at.session_state["study.poll_codes"][URL]
    poll = polls.get_poll(db.engine(), code)
    assert poll.is_open and poll.truth == q.right.text
    assert sorted(poll.options) == sorted(o.text for o in q.options)   # shuffled once, stored with the poll
    assert code in texts(at)
    learner = _open({"code": code}, page="pages/poll.py")
    assert list(learner.radio(key=f"study.vote.{code}").options) == poll.options   # the projector's order
    learner.radio(key=f"study.vote.{code}").set_value(poll.options[0]).run()
    learner.button(key=f"study.send.{code}").click().run()
    assert "Answer recorded" in texts(learner)
    assert polls.tally(db.engine(), code)[poll.options[0]] == 1
    bad = _open({"code": "ZZZZZ"}, page="pages/poll.py")
    assert "No poll has the code" in texts(bad)


def test_a_poll_opens_without_its_truth_when_the_lesson_cannot_compute_it(monkeypatch):
    """Bad input: the lesson's function fails on this machine (e.g. a model missing). The poll
    opens anyway, and the teacher is told why no answer can be revealed."""
    from ui import study as study_ui

    def broken(q):
        raise OSError("model files missing")

    monkeypatch.setattr(study_ui, "truth", broken)
    at = _open(teacher=True)
    at.button(key=f"study.poll_open.{URL}").click().run()
    assert_no_exception(at)
    code = at.session_state["study.poll_codes"][URL]
    assert polls.get_poll(db.engine(), code).truth is None
    shown = texts(at)
    assert f"Join code: `{code}`" in shown or code in shown
    assert any("could not be computed here (OSError)" in w.value for w in at.warning)
    at.run()                                                    # said once, not on every rerun
    assert not any("could not be computed" in w.value for w in at.warning)
    polls.close_poll(db.engine(), code)
