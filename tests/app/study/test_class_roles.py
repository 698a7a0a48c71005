"""Issue 24 in the app: teacher controls only for a teacher (key or the server's own machine),
a wrong key is rate-limited per session AND address, one vote per learner even when cookies
are cleared, unique display names with clear messages, "forget this browser", /home.

A learner's browser on another machine is simulated by patching ui.teacher._peer (the TCP
peer and X-Forwarded-For that Streamlit would report); AppTest itself has no client."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from study import access, db, polls, questions
from tests.app.study_helpers import open_app
from tests.app.helpers import APP, assert_no_exception, texts
from ui import teacher as teacher_ui

PAGE, URL = "pages/w2_lora.py", "lora"
KEY = "teach-me-42-x"


def _open(params: dict | None = None, page: str = PAGE) -> AppTest:
    return open_app(page, params)


def _from(monkeypatch, addr: str, xff: str | None = None):
    monkeypatch.setattr(teacher_ui, "_peer", lambda: (addr, xff))


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(access, "KEY_TRIES", access.RateLimiter(access.TRIES_PER_MINUTE, 60.0))
    monkeypatch.setattr(access, "VOTES", access.RateLimiter(access.VOTES_PER_WINDOW, access.VOTE_WINDOW_S))
    monkeypatch.delenv(access.ENV_KEY, raising=False)


def _poll_buttons(at) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("study.poll_")]


def test_learner_elsewhere_without_a_key_sees_no_teacher_controls(monkeypatch):
    _from(monkeypatch, "203.0.113.9")
    lesson = _open()
    assert _poll_buttons(lesson) == [] and "Ask the class" not in texts(lesson)
    t = _open(page="pages/teacher.py")
    assert not t.dataframe and "Class progress" not in texts(t)
    assert access.ENV_KEY in texts(t) and "secrets.toml" in texts(t)


def test_server_machine_without_a_key_is_the_teacher(monkeypatch):
    _from(monkeypatch, "127.0.0.1", "127.0.0.1")           # the teacher's browser through local HAProxy
    t = _open(page="pages/teacher.py")
    assert "Class progress" in texts(t) and access.ENV_KEY in texts(t)
    assert f"study.poll_open.{URL}" in _poll_buttons(_open())


def test_forged_forwarded_for_from_a_learner_is_not_localhost(monkeypatch):
    _from(monkeypatch, "203.0.113.9", "127.0.0.1")
    assert _poll_buttons(_open()) == []


def _try(at, key: str) -> str:
    at.text_input(key=teacher_ui.KEY_WIDGET).input(key)
    at.get("form_submit_button")  # noqa: B018 - AppTest finds the submit button by label below
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert_no_exception(at)
    return texts(at)


def test_teacher_key_unlocks_this_session_only_and_is_rate_limited(monkeypatch):
    monkeypatch.setenv(access.ENV_KEY, KEY)
    _from(monkeypatch, "198.51.100.20")
    t = _open(page="pages/teacher.py")
    assert "Class progress" not in texts(t) and not t.dataframe
    for _ in range(access.TRIES_PER_MINUTE):
        assert "not the teacher key" in _try(t, "guess")
    # the right key, but too many tries this minute: refused with the wait
    shown = _try(t, KEY)
    assert "Too many tries" in shown and "Class progress" not in shown
    # clearing cookies (a new session) from the same address does not reset the limit
    t2 = _open(page="pages/teacher.py")
    assert "Too many tries" in _try(t2, KEY)
    # a learner elsewhere is not locked out of anything: lessons and polls work
    _from(monkeypatch, "198.51.100.21")
    assert _open() is not None
    # the teacher, from another address, with the right key
    _from(monkeypatch, "198.51.100.22")
    t3 = _open(page="pages/teacher.py")
    shown = _try(t3, KEY)
    assert "Class progress" in shown
    assert t3.session_state[teacher_ui.KEY_WIDGET] == ""                 # the key is not kept in the box
    # the unlock is this browser session's only: another session at the same address is a learner
    assert "Class progress" not in texts(_open(page="pages/teacher.py"))
    assert t3.session_state["_teacher.ok"] is True
    # an unlocked session sees the poll panel on a lesson (AppTest draws app.py's study section
    # only on the first page switch of a session, so the unlock flag is set on a lesson's session)
    lesson = _open()
    assert _poll_buttons(lesson) == []
    lesson.session_state["_teacher.ok"] = True
    lesson.run()
    assert f"study.poll_open.{URL}" in _poll_buttons(lesson)


def test_five_cookie_clears_and_votes_count_one(monkeypatch):
    _from(monkeypatch, "127.0.0.1")
    teacher = _open()
    teacher.button(key=f"study.poll_open.{URL}").click().run()
    code = teacher.session_state["study.poll_codes"][URL]
    poll = polls.get_poll(db.engine(), code)
    _from(monkeypatch, "198.51.100.30", None)
    monkeypatch.setattr(teacher_ui, "_peer", lambda: ("127.0.0.1", "198.51.100.30"))   # behind HAProxy
    ids = set()
    for i in range(6):          # a first visit, then 5 cookie clears: a fresh session and learner id each
        at = _open({"code": code}, page="pages/poll.py")
        ids.add(at.session_state["study.learner"])
        at.radio(key=f"study.vote.{code}").set_value(poll.options[i % 2]).run()
        at.button(key=f"study.send.{code}").click().run()
        assert "Answer recorded" in texts(at)
    assert len(ids) == 6
    assert sum(polls.tally(db.engine(), code).values()) == 1 and polls.voters(db.engine(), code) == 1
    # another laptop in the room counts
    monkeypatch.setattr(teacher_ui, "_peer", lambda: ("127.0.0.1", "198.51.100.31"))
    other = _open({"code": code}, page="pages/poll.py")
    other.radio(key=f"study.vote.{code}").set_value(poll.options[0]).run()
    other.button(key=f"study.send.{code}").click().run()
    assert polls.voters(db.engine(), code) == 2
    # the projector (teacher panel) shows distinct learners
    _from(monkeypatch, "127.0.0.1")
    teacher.run()
    assert any(m.label == "learners who answered" and str(m.value) == "2" for m in teacher.metric)


def test_a_flood_of_votes_from_one_client_is_refused_politely(monkeypatch):
    eng = db.engine()
    poll = polls.open_poll(eng, URL, "Q?", ["a", "b"])
    monkeypatch.setattr(teacher_ui, "_peer", lambda: ("198.51.100.40", None))
    at = _open({"code": poll.code}, page="pages/poll.py")
    at.radio(key=f"study.vote.{poll.code}").set_value("a").run()
    for _ in range(access.VOTES_PER_WINDOW + 2):
        at.button(key=f"study.send.{poll.code}").click().run()
    assert_no_exception(at)
    assert "Too many answers" in texts(at)
    assert polls.voters(eng, poll.code) == 1


def test_missing_and_closed_poll_codes(monkeypatch):
    eng = db.engine()
    assert "No poll has the code" in texts(_open({"code": "QQQQQ"}, page="pages/poll.py"))
    poll = polls.open_poll(eng, URL, "Closed?", ["a", "b"])
    polls.close_poll(eng, poll.code)
    assert "closed" in texts(_open({"code": poll.code}, page="pages/poll.py"))


def _name(at, raw: str) -> str:
    at.text_input(key="study.name").input(raw)
    at.button(key="study.save_name").click().run()
    assert_no_exception(at)
    return texts(at)


def test_display_names_unique_and_hostile_names_get_messages():
    import secrets as _s

    bea = f"Bea {_s.token_hex(3)}"
    a = _open(page="pages/home.py")
    assert "Saved as" in _name(a, bea)
    b = _open(page="pages/home.py")
    shown = _name(b, "  " + bea.upper().replace(" ", "   ") + " ")
    assert "already taken" in shown
    assert db.display_name(db.engine(), b.session_state["study.learner"]) is None
    assert "visible character" in _name(b, "      ")
    # (a longer name cannot be typed: the field holds 40; db.check_name refuses 41+ with a message,
    # tests/unit/study/test_class_access.py)
    for ok in (f"🦊 {_s.token_hex(2)}", f"مريم {_s.token_hex(2)}"):
        assert "Saved as" in _name(b, ok)
        assert db.display_name(db.engine(), b.session_state["study.learner"]) == ok
    # the field holds at most 40 characters in the browser
    assert b.text_input(key="study.name").max_chars == db.NAME_MAX


def test_forget_this_browser_keeps_progress_under_a_new_id():
    at = _open()
    q = next(q for q in questions.for_lesson(URL) if q.kind == "choice")
    at.radio(key=f"study.q.{URL}.{q.id}").set_value(q.right.id if hasattr(q, "right") else q.answer)
    at.button(key=f"study.check.{URL}.{q.id}").click().run()
    old = at.session_state["study.learner"]
    at.switch_page("pages/home.py").run()
    export = next(d for d in at.get("download_button") if d.proto.id and "study.export" in d.proto.id)
    assert old not in json.dumps(str(export.proto))
    at.button(key="study.forget").click().run()
    assert_no_exception(at)
    new = at.session_state["study.learner"]
    assert new != old and "new id" in texts(at)
    assert db.solved(db.engine(), new).get(URL) == {q.id}
    assert db.solved(db.engine(), old) == {} and db.is_retired(db.engine(), old)


def test_home_alias_opens_home():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/home.py").run()
    assert_no_exception(at)
    assert "Course map" in texts(at)
