"""The progress / poll database (study/db.py) on SQLite and on a throwaway PostgreSQL."""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from study import db, polls
from tests.pg import pg_bin, throwaway_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def eng(request, tmp_path_factory):
    if request.param == "sqlite":
        e = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'c.sqlite'}")
        yield e
        e.dispose()
        return
    if pg_bin() is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql).")
    with throwaway_postgres() as url:
        e = db.make_engine(url)
        yield e
        e.dispose()


def _me(name=None):
    return db.new_learner_id()


def test_sqlite_file_is_in_wal_mode(tmp_path):
    e = db.make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with e.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    e.dispose()


def test_default_url_is_a_sqlite_file_in_the_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setenv("GENAI_LAB_CACHE", str(tmp_path))
    assert db.default_url() == f"sqlite:///{tmp_path / 'classroom.sqlite'}"
    monkeypatch.setenv(db.ENV_URL, "postgresql+psycopg://u:secret@h/db")
    assert db.default_url() == "postgresql+psycopg://u:secret@h/db"


@pytest.mark.slow
def test_progress_round_trip_export_and_reset(eng):
    me, other = _me(), _me()
    db.ensure_learner(eng, me, "Ada  <b>L</b>\n")
    assert db.display_name(eng, me) == "Ada <b>L</b>"  # one line; shown as text, never HTML
    db.record_answer(eng, me, "sampling", "q1", "2", False)
    db.record_answer(eng, me, "sampling", "q1", "1", True)
    db.record_answer(eng, me, "lora", "q2", "4608", True)
    db.record_answer(eng, other, "lora", "q2", "10", False)
    assert db.solved(eng, me) == {"sampling": {"q1"}, "lora": {"q2"}}
    assert db.solved(eng, other) == {}
    exported = json.loads(db.export_learner(eng, me))
    assert exported["display_name"] == "Ada <b>L</b>"
    assert [a["answer"] for a in exported["attempts"]] == ["2", "1", "4608"]
    assert db.reset_learner(eng, me) == 3
    assert db.solved(eng, me) == {} and db.attempts(eng, me) == []
    assert db.display_name(eng, me) is None
    assert db.attempts(eng, other)  # another learner's progress is untouched
    db.reset_learner(eng, other)


@pytest.mark.slow
def test_teacher_aggregates_show_only_chosen_names(eng):
    named, anon1, anon2 = _me(), _me(), _me()
    db.ensure_learner(eng, named, "Grace")
    for who, ok_first in ((named, False), (anon1, False), (anon2, True)):
        db.record_answer(eng, who, "rouge-bleu", "hard", "x", ok_first)
        db.record_answer(eng, who, "rouge-bleu", "hard", "y", True)
        db.record_answer(eng, who, "rouge-bleu", "easy", "y", True)
    stats = {(s["lesson"], s["question"]): s for s in db.question_stats(eng)}
    assert stats[("rouge-bleu", "hard")]["learners"] == 3
    assert stats[("rouge-bleu", "hard")]["missed_first_try"] == 2  # first tries only
    assert stats[("rouge-bleu", "easy")]["missed_first_try"] == 0
    assert db.question_stats(eng)[0]["question"] == "hard"        # most missed first
    prog = db.class_progress(eng)
    names = [p["name"] for p in prog]
    assert "Grace" in names and prog[names.index("Grace")]["lessons"] == {"rouge-bleu": 2}
    assert any(p.get("anonymous") == 2 for p in prog)
    assert not any(anon1 in json.dumps(p) or anon2 in json.dumps(p) for p in prog)
    for who in (named, anon1, anon2):
        db.reset_learner(eng, who)


def test_poll_vote_revote_close(eng):
    poll = polls.open_poll(eng, "sampling", "Next token?", [" Paris", " the", " a"], truth=" Paris")
    assert len(poll.code) == polls.CODE_LEN and polls.get_poll(eng, poll.code.lower()) == poll
    a, b = _me(), _me()
    polls.vote(eng, poll.code, a, " the")
    polls.vote(eng, poll.code, a, " Paris")  # changes a's vote
    polls.vote(eng, poll.code, b, " Paris")
    assert polls.tally(eng, poll.code) == {" Paris": 2, " the": 0, " a": 0}
    with pytest.raises(polls.PollError):
        polls.vote(eng, poll.code, b, "not an option")
    with pytest.raises(polls.PollError):
        polls.vote(eng, "ZZZZZ", b, " Paris")
    polls.close_poll(eng, poll.code)
    with pytest.raises(polls.PollError):
        polls.vote(eng, poll.code, _me(), " a")
    with pytest.raises(polls.PollError):
        polls.open_poll(eng, "x", "q", ["same", "same"])


@pytest.mark.slow
def test_many_threads_write_and_nothing_is_lost(eng):
    """24 threads (a class) each record 15 answers and vote 5 times on one poll at once."""
    poll = polls.open_poll(eng, "lora", "How many?", ["A", "B", "C"])
    n_threads, n_answers = 24, 15
    ids = [_me() for _ in range(n_threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def learner(i: int) -> None:
        try:
            start.wait()
            for k in range(n_answers):
                db.record_answer(eng, ids[i], "lora", f"q{k % 4}", str(k), k % 3 == 0)
                if k % 3 == 0:
                    polls.vote(eng, poll.code, ids[i], "ABC"[(i + k) % 3])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    with eng.connect() as c:
        n = c.execute(select(func.count()).select_from(db.answers).where(db.answers.c.learner_id.in_(ids))).scalar()
        n_learners = c.execute(select(func.count()).select_from(db.learners).where(db.learners.c.id.in_(ids))).scalar()
    assert n == n_threads * n_answers
    assert n_learners == n_threads
    assert sum(polls.tally(eng, poll.code).values()) == n_threads  # one (last) vote per learner
    for i in ids:
        db.reset_learner(eng, i)


def test_review_cards_live_in_the_progress_database(eng):
    from datetime import datetime, timedelta, timezone

    from study import review

    me, other = _me(), _me()
    t0 = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
    assert review.record(eng, me, "lora", "init", True, at=t0) is None and review.cards(eng, me) == []
    review.record(eng, me, "lora", "init", False, at=t0)
    review.record(eng, me, "sampling", "top-k-1", False, at=t0 + timedelta(minutes=5))
    review.record(eng, other, "lora", "init", False, at=t0)
    assert [(c.lesson, c.box) for c in review.cards(eng, me)] == [("lora", 1), ("sampling", 1)]
    assert review.due(eng, me, at=t0 + timedelta(minutes=12)) == review.cards(eng, me)[:1]
    card = review.record(eng, me, "lora", "init", True, at=t0 + timedelta(minutes=12))
    assert (card.box, card.streak) == (2, 1) and review.cards(eng, me)[1] == card
    assert review.due(eng, me, at=t0 + timedelta(minutes=20))[0].lesson == "sampling"
    assert review.record(eng, me, "lora", "init", True, at=t0 + timedelta(days=2)) is None
    assert [c.lesson for c in review.cards(eng, me)] == ["sampling"]
    db.reset_learner(eng, me)                                   # a reset takes the cards too
    assert review.cards(eng, me) == [] and len(review.cards(eng, other)) == 1
    db.reset_learner(eng, other)


def test_the_answer_a_learner_sent_can_be_read_back(eng):
    poll = polls.open_poll(eng, "lora", "Why B = 0?", ["a", "b", "c"])
    me = _me()
    assert polls.vote_of(eng, poll.code, me) is None
    polls.vote(eng, poll.code, me, "b")
    assert polls.vote_of(eng, poll.code.lower(), me) == "b"
    polls.vote(eng, poll.code, me, "c")
    assert polls.vote_of(eng, poll.code, me) == "c" and polls.vote_of(eng, poll.code, _me()) is None
    polls.close_poll(eng, poll.code)
