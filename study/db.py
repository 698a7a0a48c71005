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
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, case, create_engine, event, func, select)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

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


# Display names, unique in the class: the key is the name case-folded with its whitespace
# collapsed (name_key()), so "Bea", "bea" and " BEA " are one name. The primary key makes two
# learners racing for one name fail on every database, not only where writers queue.
learner_names = Table(
    "learner_names", metadata,
    Column("name_key", String(4 * NAME_MAX), primary_key=True),
    Column("learner_id", String(32), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False, unique=True),
)
# One vote per client address per poll (see vote()): which learner's vote an address holds.
vote_clients = Table(
    "vote_clients", metadata,
    Column("poll_code", String(CODE_LEN), ForeignKey("polls.code", ondelete="CASCADE"), primary_key=True),
    Column("client", String(64), primary_key=True),     # a hash of the address, never the address
    Column("voter", String(32), nullable=False),
)
# Learner ids given up by "forget this browser" (rotate_learner): never accepted again.
retired_ids = Table(
    "retired_ids", metadata,
    Column("id", String(32), primary_key=True),
    Column("retired_at", DateTime(timezone=True), nullable=False),
)


class NameRefused(ValueError):
    """A display name that is empty, too long or already taken in the class (the message says
    which, in words a learner can act on)."""


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


_ZWJ = "\u200d"   # joins emoji sequences (a family, a flag): kept; other format characters are not


def clean_name(name: str | None) -> str | None:
    """A display name: printable, single line, whitespace collapsed, at most NAME_MAX
    characters; '' -> None. Control and bidi-override characters (U+202E, ...) are dropped,
    so a right-to-left name is kept as typed but cannot reverse the text around it."""
    if name is None:
        return None
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch if ch.isprintable() or ch == _ZWJ else " " if ch.isspace() else "" for ch in name)
    name = " ".join(name.split())[:NAME_MAX]
    return name.strip(_ZWJ) or None


def name_key(name: str) -> str:
    """The form two names are compared in: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def check_name(raw: str | None) -> str:
    """The display name to store, or NameRefused with the reason (before any database)."""
    raw = raw or ""
    if not raw.strip():
        raise NameRefused("A display name needs at least one visible character.")
    name = clean_name(raw[:4 * NAME_MAX + 1])
    if name is None:
        raise NameRefused("A display name needs at least one visible character "
                          "(spaces and invisible characters do not count).")
    if len(" ".join(raw.split())) > NAME_MAX and len(name) == NAME_MAX:
        raise NameRefused(f"A display name has at most {NAME_MAX} characters.")
    return name


def set_name(eng: Engine, learner_id: str, raw: str | None) -> str | None:
    """Give a learner a display name unique in the class (case and whitespace do not count);
    '' or None removes the name. Returns the stored name; NameRefused when empty after
    cleaning, too long, or taken by another learner."""
    if not valid_learner_id(learner_id):
        raise ValueError("not a learner id")
    if raw is None or raw == "":
        with eng.begin() as c:
            _add_learner(eng, c, learner_id, None)
            c.execute(learner_names.delete().where(learner_names.c.learner_id == learner_id))
            c.execute(learners.update().where(learners.c.id == learner_id).values(display_name=None))
        return None
    name = check_name(raw)
    key = name_key(name)
    taken = NameRefused(f"The name {name!r} is already taken in this class: add an initial or pick another.")
    try:
        with eng.begin() as c:
            _add_learner(eng, c, learner_id, None)
            # Names stored before names were unique have no learner_names row: compare them too.
            for other, other_name in c.execute(select(learners.c.id, learners.c.display_name)
                                               .where(learners.c.display_name.is_not(None),
                                                      learners.c.id != learner_id)):
                if name_key(other_name) == key:
                    raise taken
            c.execute(learner_names.delete().where(learner_names.c.learner_id == learner_id))
            c.execute(learner_names.insert().values(name_key=key, learner_id=learner_id))
            c.execute(learners.update().where(learners.c.id == learner_id).values(display_name=name))
    except IntegrityError as exc:      # another learner took it in the same instant
        raise taken from exc
    return name


def ensure_learner(eng: Engine, learner_id: str, display_name: str | None = None) -> None:
    """Create the learner if needed; a display_name given goes through set_name (unique in
    the class: NameRefused when taken)."""
    if not valid_learner_id(learner_id):
        raise ValueError("not a learner id")
    if display_name is not None:
        set_name(eng, learner_id, clean_name(display_name) or "")
        return
    with eng.begin() as c:
        _add_learner(eng, c, learner_id, None)


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
    """Everything stored about one learner, as JSON. The learner id is NOT in it: the id is
    the browser's key to this progress, and an export is a file that gets mailed around."""
    return json.dumps({"display_name": display_name(eng, learner_id),
                       "attempts": attempts(eng, learner_id)}, indent=2, ensure_ascii=False)


def _learner_columns() -> list:
    """Every column in the schema that holds a learner id (answers, reviews, names, ...)."""
    out = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if any(fk.column is learners.c.id for fk in col.foreign_keys):
                out.append(col)
    return out + [votes.c.voter, vote_clients.c.voter]


def is_retired(eng: Engine, learner_id: str | None) -> bool:
    if not valid_learner_id(learner_id):
        return False
    with _read(eng) as c:
        return c.execute(select(retired_ids.c.id).where(retired_ids.c.id == learner_id)).first() is not None


def rotate_learner(eng: Engine, old_id: str, new_id: str | None = None) -> str:
    """"Forget this browser": move everything of `old_id` (answers, name, votes, review cards)
    to a new random id and retire the old one for good (a copied old cookie then holds
    nothing and is never accepted again). Returns the new id."""
    if not valid_learner_id(old_id):
        raise ValueError("not a learner id")
    new_id = new_id or new_learner_id()
    with eng.begin() as c:
        name = c.execute(select(learners.c.display_name).where(learners.c.id == old_id)).scalar()
        _add_learner(eng, c, new_id, None)
        c.execute(learners.update().where(learners.c.id == new_id).values(display_name=name))
        for col in _learner_columns():
            c.execute(col.table.update().where(col == old_id).values({col.name: new_id}))
        c.execute(learners.delete().where(learners.c.id == old_id))
        c.execute(retired_ids.insert().values(id=old_id, retired_at=_now()))
    return new_id


def reset_learner(eng: Engine, learner_id: str) -> int:
    """Delete one learner's answers and name; returns how many answers were deleted."""
    with eng.begin() as c:
        n = c.execute(answers.delete().where(answers.c.learner_id == learner_id)).rowcount
        for col in _learner_columns():
            if col.table is not answers:
                c.execute(col.table.delete().where(col == learner_id))
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
        # Every learner with at least one answer, right or wrong: the anonymous row counts them all.
        answered = c.execute(select(learners.c.id, learners.c.display_name)
                             .join(answers, answers.c.learner_id == learners.c.id).distinct()).all()
    per: dict[str, dict] = {lid: {"name": name, "lessons": {}} for lid, name in named if name}
    anon_ids: set[str] = {lid for lid, name in answered if not name}
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
