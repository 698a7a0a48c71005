"""Class runs' processes (the database side is ui/class_runs.py): the worker process
(``python -m ui.class_run_workers``), which takes queued jobs FIFO and runs them, and the
supervisor in the web process (:class:`Pool`), which restarts a worker that died and marks its job
failed with the reason, and kills a worker whose job ran past its deadline (a hang). A worker
exits when its parent process is gone or stops it, and marks the job it ran failed first. Every
supervisor also fails the jobs of workers that no supervisor watches any more (another server on
this host that was killed; on another host, a job past its deadline), so nobody follows a run that
no process runs. Plain Python: no streamlit here."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Callable, Optional

from sqlalchemy import case, insert, select, update
from sqlalchemy.engine import Engine

from ui.class_runs import (DONE, FAILED, GENERATIONS, GRACE_S, JOBS, POLL_S, QUEUED, QUICK, ROOT, RUNNING, STOPPED, Job,
                           _job, _keep_record, _read, canonical, engine, followers, followers_query, jobs_t, rows_t)


IDLE_RELEASE_S = 300.0    # a worker idle this long frees its instruct models (loaded again by its next generation)


class ServerStopped(BaseException):
    """Raised in a worker when its server stops it (SIGTERM) or is gone: the job it runs is marked
    failed with the reason, then the worker exits. A BaseException, so a job's own ``except
    Exception`` cannot swallow it."""


def _claim(eng: Engine, worker: str, kinds: list[str]) -> Optional[Job]:
    """Take the oldest queued job of ``kinds`` (this worker's; FIFO, the quick runs first:
    class_runs.QUICK). A queued job nobody follows
    any more is dropped. An idle worker only reads (a snapshot that never waits for SQLite's write
    lock): it asks for the write lock only when there is a job to take, so idle workers polling
    every POLL_S never hold up a page that writes (a poll opening, a heartbeat, a new run)."""
    mine = (jobs_t.c.state == QUEUED) & jobs_t.c.kind.in_(kinds)
    while True:
        with _read(eng) as c:
            if c.execute(select(jobs_t.c.id).where(mine).limit(1)).first() is None:
                return None
        with eng.begin() as c:
            row = c.execute(select(jobs_t).where(jobs_t.c.state == QUEUED, jobs_t.c.kind.in_(kinds))
                            .order_by(case((jobs_t.c.kind.in_(QUICK), 0), else_=1), jobs_t.c.id).limit(1)).first()
            if row is None:
                return None
            t = time.time()
            n = c.execute(followers_query(row.id, t, controlling=True)).scalar_one()
            if n == 0:
                c.execute(update(jobs_t).where(jobs_t.c.id == row.id, jobs_t.c.state == QUEUED)
                          .values(state=STOPPED, stopped_by="left", finished_at=t,
                                  error="everyone who asked for it left before it started"))
                continue
            got = c.execute(update(jobs_t).where(jobs_t.c.id == row.id, jobs_t.c.state == QUEUED)
                            .values(state=RUNNING, worker=worker, started_at=t)).rowcount
            if got == 1:
                return _job(c.execute(select(jobs_t).where(jobs_t.c.id == row.id)).one())


def _finish(eng: Engine, job_id: int, state: str, *, error: str | None = None, result: dict | None = None,
            stopped_by: str | None = None, only_if_running: bool = True) -> bool:
    with eng.begin() as c:
        q = update(jobs_t).where(jobs_t.c.id == job_id)
        if only_if_running:
            q = q.where(jobs_t.c.state == RUNNING)
        return c.execute(q.values(state=state, error=error, stopped_by=stopped_by, finished_at=time.time(),
                                  result=None if result is None else canonical(result))).rowcount == 1


def _load(path: str) -> Callable:
    mod, fn = path.split(":")
    return getattr(importlib.import_module(mod), fn)


def run_one(eng: Engine, job: Job, jobs: dict[str, str], parent: int | None = None) -> str:
    """Run a claimed job in this process: rows into class_rows, the outcome into class_jobs, a
    whole shareable run into class_records. Returns the job's final state. With ``parent``, the
    job ends (failed, with the reason) as soon as that process is gone."""
    with _read(eng) as c:
        spec = json.loads(c.execute(select(jobs_t.c.spec).where(jobs_t.c.id == job.id)).scalar_one())
    last = [0.0, False]

    def progress(row: dict) -> None:
        with eng.begin() as c:
            c.execute(insert(rows_t).values(job=job.id, row=canonical(row)))

    def should_stop() -> bool:       # asked before each step: at most one read every second
        if parent is not None and os.getppid() != parent:
            raise ServerStopped("the server it ran on stopped")
        t = time.monotonic()
        if t - last[0] >= 1.0:
            last[0], last[1] = t, followers(job.id, eng, controlling=True) == 0
        return last[1]

    w, c0 = time.perf_counter(), time.process_time()
    try:
        result = _load(jobs[job.kind])(spec, progress, should_stop)
    except ServerStopped as exc:
        _finish(eng, job.id, FAILED, error=str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - the job failed: its followers see why
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        _finish(eng, job.id, FAILED, error=f"{first} ({type(exc).__name__})")
        return FAILED
    stopped_by = result.get("stopped", "steps") if isinstance(result, dict) else "steps"
    state = STOPPED if stopped_by == "stopped" else DONE
    with eng.begin() as c:
        ok = c.execute(update(jobs_t).where(jobs_t.c.id == job.id, jobs_t.c.state == RUNNING).values(
            state=state, stopped_by=stopped_by, finished_at=time.time(), result=canonical(result))).rowcount == 1
        if ok and state == DONE and stopped_by == "steps" and job.shareable:
            _keep_record(c, job.key, job.kind, spec, result, time.perf_counter() - w, time.process_time() - c0)
    return state


def worker_main(url: str, jobs: dict[str, str], threads: int, parent: int) -> None:
    """A worker process: take jobs FIFO until the parent process is gone."""
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    from lessons.core import records

    eng = engine(url)
    me = f"{socket.gethostname()}:{os.getpid()}"
    idle_since = time.monotonic()
    while os.getppid() == parent:
        job = _claim(eng, me, list(jobs))
        if job is None:
            if time.monotonic() - idle_since > IDLE_RELEASE_S:
                records.release_worker_models()     # an idle worker gives its instruct models' memory back
            time.sleep(POLL_S)
            continue
        run_one(eng, job, jobs, parent)
        idle_since = time.monotonic()


# --------------------------------------------------------------------------- the supervisor
class Pool:
    """``n`` worker processes and the thread that watches them (in the web process). With
    ``generation_workers``, that many more take only the generations (class_runs.GENERATIONS) and
    the ``n`` take only the training runs: a learner's summary never waits behind a class's PPO.
    Every worker also takes the quick runs (class_runs.QUICK), before the others."""

    def __init__(self, n: int, url: str, threads: int = 1, jobs: dict[str, str] | None = None,
                 env: dict | None = None, grace_s: float = GRACE_S, watch_s: float = 1.0,
                 generation_workers: int = 0):
        self.n, self.url, self.threads, self.jobs = n, url, threads, dict(jobs or JOBS)
        if generation_workers:
            gen = {k: v for k, v in self.jobs.items() if k in GENERATIONS | QUICK}
            self.lanes = ([{k: v for k, v in self.jobs.items() if k not in GENERATIONS}] * n
                          + [gen] * generation_workers)
        else:
            self.lanes = [self.jobs] * n          # every worker takes every kind
        self.env, self.grace_s, self.watch_s = env, grace_s, watch_s
        self.eng = engine(url)
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.log: list[str] = []      # what the supervisor did (restarts, kills), newest last

    def workers_for(self, kind: str) -> int:
        """How many of this pool's workers take ``kind`` (for a queued run's ETA)."""
        return max(1, sum(kind in jobs for jobs in self.lanes))

    def _spawn(self, jobs: dict[str, str]) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "ui.class_run_workers", "--url", self.url, "--threads", str(self.threads),
               "--parent", str(os.getpid()), "--jobs", json.dumps(jobs)]
        env = {**os.environ, **(self.env or {}), "OMP_NUM_THREADS": str(self.threads)}
        return subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL)

    def start(self) -> "Pool":
        with self._lock:
            self.procs = [self._spawn(jobs) for jobs in self.lanes]
        self._fail_orphans()
        threading.Thread(target=self._watch, name="genai-lab-class-runs", daemon=True).start()
        return self

    def _names(self) -> dict[str, subprocess.Popen]:
        host = socket.gethostname()
        return {f"{host}:{p.pid}": p for p in self.procs}

    def _fail_orphans(self, ours: frozenset[str] = frozenset()) -> None:
        """Fail the running jobs of workers that are not ``ours`` and that no process runs any more:
        on this host, a worker that no longer exists (its server was killed, or restarted); on any
        host, a job past its deadline by twice the grace (its own supervisor would have stopped it
        at once the grace; it has none left, or that host is gone)."""
        host, t = socket.gethostname(), time.time()
        with _read(self.eng) as c:
            rows = c.execute(select(jobs_t.c.id, jobs_t.c.worker, jobs_t.c.started_at, jobs_t.c.max_seconds)
                             .where(jobs_t.c.state == RUNNING)).all()
        for jid, worker, started, limit in rows:
            if worker in ours:
                continue
            h, _, pid = (worker or "").rpartition(":")
            if h == host and pid.isdigit() and not _alive(int(pid)):
                _finish(self.eng, jid, FAILED, error="its worker process is gone: the server it ran on stopped")
            elif started is not None and t > started + limit + 2 * self.grace_s:
                _finish(self.eng, jid, FAILED, error=f"it ran past its time limit ({limit:.0f} s) and its "
                                                     "worker no longer answers")

    def check(self) -> None:
        """One round of the watch: restart dead workers (failing their job), kill hung ones."""
        with self._lock:
            names = self._names()
            with _read(self.eng) as c:
                running = c.execute(select(jobs_t.c.id, jobs_t.c.worker, jobs_t.c.started_at, jobs_t.c.max_seconds)
                                    .where(jobs_t.c.state == RUNNING, jobs_t.c.worker.in_(list(names)))).all()
            by_worker = {r.worker: r for r in running}
            for name, p in names.items():
                job = by_worker.get(name)
                if p.poll() is None and job is not None and time.time() > job.started_at + job.max_seconds + self.grace_s:
                    p.kill()
                    p.wait()
                    _finish(self.eng, job.id, FAILED, error=f"it ran past its time limit ({job.max_seconds:.0f} s) "
                                                            "without stopping: its worker was stopped")
                    self.log.append(f"killed {name}: job {job.id} past its time limit")
                if p.poll() is not None:
                    if job is not None:
                        how = (f"signal {-p.returncode}" if p.returncode < 0 else f"exit code {p.returncode}")
                        _finish(self.eng, job.id, FAILED, error=f"its worker process stopped ({how})")
                    self.log.append(f"restarted {name} ({p.returncode})")
                    i = self.procs.index(p)
                    self.procs[i] = self._spawn(self.lanes[i])
            self._fail_orphans(frozenset(names))

    def _watch(self) -> None:
        while not self._stop.wait(self.watch_s):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the watch must outlive a database hiccup
                print(f"[genai-lab class runs] watch: {exc!r}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for p in self.procs:
                if p.poll() is None:
                    p.terminate()
            for p in self.procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            # a worker marks its own job failed when stopped; one that was killed could not
            names = list(self._names())
        with self.eng.begin() as c:
            c.execute(update(jobs_t).where(jobs_t.c.state == RUNNING, jobs_t.c.worker.in_(names))
                      .values(state=FAILED, finished_at=time.time(), error="the server stopped while it ran"))

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self.procs]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="A class-runs worker process (started by the web server).")
    ap.add_argument("--url", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("--jobs", default=json.dumps(JOBS))
    a = ap.parse_args(argv)

    def stopped(*_):
        raise ServerStopped("the server stopped while it ran")

    signal.signal(signal.SIGTERM, stopped)
    try:
        worker_main(a.url, json.loads(a.jobs), a.threads, a.parent)
    except ServerStopped:
        sys.exit(0)


if __name__ == "__main__":
    main()
