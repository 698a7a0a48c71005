"""AppTest of the quiz features of issue 23: options shuffled per learner (stable across a
reload), answers stored by option id, a wrong option's feedback before the explanation, a
refused question file that breaks only its own lesson, the poll page that remembers the
answer sent, and Home's 'review what you missed'. Uses the LoRA counter page (no model)."""
from __future__ import annotations

import shutil
from datetime import timedelta

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from study import db, polls, questions, review
from tests.app.study_helpers import open_app
from tests.app.helpers import assert_no_exception, texts
from ui import study as study_ui

PAGE, URL = "pages/w2_lora.py", "lora"


def _open(page: str = PAGE, learner: str | None = None, params: dict | None = None,
          teacher: bool = False) -> AppTest:
    return open_app(page, params, learner=learner, teacher=teacher)


def _elements(node):
    """The page's elements in the order they are drawn."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for child in children.values():
        yield from _elements(child)


def _choice(url: str = URL) -> questions.Question:
    return next(q for q in questions.for_lesson(url) if q.kind == "choice")


def test_options_are_shuffled_per_learner_and_stable_across_a_reload():
    q = _choice()
    texts_of = {o.id: o.text for o in q.options}
    orders = {}
    for lid in (db.new_learner_id() for _ in range(6)):
        first = _open(learner=lid).radio(key=f"study.q.{URL}.{q.id}")
        assert list(first.options) == [texts_of[i] for i in study_ui.option_order(q, lid)]
        again = _open(learner=lid).radio(key=f"study.q.{URL}.{q.id}")           # a reload
        assert list(again.options) == list(first.options)
        orders[lid] = tuple(first.options)
    assert len(set(orders.values())) > 1, "six learners, one order: not shuffled"


def test_a_wrong_option_shows_its_feedback_then_the_explanation_and_is_stored_by_id():
    q = _choice()
    wrong = next(o for o in q.options if o.id != q.answer)
    lid = db.new_learner_id()
    at = _open(learner=lid)
    at.radio(key=f"study.q.{URL}.{q.id}").set_value(wrong.id)
    at.button(key=f"study.check.{URL}.{q.id}").click().run()
    assert_no_exception(at)
    shown = texts(at).replace("\\", "")          # markdown escapes off
    assert "Not quite." in shown and wrong.text in shown and q.right.text in shown
    in_order = [str(getattr(e, "value", "")) for e in _elements(at.main)]
    fb = next(i for i, v in enumerate(in_order) if v.replace("\\", "") == wrong.feedback)
    assert in_order[fb + 1] == q.explain                                   # feedback, then why
    assert [w.value for w in at.warning if w.icon == "🤔"], "the option's feedback is a warning of its own"
    assert [a["answer"] for a in db.attempts(db.engine(), lid)] == [wrong.id]   # by identity, not position
    at.radio(key=f"study.q.{URL}.{q.id}").set_value(q.answer)
    at.button(key=f"study.check.{URL}.{q.id}").click().run()
    assert "Right." in texts(at) and not [w for w in at.warning if w.icon == "🤔"]
    assert [a["answer"] for a in db.attempts(db.engine(), lid)] == [wrong.id, q.answer]
    db.reset_learner(db.engine(), lid)


def test_a_refused_question_file_breaks_only_its_own_lesson(tmp_path, monkeypatch):
    for f in questions.QUESTIONS_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    broken = (tmp_path / "lora.toml").read_text(encoding="utf-8")
    q = _choice()
    (tmp_path / "lora.toml").write_text(broken.replace(f'answer = "{q.answer}"', 'answer = "no-such-option"', 1),
                                        encoding="utf-8")
    bank = questions.load_bank(tmp_path)
    monkeypatch.setattr(questions, "load_bank", lambda folder=None: bank)
    at = _open()
    shown = texts(at).replace("\\", "")
    assert "lora.toml" in shown and "answer 'no-such-option' names no option" in shown
    assert not [b for b in at.button if b.key and b.key.startswith("study.check.")]
    other = _open("pages/w1_scaling_laws.py")
    keys = {b.key for b in other.button if b.key}
    assert {f"study.check.scaling-laws.{x.id}" for x in questions.for_lesson("scaling-laws")} <= keys
    assert "refused" not in texts(other)


def test_the_poll_page_shows_the_answer_already_sent_after_a_reload():
    q = next(q for q in questions.for_lesson(URL) if q.pollable)
    eng = db.engine()
    poll = polls.open_poll(eng, URL, q.text, [o.text for o in questions.shuffled(q.options, "poll", "t")],
                        truth=q.right.text)
    lid = db.new_learner_id()
    at = _open("pages/poll.py", learner=lid, params={"code": poll.code})
    assert at.radio(key=f"study.vote.{poll.code}").value is None and "Answer recorded" not in texts(at)
    at.radio(key=f"study.vote.{poll.code}").set_value(poll.options[2]).run()
    at.button(key=f"study.send.{poll.code}").click().run()
    assert polls.vote_of(eng, poll.code, lid) == poll.options[2]
    again = _open("pages/poll.py", learner=lid, params={"code": poll.code})      # a reload
    assert again.radio(key=f"study.vote.{poll.code}").value == poll.options[2]
    assert f"Answer recorded: {poll.options[2]}" in texts(again).replace("\\", "")
    stranger = _open("pages/poll.py", learner=db.new_learner_id(), params={"code": poll.code})
    assert "Answer recorded" not in texts(stranger)
    polls.close_poll(eng, poll.code)
    closed = _open("pages/poll.py", learner=lid, params={"code": poll.code})
    assert "closed" in texts(closed) and poll.options[2] in texts(closed).replace("\\", "")
    db.reset_learner(eng, lid)


def test_home_lists_missed_questions_when_they_come_back():
    q = _choice()
    wrong = next(o for o in q.options if o.id != q.answer)
    lid = db.new_learner_id()
    at = _open(learner=lid)
    at.radio(key=f"study.q.{URL}.{q.id}").set_value(wrong.id)
    at.button(key=f"study.check.{URL}.{q.id}").click().run()
    eng = db.engine()
    card, = review.cards(eng, lid)
    assert (card.lesson, card.question, card.box) == (URL, q.id, 1)
    home = _open("pages/home.py", learner=lid)
    assert "1 more comes back later" in texts(home)
    def review_links(at):
        return [p.proto for p in at.get("page_link") if q.text[:30] in p.proto.label.replace("\\", "")]

    assert not review_links(home)
    with eng.begin() as c:   # ... ten minutes later
        c.execute(db.reviews.update().where(db.reviews.c.learner_id == lid)
                  .values(due_at=review.now() - timedelta(seconds=1)))
    home = _open("pages/home.py", learner=lid)
    links = review_links(home)
    assert len(links) == 1 and "lora" in links[0].page and "1 question due" in texts(home)
    lesson = _open(learner=lid)
    assert "due for review" in texts(lesson)
    lesson.radio(key=f"study.q.{URL}.{q.id}").set_value(q.answer)
    lesson.button(key=f"study.check.{URL}.{q.id}").click().run()
    card, = review.cards(eng, lid)
    assert (card.box, card.streak) == (2, 1) and not card.is_due(review.now())   # once right; back in a day
    db.reset_learner(eng, lid)
    with eng.connect() as c:   # the learner's own data goes with a reset
        assert c.execute(select(db.reviews).where(db.reviews.c.learner_id == lid)).first() is None


def test_teacher_view_shows_item_statistics_and_flags_negative_discrimination(tmp_path, monkeypatch):
    """Six learners on the LoRA questions: the strong ones miss one question the weak ones get
    right; the teacher view computes what study/stats.py computes and flags that question.
    A class database of its own: other tests in this process answer LoRA questions too."""
    from study import stats

    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{tmp_path}/class.sqlite")

    qs = [q for q in questions.for_lesson(URL) if q.kind == "choice"]
    assert len(qs) >= 2
    eng = db.engine()
    ids = [db.new_learner_id() for _ in range(6)]
    odd, rest = qs[0], qs[1:]
    wrong = next(o for o in odd.options if o.id != odd.answer)
    for i, lid in enumerate(ids):
        strong = i >= 3
        for q in rest:
            ok = strong or (q is rest[0] and i == 2)
            db.record_answer(eng, lid, URL, q.id, q.answer if ok else next(o.id for o in q.options
                                                                            if o.id != q.answer), ok)
        db.record_answer(eng, lid, URL, odd.id, wrong.id if strong else odd.answer, not strong)
    at = _open("pages/teacher.py", teacher=True)
    frame = next(df.value for df in at.dataframe if "facility" in df.value.columns)
    row = frame[frame["question"] == odd.text].iloc[0]
    mine = [a for a in stats.first_tries(eng) if a.learner in ids]
    want = {s.question: s for s in stats.item_stats(mine, bank={URL: questions.for_lesson(URL)})}[odd.id]
    assert row["tried"] == 6 and row["facility"] == 0.5 == want.facility
    assert row["discrimination"] == want.discrimination < 0 and "negative" in row["review"]
    assert f"{wrong.text[:60]}: 3" in row["wrong options chosen (first try)"]
    assert frame.iloc[0]["question"] == odd.text or frame.iloc[0]["review"]    # flagged items first
    assert "negative discrimination" in texts(at)
    blob = frame.to_csv()
    assert not any(lid in blob for lid in ids)
    for lid in ids:
        db.reset_learner(eng, lid)
