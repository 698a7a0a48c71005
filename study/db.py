"""Progress and class polls in a real database, through SQLAlchemy.

By default a SQLite file in the app's cache folder (``<cache>/classroom.sqlite``: nothing to
set up). For a class spread over several servers, point every server at one shared
database with ``GENAI_LAB_DB_URL`` (any SQLAlchemy URL, e.g.
``postgresql+psycopg://user:pw@host/genai``).

Concurrency: Streamlit runs every browser session in a thread of one process, and a class
may run several processes. Every write is one short transaction. On SQLite the file is in
WAL mode (readers never block the writer) and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing with
"database is locked" when one upgrades a read lock.

What is stored: a learner is an anonymous random id (kept in a browser cookie) plus an
optional display name the learner chose. Nothing else about a person.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, case, create_engine, event, func, select)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

ENV_URL = "GENAI_LAB_DB_URL"
NAME_MAX = 40
_ID = re.compile(r"^[0-9a-f]{32}$")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud from a projector
CODE_LEN = 5

metadata = MetaData()
learners = Table(
    "learners", metadata,
    Column("id", String(32), primary_key=True),
    Column("display_name", String(NAME_MAX), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
answers = Table(
    "answers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("learner_id", String(32), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("lesson", String(80), nullable=False),
    Column("question", String(80), nullable=False),
    Column("answer", String(200), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
polls = Table(
    "polls", metadata,
    Column("code", String(CODE_LEN), primary_key=True),
    Column("lesson", String(80), nullable=False),
    Column("question", Text, nullable=False),
    Column("options", Text, nullable=False),       # JSON list of strings
    Column("truth", String(200), nullable=True),   # what the model / metric says
    Column("truth_note", Text, nullable=True),
    Column("is_open", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
votes = Table(
    "votes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("poll_code", String(CODE_LEN), ForeignKey("polls.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("voter", String(32), nullable=False),
    Column("choice", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("poll_code", "voter", name="one_vote_per_voter"),
)
# Self-study review (study/review.py): one Leitner card per question a learner got wrong.
reviews = Table(
    "reviews", metadata,
    Column("learner_id", String(32), ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("lesson", String(80), primary_key=True),
    Column("question", String(80), primary_key=True),
    Column("box", Integer, nullable=False),       # 1, 2, ...: the longer the delay
    Column("streak", Integer, nullable=False),    # right answers in a row while due
    Column("due_at", DateTime(timezone=True), nullable=False),
)


class PollError(ValueError):
    """A poll code that does not exist, a closed poll, or an answer that is not an option."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def default_url() -> str:
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    from lessons.models import cache_dir  # the app's cache folder (GENAI_LAB_CACHE aware)

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'classroom.sqlite'}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves (pysqlite quirk)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Readers take a plain (deferred) snapshot; writers queue for the write lock up front.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_setup(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    metadata.create_all(engine)
    return engine


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine(url: str | None = None) -> Engine:
    """One engine (connection pool) per URL per process."""
    url = url or default_url()
    with _engines_lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def _read(eng: Engine):
    """A connection for reading only (on SQLite it never waits for the write lock)."""
    return eng.connect().execution_options(read_only=True)


def _insert(eng: Engine, table: Table):
    """INSERT with ON CONFLICT support where the dialect has it (SQLite, Postgres)."""
    name = eng.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    return None


def _add_learner(eng: Engine, c, learner_id: str, name: str | None) -> None:
    ins = _insert(eng, learners)
    values = dict(id=learner_id, display_name=name, created_at=_now())
    if ins is not None:
        c.execute(ins.values(**values).on_conflict_do_nothing(index_elements=["id"]))
    elif c.execute(select(learners.c.id).where(learners.c.id == learner_id)).first() is None:
        c.execute(learners.insert().values(**values))


def describe(eng: Engine) -> str:
    """For the UI: which database, without any password."""
    return eng.url.render_as_string(hide_password=True)


# --------------------------------------------------------------------------- learners
def new_learner_id() -> str:
    return secrets.token_hex(16)


def valid_learner_id(value: str | None) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


def clean_name(name: str | None) -> str | None:
    """A display name: printable, single line, at most NAME_MAX characters; '' -> None."""
    if name is None:
        return None
    name = " ".join("".join(ch for ch in name if ch.isprintable()).split())[:NAME_MAX]
    return name or None


def ensure_learner(eng: Engine, learner_id: str, display_name: str | None = None) -> None:
    if not valid_learner_id(learner_id):
        raise ValueError("not a learner id")
    with eng.begin() as c:
        _add_learner(eng, c, learner_id, clean_name(display_name))
        if display_name is not None:
            c.execute(learners.update().where(learners.c.id == learner_id)
                      .values(display_name=clean_name(display_name)))


def display_name(eng: Engine, learner_id: str) -> str | None:
    with _read(eng) as c:
        return c.execute(select(learners.c.display_name).where(learners.c.id == learner_id)).scalar()


# --------------------------------------------------------------------------- progress
def record_answer(eng: Engine, learner_id: str, lesson: str, question: str, answer: str,
                  correct: bool) -> None:
    """One attempt at one question (every attempt is kept: first tries tell the teacher
    which questions are hard)."""
    with eng.begin() as c:
        _add_learner(eng, c, learner_id, None)
        c.execute(answers.insert().values(learner_id=learner_id, lesson=lesson[:80], question=question[:80],
                                          answer=str(answer)[:200], correct=bool(correct), created_at=_now()))


def solved(eng: Engine, learner_id: str) -> dict[str, set[str]]:
    """{lesson: {question ids answered correctly at least once}} for one learner."""
    out: dict[str, set[str]] = {}
    with _read(eng) as c:
        rows = c.execute(select(answers.c.lesson, answers.c.question)
                         .where(answers.c.learner_id == learner_id, answers.c.correct.is_(True))
                         .distinct())
        for lesson, q in rows:
            out.setdefault(lesson, set()).add(q)
    return out


def attempts(eng: Engine, learner_id: str) -> list[dict]:
    """Every attempt of one learner, oldest first (for the learner's own export)."""
    with _read(eng) as c:
        rows = c.execute(select(answers.c.lesson, answers.c.question, answers.c.answer,
                                answers.c.correct, answers.c.created_at)
                         .where(answers.c.learner_id == learner_id).order_by(answers.c.id))
        return [{"lesson": r.lesson, "question": r.question, "answer": r.answer, "correct": bool(r.correct),
                 "at": r.created_at.isoformat() if r.created_at else None} for r in rows]


def export_learner(eng: Engine, learner_id: str) -> str:
    """Everything stored about one learner, as JSON."""
    return json.dumps({"learner_id": learner_id, "display_name": display_name(eng, learner_id),
                       "attempts": attempts(eng, learner_id)}, indent=2, ensure_ascii=False)


def reset_learner(eng: Engine, learner_id: str) -> int:
    """Delete one learner's answers and name; returns how many answers were deleted."""
    with eng.begin() as c:
        n = c.execute(answers.delete().where(answers.c.learner_id == learner_id)).rowcount
        c.execute(votes.delete().where(votes.c.voter == learner_id))
        c.execute(learners.delete().where(learners.c.id == learner_id))
    return n


# --------------------------------------------------------------------------- teacher view
def class_progress(eng: Engine) -> list[dict]:
    """Per learner who chose a display name: {name, lesson: solved count}. Anonymous learners
    are counted together under one row, never listed one by one."""
    with _read(eng) as c:
        rows = c.execute(select(learners.c.id, learners.c.display_name, answers.c.lesson,
                                func.count(func.distinct(answers.c.question)))
                         .join(answers, answers.c.learner_id == learners.c.id)
                         .where(answers.c.correct.is_(True))
                         .group_by(learners.c.id, learners.c.display_name, answers.c.lesson)).all()
        named = c.execute(select(learners.c.id, learners.c.display_name)
                          .where(learners.c.display_name.is_not(None))).all()
    per: dict[str, dict] = {lid: {"name": name, "lessons": {}} for lid, name in named if name}
    anon_ids: set[str] = set()
    for lid, name, lesson, n in rows:
        if name:
            d = per.setdefault(lid, {"name": name, "lessons": {}})
            d["lessons"][lesson] = int(n)
        else:
            anon_ids.add(lid)
    out = sorted(per.values(), key=lambda d: d["name"].lower())
    return out + ([{"name": f"(anonymous: {len(anon_ids)} learners)", "anonymous": len(anon_ids), "lessons": {}}]
                  if anon_ids else [])


def question_stats(eng: Engine) -> list[dict]:
    """Per question: learners who tried it, how many got it wrong on their FIRST try, and the
    share. Sorted most-missed first. Aggregated: no learner appears."""
    with _read(eng) as c:
        first = (select(answers.c.learner_id, answers.c.lesson, answers.c.question,
                        func.min(answers.c.id).label("first_id"))
                 .group_by(answers.c.learner_id, answers.c.lesson, answers.c.question).subquery())
        rows = c.execute(select(answers.c.lesson, answers.c.question, func.count(),
                                func.sum(case((answers.c.correct.is_(False), 1), else_=0)))
                         .join(first, first.c.first_id == answers.c.id)
                         .group_by(answers.c.lesson, answers.c.question)).all()
    out = [{"lesson": l, "question": q, "learners": int(n), "missed_first_try": int(m or 0),
            "missed_share": (int(m or 0) / int(n)) if n else 0.0} for l, q, n, m in rows]
    return sorted(out, key=lambda d: (-d["missed_share"], -d["learners"], d["lesson"], d["question"]))


# --------------------------------------------------------------------------- polls
@dataclass(frozen=True)
class Poll:
    code: str
    lesson: str
    question: str
    options: list[str]
    truth: str | None
    truth_note: str | None
    is_open: bool


def normalize_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:CODE_LEN]


def open_poll(eng: Engine, lesson: str, question: str, options: list[str], truth: str | None = None,
              truth_note: str | None = None) -> Poll:
    opts = [str(o)[:200] for o in options]
    if len(opts) < 2 or len(set(opts)) != len(opts):
        raise PollError("a poll needs at least two different options")
    for _ in range(20):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LEN))
        with eng.begin() as c:
            if c.execute(select(polls.c.code).where(polls.c.code == code)).first() is not None:
                continue
            c.execute(polls.insert().values(code=code, lesson=lesson[:80], question=question, options=json.dumps(opts),
                                            truth=truth, truth_note=truth_note, is_open=True, created_at=_now()))
        return Poll(code, lesson, question, opts, truth, truth_note, True)
    raise PollError("could not find a free poll code")


def get_poll(eng: Engine, code: str) -> Poll | None:
    code = normalize_code(code)
    with _read(eng) as c:
        r = c.execute(select(polls).where(polls.c.code == code)).first()
    if r is None:
        return None
    return Poll(r.code, r.lesson, r.question, json.loads(r.options), r.truth, r.truth_note, bool(r.is_open))


def close_poll(eng: Engine, code: str) -> None:
    with eng.begin() as c:
        c.execute(polls.update().where(polls.c.code == normalize_code(code)).values(is_open=False))


def vote(eng: Engine, code: str, voter: str, choice: str) -> None:
    """One vote per voter per poll; voting again changes the vote."""
    code = normalize_code(code)
    with eng.begin() as c:
        r = c.execute(select(polls.c.options, polls.c.is_open).where(polls.c.code == code)).first()
        if r is None:
            raise PollError(f"no poll with code {code!r}")
        if not r.is_open:
            raise PollError("this poll is closed")
        if choice not in json.loads(r.options):
            raise PollError("not one of the poll's options")
        values = dict(poll_code=code, voter=voter[:32], choice=choice, created_at=_now())
        ins = _insert(eng, votes)
        if ins is not None:
            c.execute(ins.values(**values).on_conflict_do_update(
                index_elements=["poll_code", "voter"], set_={"choice": choice, "created_at": values["created_at"]}))
        elif not c.execute(votes.update().where(votes.c.poll_code == code, votes.c.voter == voter)
                           .values(choice=choice, created_at=values["created_at"])).rowcount:
            c.execute(votes.insert().values(**values))


def tally(eng: Engine, code: str) -> dict[str, int]:
    """{option: votes}, every option present, in the poll's order."""
    poll = get_poll(eng, code)
    if poll is None:
        raise PollError(f"no poll with code {code!r}")
    counts = dict.fromkeys(poll.options, 0)
    with _read(eng) as c:
        for choice, n in c.execute(select(votes.c.choice, func.count()).where(votes.c.poll_code == poll.code)
                                   .group_by(votes.c.choice)):
            if choice in counts:
                counts[choice] = int(n)
    return counts


def vote_of(eng: Engine, code: str, voter: str) -> str | None:
    """The answer `voter` sent to poll `code` (None if none): the poll page shows it again
    after a reload."""
    with _read(eng) as c:
        return c.execute(select(votes.c.choice).where(votes.c.poll_code == normalize_code(code),
                                                      votes.c.voter == voter[:32])).scalar()
