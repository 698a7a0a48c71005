"""Class runs: training jobs run in worker processes, out of the web server's process, with their
queue, their progress stream and their records in the progress database (plain Python: no
streamlit here; the page glue is ``ui.class_run_page.follow``).

Why worker processes: a training step is Python and torch work that holds the interpreter lock;
in the web process it competed with every learner's slider rerun. A worker process has its own
interpreter and its own torch threads (``ui.jobs.budget().threads`` each, ``slots`` workers).

Why the progress database is the queue, the stream and the record store (not a task-queue
engine): it is already there (SQLite by default, ``GENAI_LAB_DB_URL`` for Postgres across
replicas), so ``make run`` needs no service; a job is a row, a step is a row, a record is a row.
What the page pays to follow a run is one indexed read per poll (bench/class_runs.py measures it).

A job is keyed by everything that determines its result (``key``: kind, settings, the shared
models' fingerprints, the code version, the torch threads). A request for a key that is queued
or running JOINS it: every follower sees the same run from its first step. A follower's Stop
leaves the run; the run stops when its last follower has left (or stopped heartbeating: a
closed tab). A run that finished all its steps is kept as a record (``lessons.core.records``
encoding, with its checksum): the same key later is shown at once. A job that is not
deterministic for others (a learner's own reward model) carries its owner in its key, so it is
never shared.

Tables (created on first use, next to study.db's):

* ``class_jobs``: one row per job: key, kind, spec (JSON), shareable, state, worker, error,
  result (JSON), created/started/finished (epoch seconds), deadline.
* ``class_rows``: the job's progress rows (one JSON row per step, in order).
* ``class_followers``: who follows a job, with the last heartbeat.
* ``class_records``: finished runs by key (records.encode text), at most ``MAX_RECORDS``.

Processes (ui/class_run_workers.py): the web process calls :func:`ensure_workers` (scripts/serve.py
does at start, so ``make run`` needs nothing else; otherwise the first Train): ``slots`` worker
processes and one supervisor thread.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from sqlalchemy import (Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, delete, func,
                        insert, select, update)
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
QUEUED, RUNNING, DONE, FAILED, STOPPED = "queued", "running", "done", "failed", "stopped"
ACTIVE = (QUEUED, RUNNING)
MAX_QUEUED = 120          # distinct runs waiting; a request beyond it is refused with a message
MAX_RECORDS = 500         # finished runs kept by key; the oldest go first
KEEP_FINISHED_S = 3600.0  # a finished job's rows stay this long (late followers draw them)
FOLLOWER_TTL_S = 30.0     # a follower that has not polled for this long has left (a closed tab)
HEARTBEAT_S = 5.0         # how often a follower's poll refreshes its heartbeat
GRACE_S = 60.0            # past the job's own time limit, the supervisor kills its worker (a hang)
POLL_S = 0.25             # a free worker looks for a job this often

# kind -> "module:function" of the job: fn(spec, progress, should_stop) -> result (JSON-able).
# progress(row) appends one row to the stream; should_stop() is True once nobody follows.
JOBS = {"ppo": "lessons.rlhf.ppo_job:run", "reward-hacking": "lessons.rlhf.ppo_job:run_hacking",
        "dpo": "lessons.rlhf.dpo_job:run", "preferences-reward": "lessons.rlhf.preferences_reward_job:run",
        "model-summaries": "lessons.evaluation.model_summaries_job:run",
        "constitutional-ai": "lessons.rlhf.constitutional_ai_job:run",
        "reasoning": "lessons.prompting.reasoning_job:run_scores",
        "reasoning-three": "lessons.prompting.reasoning_job:run_three",
        "self-consistency": "lessons.prompting.reasoning_job:run_self_consistency",
        "react": "lessons.prompting.react_job:run",
        "pretraining-live": "lessons.pretraining.pretraining_live_job:run",
        "domain-adaptation": "lessons.pretraining.domain_adaptation_job:run",
        "prompt-tuning": "lessons.finetune.prompt_tuning_job:run",
        "distillation": "lessons.efficiency.distillation_job:run",
        "forgetting": "lessons.finetune.forgetting_job:run",
        "lora-training": "lessons.finetune.lora_training_job:run"}

# The long generations: a learner waits for text, not for a training run. They have their own
# worker (``Pool(generation_workers=1)``), so a class's training runs never hold them up, and their
# place in the queue counts only the generations ahead (:func:`lane`).
GENERATIONS = frozenset({"model-summaries", "constitutional-ai", "reasoning", "reasoning-three", "self-consistency",
                         "react"})

# The quick runs (a reward model: a second or two of small steps): every worker takes them, and
# takes them before the longer runs of its lane, so a learner never waits a whole PPO run or
# summary for one (ui/class_run_workers._claim). Their place counts only the quick runs ahead.
QUICK = frozenset({"preferences-reward"})


def lane(kind: str) -> list[str]:
    """The kinds that share ``kind``'s workers and queue (what a worker that runs ``kind`` takes):
    the generations or the training runs, each with the quick runs; for a quick run, the quick runs."""
    if kind in QUICK:
        return sorted(QUICK)
    return sorted((GENERATIONS if kind in GENERATIONS else set(JOBS) - GENERATIONS) | QUICK)


metadata = MetaData()
jobs_t = Table(
    "class_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("spec", Text, nullable=False),
    Column("shareable", Boolean, nullable=False),
    Column("state", String(12), nullable=False),
    Column("worker", String(80), nullable=True),
    Column("error", Text, nullable=True),
    Column("result", Text, nullable=True),
    Column("stopped_by", String(12), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("max_seconds", Float, nullable=False),
    Column("broadcast", Boolean, nullable=False, default=False),   # a teacher's run the class may follow
    Index("ix_class_jobs_key_state", "key", "state"),
    Index("ix_class_jobs_state", "state"),
)
rows_t = Table(
    "class_rows", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", Integer, nullable=False, index=True),
    Column("row", Text, nullable=False),
)
followers_t = Table(
    "class_followers", metadata,
    Column("job", Integer, primary_key=True),
    Column("follower", String(64), primary_key=True),
    Column("seen_at", Float, nullable=False),
    Column("controls", Boolean, nullable=False, default=True),   # False: follows a broadcast, cannot stop it
)
records_t = Table(
    "class_records", metadata,
    Column("key", String(64), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


def engine(url: str | None = None) -> Engine:
    """The progress database's engine (study.db), with the class-run tables created once."""
    from study import db

    eng = db.engine(url)
    if not getattr(eng, "_class_runs_ready", False):
        metadata.create_all(eng)
        eng._class_runs_ready = True
    return eng


def _read(eng: Engine):
    from study import db

    return db._read(eng)        # a read-only connection (on SQLite it never waits for the write lock)


def canonical(obj) -> str:
    from lessons.core import records

    return records.canonical(obj)


def job_key(kind: str, spec: dict, owner: str | None = None) -> str:
    """sha256 of the kind and the spec (which holds the record key's inputs) and, for a run that
    is not shareable, its owner: then no other learner ever has the same key."""
    return hashlib.sha256(canonical({"kind": kind, "spec": spec, "owner": owner}).encode()).hexdigest()


# --------------------------------------------------------------------------- what a page sees
@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    state: str
    shareable: bool
    error: Optional[str]
    stopped_by: Optional[str]
    created_at: float
    started_at: Optional[float]
    finished_at: Optional[float]
    max_seconds: float
    result: Optional[dict] = None
    broadcast: bool = False

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


def _job(r) -> Job:
    return Job(r.id, r.key, r.kind, r.state, bool(r.shareable), r.error, r.stopped_by, r.created_at, r.started_at,
               r.finished_at, r.max_seconds, json.loads(r.result) if r.result else None, bool(r.broadcast))


class QueueFull(Exception):
    """Too many distinct runs are waiting."""


@dataclass(frozen=True)
class Joined:
    """What :func:`request` did: ``job`` (joined or started), or ``record`` (a finished run with
    this key, shown at once), and how many others follow the job."""
    job: Optional[Job]
    record: Any = None       # lessons.core.records.Record
    joined: bool = False


def request(kind: str, spec: dict, follower: str, *, shareable: bool, max_seconds: float,
            use_record: bool = True, broadcast: bool = False, eng: Engine | None = None,
            now: Callable[[], float] = time.time) -> Joined:
    """A learner presses Train: the finished record of this key (``use_record``), else the queued
    or running job of this key (joined), else a new queued job. The learner follows the job;
    their other followings end (one run per learner at a time). Raises QueueFull.
    ``broadcast`` (a teacher's Train): always a new run of its own, which learners may follow
    (:func:`follow_broadcast`) but only its starter stops."""
    eng = eng or engine()
    key = job_key(kind, spec, None if shareable and not broadcast else follower)
    if broadcast:
        shareable, use_record = False, False
    if use_record and shareable and (rec := record(key, eng)) is not None:
        leave_all(follower, eng)
        return Joined(None, rec)
    t = now()
    with eng.begin() as c:
        c.execute(delete(followers_t).where(followers_t.c.follower == follower))
        row = c.execute(select(jobs_t).where(jobs_t.c.key == key, jobs_t.c.state.in_(ACTIVE))
                        .order_by(jobs_t.c.id).limit(1)).first() if shareable else None
        joined = row is not None
        if row is None:
            waiting = c.execute(select(func.count()).select_from(jobs_t).where(jobs_t.c.state == QUEUED)).scalar_one()
            if waiting >= MAX_QUEUED:
                raise QueueFull(f"The training queue is full ({waiting} runs waiting). Try again in a few minutes, "
                                "or choose settings that another learner is already training.")
            jid = c.execute(insert(jobs_t).values(key=key, kind=kind, spec=canonical(spec), shareable=shareable,
                                                  state=QUEUED, created_at=t, max_seconds=float(max_seconds),
                                                  broadcast=broadcast)).inserted_primary_key[0]
        else:
            jid = row.id
        c.execute(insert(followers_t).values(job=jid, follower=follower, seen_at=t, controls=True))
        job = _job(c.execute(select(jobs_t).where(jobs_t.c.id == jid)).one())
    if not joined:
        prune(eng, now)          # each new run clears what finished long ago: the tables stay bounded
    return Joined(job, None, joined)


def spec_of(job_id: int, eng: Engine | None = None) -> dict:
    eng = eng or engine()
    with _read(eng) as c:
        return json.loads(c.execute(select(jobs_t.c.spec).where(jobs_t.c.id == job_id)).scalar_one())


def broadcasts(kind: str, eng: Engine | None = None) -> Optional[Job]:
    """The newest teacher's run of this kind that is queued or running, if any."""
    eng = eng or engine()
    with _read(eng) as c:
        row = c.execute(select(jobs_t).where(jobs_t.c.kind == kind, jobs_t.c.broadcast.is_(True),
                                             jobs_t.c.state.in_(ACTIVE)).order_by(jobs_t.c.id.desc()).limit(1)).first()
    return None if row is None else _job(row)


def follow_broadcast(job_id: int, follower: str, eng: Engine | None = None,
                     now: Callable[[], float] = time.time) -> Job:
    """A learner follows the teacher's run: they see it live, their Stop only leaves it."""
    eng = eng or engine()
    with eng.begin() as c:
        job = _job(c.execute(select(jobs_t).where(jobs_t.c.id == job_id)).one())
        if not job.broadcast:
            raise ValueError("only a teacher's broadcast run can be followed by its id")
        c.execute(delete(followers_t).where(followers_t.c.follower == follower))
        c.execute(insert(followers_t).values(job=job_id, follower=follower, seen_at=now(), controls=False))
    return job


def leave(job_id: int, follower: str, eng: Engine | None = None) -> None:
    """A follower's Stop: they leave the run; it goes on for the others, and stops (at its next
    step) when nobody follows any more."""
    eng = eng or engine()
    with eng.begin() as c:
        c.execute(delete(followers_t).where(followers_t.c.job == job_id, followers_t.c.follower == follower))


def leave_all(follower: str, eng: Engine | None = None) -> None:
    eng = eng or engine()
    with eng.begin() as c:
        c.execute(delete(followers_t).where(followers_t.c.follower == follower))


def heartbeat(job_id: int, follower: str, eng: Engine | None = None, now: Callable[[], float] = time.time) -> None:
    eng = eng or engine()
    with eng.begin() as c:
        c.execute(update(followers_t).where(followers_t.c.job == job_id, followers_t.c.follower == follower)
                  .values(seen_at=now()))


def followers(job_id: int, eng: Engine | None = None, now: Callable[[], float] = time.time,
              controlling: bool = False) -> int:
    """How many learners follow the job now (heartbeat younger than FOLLOWER_TTL_S);
    ``controlling``: only those whose leaving can stop it (all but a broadcast's watchers)."""
    eng = eng or engine()
    with _read(eng) as c:
        return c.execute(followers_query(job_id, now(), controlling)).scalar_one()


def followers_query(job_id: int, t: float, controlling: bool = False):
    """SELECT the number of the job's followers with a heartbeat younger than FOLLOWER_TTL_S at ``t``."""
    q = select(func.count()).select_from(followers_t).where(
        followers_t.c.job == job_id, followers_t.c.seen_at > t - FOLLOWER_TTL_S)
    return q.where(followers_t.c.controls.is_(True)) if controlling else q


@dataclass(frozen=True)
class Progress:
    """One poll of a followed job: the job, its rows from ``since`` on, its followers, and while
    queued its place (1-based) among the waiting runs and the runs running."""
    job: Job
    rows: list
    followers: int
    position: Optional[int]
    running: int


class Gone(LookupError):
    """The job is no longer kept (it finished more than KEEP_FINISHED_S ago, or never existed)."""


def poll(job_id: int, since: int = 0, eng: Engine | None = None, now: Callable[[], float] = time.time) -> Progress:
    """The job and its rows number ``since`` onwards (0-based), in one read transaction. Raises
    Gone for a job that is no longer kept."""
    eng = eng or engine()
    with _read(eng) as c:
        row = c.execute(select(jobs_t).where(jobs_t.c.id == job_id)).first()
        if row is None:
            raise Gone(f"run {job_id} is no longer kept")
        job = _job(row)
        rows = [json.loads(r) for r in c.execute(select(rows_t.c.row).where(rows_t.c.job == job_id)
                                                 .order_by(rows_t.c.id).offset(since)).scalars()]
        n = c.execute(followers_query(job_id, now())).scalar_one()
        pos = running = None
        same = jobs_t.c.kind.in_(lane(job.kind))        # the runs that share this run's workers
        if job.state == QUEUED:
            pos = 1 + c.execute(select(func.count()).select_from(jobs_t).where(
                jobs_t.c.state == QUEUED, jobs_t.c.id < job_id, same)).scalar_one()
        running = c.execute(select(func.count()).select_from(jobs_t).where(jobs_t.c.state == RUNNING, same)).scalar_one()
    return Progress(job, rows, n, pos, running)


def typical_seconds(kind: str, eng: Engine | None = None, default: float = 60.0) -> float:
    """The mean length of this kind's last 10 whole runs (for an ETA)."""
    eng = eng or engine()
    with _read(eng) as c:
        took = [r.finished_at - r.started_at for r in c.execute(
            select(jobs_t.c.started_at, jobs_t.c.finished_at).where(jobs_t.c.kind == kind, jobs_t.c.state == DONE,
                                                                   jobs_t.c.stopped_by == "steps")
            .order_by(jobs_t.c.id.desc()).limit(10))]
    return sum(took) / len(took) if took else default


# --------------------------------------------------------------------------- records
def record(key: str, eng: Engine | None = None):
    """The finished run of this key, or None. A record that does not decode whole and unaltered
    (or under another key) is deleted: the next request runs it again."""
    from lessons.core import records

    eng = eng or engine()
    with _read(eng) as c:
        text = c.execute(select(records_t.c.text).where(records_t.c.key == key)).scalar_one_or_none()
    if text is None:
        return None
    rec = records.decode(text)
    if rec is None or rec.settings.get("_job_key") != key:
        with eng.begin() as c:
            c.execute(delete(records_t).where(records_t.c.key == key))
        return None
    return rec


def _keep_record(c, key: str, kind: str, spec: dict, result: dict, wall_s: float, cpu_s: float) -> None:
    from lessons.core import records

    rec = records.Record(kind, {"_job_key": key, **spec}, {}, "", records.plain(result),
                         wall_s=round(wall_s, 1), cpu_s=round(cpu_s, 1))
    c.execute(delete(records_t).where(records_t.c.key == key))
    c.execute(insert(records_t).values(key=key, kind=kind, text=records.encode(rec), created_at=time.time()))
    n = c.execute(select(func.count()).select_from(records_t)).scalar_one()
    if n > MAX_RECORDS:
        old = [r for r in c.execute(select(records_t.c.key).order_by(records_t.c.created_at).limit(n - MAX_RECORDS))
               .scalars()]
        c.execute(delete(records_t).where(records_t.c.key.in_(old)))


def prune(eng: Engine | None = None, now: Callable[[], float] = time.time) -> None:
    """Drop jobs (and their rows and followers) that finished more than KEEP_FINISHED_S ago."""
    eng = eng or engine()
    with eng.begin() as c:
        old = list(c.execute(select(jobs_t.c.id).where(jobs_t.c.state.not_in(ACTIVE),
                                                      jobs_t.c.finished_at < now() - KEEP_FINISHED_S)).scalars())
        if old:
            c.execute(delete(rows_t).where(rows_t.c.job.in_(old)))
            c.execute(delete(followers_t).where(followers_t.c.job.in_(old)))
            c.execute(delete(jobs_t).where(jobs_t.c.id.in_(old)))


_POOL = None   # the web process's class_run_workers.Pool
_POOL_LOCK = threading.Lock()


def ensure_workers():
    """The web process's pool (``ui.jobs.budget()``: its slots and threads, and one worker for the
    generations), started once."""
    global _POOL
    from study import db
    from ui import jobs
    from ui.class_run_workers import Pool

    with _POOL_LOCK:
        if _POOL is None:
            b = jobs.budget()
            _POOL = Pool(b.slots, db.default_url(), b.threads, generation_workers=1).start()
            import atexit

            atexit.register(_POOL.close)
        return _POOL


def sharing_enabled(env=None) -> bool:
    """``GENAI_LAB_SHARE_RUNS=off`` makes every press its own run (the bench's comparison)."""
    return (env or os.environ).get("GENAI_LAB_SHARE_RUNS", "on").strip().lower() not in ("off", "0", "no", "false")
