"""Class runs (ui/class_runs.py, ui/class_run_workers.py): PPO jobs in real worker processes on a real SQLite database.
Identical settings join one run; a run is deterministic (two runs of one key give the same
history); a whole run is kept as a record and shown again, a corrupt record is discarded; a
follower's Stop leaves the run and the last one out stops it; a worker killed mid-run or hung
past its deadline fails its job with the reason and the pool goes on; a full queue refuses."""
import json
import os
import signal
import time

import pytest
from sqlalchemy import select, update

from lessons.rlhf import ppo_job, recorded
from ui import class_run_workers as workers, class_runs as cr

pytestmark = pytest.mark.slow
SMALL = dict(steps=3, batch_size=8)        # a short PPO run: a few seconds on one thread
HANG = "tests.unit.serving.hang_job:run"


@pytest.fixture(scope="module")
def lab():
    return ppo_job.lab()


@pytest.fixture()
def pool(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    monkeypatch.setenv("GENAI_LAB_CACHE", str(tmp_path / "cache"))
    p = workers.Pool(1, url, threads=1, jobs={**cr.JOBS, "hang": HANG}, grace_s=1.0, watch_s=0.2,
                env={"GENAI_LAB_CACHE": str(tmp_path / "cache")}).start()
    yield p
    p.close()


def spec_of(lab, **over):
    s = recorded.ppo_settings(**{**SMALL, **over})
    return ppo_job.spec(s, 300, "one-click", lab.fingerprints(s), 1)


def wait_end(pool, job_id, timeout=240):
    t = time.time()
    while time.time() - t < timeout:
        p = cr.poll(job_id, eng=pool.eng)
        for f in ("a", "b"):     # keep the followers' heartbeat alive, as a page does while it polls
            cr.heartbeat(job_id, f, eng=pool.eng)
        if not p.job.active:
            return p
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def wait_for(condition, timeout: float) -> None:
    t = time.time()
    while not condition():
        assert time.time() - t < timeout, f"not within {timeout} s"
        time.sleep(0.2)


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_the_engine_module_does_not_import_streamlit():
    src = open(cr.__file__, encoding="utf-8").read()
    assert "import streamlit" not in src and "from streamlit" not in src


def test_same_settings_join_one_run_and_a_whole_run_is_replayed_from_its_record(pool, lab):
    spec = spec_of(lab)
    a = cr.request("ppo", spec, "a", shareable=True, max_seconds=300, eng=pool.eng)
    b = cr.request("ppo", spec, "b", shareable=True, max_seconds=300, eng=pool.eng)
    assert a.job.id == b.job.id and b.joined and not a.joined
    assert cr.poll(a.job.id, eng=pool.eng).followers == 2
    other = cr.request("ppo", spec_of(lab, seed=1), "c", shareable=True, max_seconds=300, eng=pool.eng)
    assert other.job.id != a.job.id                    # other settings: never merged
    end = wait_end(pool, a.job.id)
    assert end.job.state == "done" and end.job.stopped_by == "steps", end.job.error
    rows = cr.poll(a.job.id, eng=pool.eng).rows
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[0]["samples"]
    assert end.job.result["run"]["history"] == rows          # the stream and the result agree
    assert os.path.isfile(end.job.result["weights"])
    # the trained weights load into a session's private copy and differ from the shared model
    pol = ppo_job.load_policy(end.job.result, lab.base, seed=0)
    name, w = next((n, p) for n, p in pol.lm.named_parameters() if "h.0.attn" in n)
    assert not bool((w == dict(lab.base.model.named_parameters())[name]).all())
    # the same key again: the record, at once, with the same history
    again = cr.request("ppo", spec, "d", shareable=True, max_seconds=300, eng=pool.eng)
    assert again.job is None and again.record.result["run"]["history"] == rows
    # a corrupt record is discarded, never shown: the next request queues a new run
    with pool.eng.begin() as c:
        c.execute(update(cr.records_t).values(text=cr.records_t.c.text + "x"))
    fresh = cr.request("ppo", spec, "e", shareable=True, max_seconds=300, eng=pool.eng)
    assert fresh.record is None and fresh.job is not None and fresh.job.state == "queued"
    with pool.eng.connect() as c:
        assert c.execute(select(cr.records_t.c.key)).all() == []
    cr.leave_all("e", eng=pool.eng)
    cr.leave_all("c", eng=pool.eng)


def test_one_key_run_twice_gives_the_same_history_step_for_step(pool, lab):
    spec = spec_of(lab)
    # not shareable: each learner's own key, so the second is a second run, not a join
    a = cr.request("ppo", spec, "a", shareable=False, max_seconds=300, eng=pool.eng)
    b = cr.request("ppo", spec, "b", shareable=False, max_seconds=300, eng=pool.eng)
    assert a.job.id != b.job.id
    ra, rb = wait_end(pool, a.job.id), wait_end(pool, b.job.id)
    assert ra.job.state == rb.job.state == "done"
    ha, hb = ra.job.result["run"]["history"], rb.job.result["run"]["history"]
    assert len(ha) == 3 and without_seconds(ha) == without_seconds(hb)   # bit-identical floats (JSON repr)


def test_a_dpo_run_twice_gives_the_same_curve_and_table_and_own_pairs_are_never_merged(pool, lab):
    """The DPO page's job (lessons/rlhf/dpo_job.py): one key run twice in two sessions gives the
    same DPO curve, PPO rows and judged table; a learner's own pairs are another key."""
    from lessons.rlhf import dpo_job

    s = {**recorded.dpo_settings(epochs=1), "ppo_steps": 2}
    spec = dpo_job.spec(s, 300, "one-click", "one-click", lab.fingerprints(s), 1)
    a = cr.request("dpo", spec, "a", shareable=False, max_seconds=600, eng=pool.eng)
    b = cr.request("dpo", spec, "b", shareable=False, max_seconds=600, eng=pool.eng)
    ra, rb = wait_end(pool, a.job.id, 400), wait_end(pool, b.job.id, 400)
    assert ra.job.state == rb.job.state == "done" and ra.job.result["stopped"] == "steps"
    ja, jb = ra.job.result, rb.job.result
    steps = recorded.dpo_steps_per_epoch()
    assert [r["step"] for r in ja["history"] + ja["ppo_history"]] == list(range(1, steps + 3))
    assert without_seconds(ja["history"]) == without_seconds(jb["history"])          # bit-identical floats (JSON)
    assert without_seconds(ja["ppo_history"]) == without_seconds(jb["ppo_history"])
    assert [r["method"] for r in ja["rows"]] == ["starting model π_ref", "DPO (β = 0.1)", "PPO (β = 0.3)"]
    assert without_seconds(ja["rows"]) == without_seconds(jb["rows"])
    assert [r["steps"] for r in ja["rows"][1:]] == [steps, 2]
    # the same pairs, given as the learner's own list (one dropped): another key, never the one-click run
    own = dpo_job.spec(s, 300, "one-click", lab.pairs[1:], lab.fingerprints(s), 1)
    assert len(own["pairs"]) == 299 and own["pairs"][0][:3] == list(vars(lab.pairs[1]).values())[:3]
    assert cr.job_key("dpo", own) != cr.job_key("dpo", spec)

    # Stop (the last follower leaves) during DPO: the partly trained policy is judged, no PPO runs
    s = {**recorded.dpo_settings(epochs=10), "ppo_steps": 40}
    j = cr.request("dpo", dpo_job.spec(s, 300, "one-click", "one-click", lab.fingerprints(s), 1), "a",
                   shareable=True, max_seconds=600, eng=pool.eng).job
    wait_for(lambda: len(cr.poll(j.id, eng=pool.eng).rows) >= 3, 120)
    cr.leave(j.id, "a", eng=pool.eng)
    p = wait_end(pool, j.id)
    res = p.job.result
    assert p.job.state == "stopped" and res["dpo_stopped"] == "stopped" and res["ppo_history"] == []
    n = len(res["history"])
    assert 3 <= n < 10 * steps == res["steps_planned"]
    assert [(r["method"], r.get("steps")) for r in res["rows"]] == [("starting model π_ref", None), ("DPO (β = 0.1)", n)]


def test_stop_leaves_the_run_for_the_others_and_the_last_one_out_stops_it(pool, lab):
    j = cr.request("ppo", spec_of(lab, steps=200), "a", shareable=True, max_seconds=300, eng=pool.eng).job
    cr.request("ppo", spec_of(lab, steps=200), "b", shareable=True, max_seconds=300, eng=pool.eng)
    wait_for(lambda: len(cr.poll(j.id, eng=pool.eng).rows) >= 2, 120)
    cr.leave(j.id, "a", eng=pool.eng)
    n = len(cr.poll(j.id, eng=pool.eng).rows)
    time.sleep(3)
    p = cr.poll(j.id, eng=pool.eng)
    assert p.job.state == "running" and len(p.rows) > n and p.followers == 1    # goes on for b
    cr.leave(j.id, "b", eng=pool.eng)
    wait_for(lambda: not cr.poll(j.id, eng=pool.eng).job.active, 30)
    p = cr.poll(j.id, eng=pool.eng)
    assert p.job.state == "stopped" and p.job.stopped_by == "stopped" and len(p.rows) < 200
    with pool.eng.connect() as c:                       # a stopped run is not a record
        assert c.execute(select(cr.records_t.c.key)).all() == []


def test_a_closed_tab_stops_heartbeating_and_its_run_stops(pool, lab):
    j = cr.request("ppo", spec_of(lab, steps=200), "a", shareable=True, max_seconds=300, eng=pool.eng).job
    wait_for(lambda: len(cr.poll(j.id, eng=pool.eng).rows) >= 1, 120)
    with pool.eng.begin() as c:     # the tab closed FOLLOWER_TTL_S ago: no heartbeat since
        c.execute(update(cr.followers_t).values(seen_at=time.time() - cr.FOLLOWER_TTL_S - 1))
    wait_for(lambda: not cr.poll(j.id, eng=pool.eng).job.active, 30)
    assert cr.poll(j.id, eng=pool.eng).job.state == "stopped"


def test_a_killed_worker_fails_its_job_with_the_reason_and_the_next_job_runs(pool, lab):
    j = cr.request("ppo", spec_of(lab, steps=200), "a", shareable=True, max_seconds=300, eng=pool.eng).job
    wait_for(lambda: len(cr.poll(j.id, eng=pool.eng).rows) >= 1, 120)
    victim = pool.pids()[0]
    os.kill(victim, signal.SIGKILL)
    end = wait_end(pool, j.id, timeout=30)
    assert end.job.state == "failed" and "worker process stopped (signal 9)" in end.job.error
    assert pool.pids()[0] != victim and any("restarted" in line for line in pool.log)
    nxt = cr.request("ppo", spec_of(lab, seed=3), "b", shareable=True, max_seconds=300, eng=pool.eng).job
    assert wait_end(pool, nxt.id).job.state == "done"


def test_a_hung_job_is_stopped_at_its_deadline_and_frees_the_worker(pool, lab):
    j = cr.request("hang", {"n": 1}, "a", shareable=True, max_seconds=2, eng=pool.eng).job
    end = wait_end(pool, j.id, timeout=60)
    assert end.job.state == "failed" and "ran past its time limit (2 s)" in end.job.error
    nxt = cr.request("ppo", spec_of(lab, seed=4), "b", shareable=True, max_seconds=300, eng=pool.eng).job
    assert wait_end(pool, nxt.id).job.state == "done"


def test_a_full_queue_refuses_with_a_message(tmp_path, monkeypatch, lab):
    eng = cr.engine(f"sqlite:///{tmp_path / 'q.sqlite'}")       # no workers: everything waits
    monkeypatch.setattr(cr, "MAX_QUEUED", 2)
    for i in range(2):
        cr.request("ppo", spec_of(lab, seed=10 + i), f"l{i}", shareable=True, max_seconds=300, eng=eng)
    with pytest.raises(cr.QueueFull, match="queue is full"):
        cr.request("ppo", spec_of(lab, seed=99), "late", shareable=True, max_seconds=300, eng=eng)
    # joining a waiting run needs no new place: still possible
    assert cr.request("ppo", spec_of(lab, seed=10), "late", shareable=True, max_seconds=300, eng=eng).joined
    assert cr.poll(1, eng=eng).position == 1


def test_a_learner_holds_one_run_at_a_time_and_a_queued_run_nobody_follows_is_dropped(tmp_path, lab):
    eng = cr.engine(f"sqlite:///{tmp_path / 'q.sqlite'}")
    first = cr.request("ppo", spec_of(lab, seed=1), "a", shareable=True, max_seconds=300, eng=eng).job
    cr.request("ppo", spec_of(lab, seed=2), "a", shareable=True, max_seconds=300, eng=eng)
    assert cr.poll(first.id, eng=eng).followers == 0          # asking again left the first run
    got = workers._claim(eng, "test:1", cr.lane("ppo"))
    assert got.id != first.id and cr.poll(first.id, eng=eng).job.state == "stopped"
    assert json.loads(json.dumps(got.result)) is None


def test_a_broadcast_is_its_own_run_learners_follow_it_and_only_its_starter_stops_it(tmp_path, lab):
    eng = cr.engine(f"sqlite:///{tmp_path / 'q.sqlite'}")
    spec = spec_of(lab)
    learner = cr.request("ppo", spec, "learner", shareable=True, max_seconds=300, eng=eng).job
    air = cr.request("ppo", spec, "teacher", shareable=True, max_seconds=300, broadcast=True, eng=eng).job
    assert air.id != learner.id and air.broadcast and not air.shareable      # never merged with a learner's
    assert cr.broadcasts("ppo", eng=eng).id == air.id
    cr.follow_broadcast(air.id, "watcher", eng=eng)
    assert cr.followers(air.id, eng=eng) == 2 and cr.followers(air.id, eng=eng, controlling=True) == 1
    cr.leave(air.id, "watcher", eng=eng)                       # a watcher's Stop: the run goes on
    assert cr.followers(air.id, eng=eng, controlling=True) == 1
    cr.follow_broadcast(air.id, "watcher", eng=eng)
    cr.leave(air.id, "teacher", eng=eng)                       # the teacher's Stop: nobody controls it
    assert cr.followers(air.id, eng=eng, controlling=True) == 0 and cr.followers(air.id, eng=eng) == 1
    with pytest.raises(ValueError, match="broadcast"):
        cr.follow_broadcast(learner.id, "snoop", eng=eng)     # a learner's run cannot be followed by its id


def test_finished_runs_are_pruned_and_a_pruned_run_is_gone(tmp_path, lab):
    eng = cr.engine(f"sqlite:///{tmp_path / 'q.sqlite'}")
    old = cr.request("ppo", spec_of(lab, seed=1), "a", shareable=True, max_seconds=300, eng=eng).job
    with eng.begin() as c:
        c.execute(cr.rows_t.insert().values(job=old.id, row='{"step": 1}'))
        c.execute(update(cr.jobs_t).where(cr.jobs_t.c.id == old.id).values(
            state="done", finished_at=time.time() - cr.KEEP_FINISHED_S - 1))
    cr.request("ppo", spec_of(lab, seed=2), "b", shareable=True, max_seconds=300, eng=eng)   # a new run prunes
    with pytest.raises(cr.Gone):
        cr.poll(old.id, eng=eng)
    with eng.connect() as c:
        assert c.execute(select(cr.rows_t.c.id).where(cr.rows_t.c.job == old.id)).all() == []


def test_make_run_starts_the_workers_with_the_app_and_none_outlive_it(tmp_path):
    """scripts/serve.py (what `make run` runs) starts the class-run workers in the server's
    process; when the server stops (SIGTERM, or killed outright) no worker is left behind."""
    import psutil

    from tests.e2e.server import streamlit_server

    for how in ("terminate", "kill"):
        env = {"GENAI_LAB_DB_URL": f"sqlite:///{tmp_path / how}.sqlite"}
        with streamlit_server(timeout=180, env=env) as (_url, proc):
            workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
                       if "ui.class_run_workers" in " ".join(c.cmdline())]
            assert len(workers) >= 1
            getattr(proc, how)()
            proc.wait(30)
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], f"workers left after the server was {how}ed: {[p.pid for p in alive]}"


def test_a_stopping_server_fails_the_run_its_worker_ran_with_the_reason(pool, lab):
    """A server that stops (its pool closes: SIGTERM to its workers) leaves no run marked running
    for its followers to wait on: the worker marks its job failed and says why."""
    j = cr.request("ppo", spec_of(lab, steps=200), "a", shareable=True, max_seconds=300, eng=pool.eng).job
    wait_for(lambda: len(cr.poll(j.id, eng=pool.eng).rows) >= 1, 120)
    pool.close()
    end = cr.poll(j.id, eng=pool.eng)
    assert end.job.state == "failed" and "the server stopped while it ran" in end.job.error


def test_a_worker_whose_server_is_gone_fails_its_run_and_exits(tmp_path, lab):
    """The server is killed outright (no SIGTERM reaches its workers): the worker sees its parent
    gone at its next step, marks its job failed with the reason, and exits."""
    import subprocess
    import sys

    import psutil

    url = f"sqlite:///{tmp_path / 'q.sqlite'}"
    eng = cr.engine(url)
    j = cr.request("ppo", spec_of(lab, steps=200), "a", shareable=True, max_seconds=300, eng=eng).job
    # a stand-in server: a process whose child is the worker
    server = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-m', 'ui.class_run_workers', "
        f"'--url', {url!r}, '--parent', str(os.getpid())]); time.sleep(600)")],
        cwd=str(cr.ROOT), env={**os.environ, "GENAI_LAB_CACHE": str(tmp_path / "cache")})
    def started() -> bool:
        cr.heartbeat(j.id, "a", eng=eng)       # the follower's page is open while the worker starts
        return len(cr.poll(j.id, eng=eng).rows) >= 1

    try:
        wait_for(started, 120)
        worker = psutil.Process(server.pid).children()[0]
    finally:
        server.kill()
        server.wait()
    wait_for(lambda: not cr.poll(j.id, eng=eng).job.active, 30)
    end = cr.poll(j.id, eng=eng)
    assert end.job.state == "failed" and "the server it ran on stopped" in end.job.error
    assert psutil.wait_procs([worker], timeout=15)[1] == []


def test_a_supervisor_fails_runs_that_no_process_runs_any_more(tmp_path, lab):
    """Another server on this host was killed with its workers (its own supervisor is gone too),
    or a worker on another host stopped answering: a running supervisor fails their jobs, so
    their followers see why instead of waiting."""
    import socket
    import subprocess
    import sys

    eng = cr.engine(f"sqlite:///{tmp_path / 'q.sqlite'}")
    here = cr.request("ppo", spec_of(lab, seed=1), "a", shareable=True, max_seconds=300, eng=eng).job
    away = cr.request("ppo", spec_of(lab, seed=2), "b", shareable=True, max_seconds=300, eng=eng).job
    late = cr.request("ppo", spec_of(lab, seed=3), "c", shareable=True, max_seconds=300, eng=eng).job
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    t = time.time()
    with eng.begin() as c:
        for job, worker, started in ((here, f"{socket.gethostname()}:{dead.pid}", t),
                                     (away, "elsewhere:1", t), (late, "elsewhere:2", t - 300 - 10)):
            c.execute(update(cr.jobs_t).where(cr.jobs_t.c.id == job.id)
                      .values(state="running", worker=worker, started_at=started))
    workers.Pool(0, str(eng.url), grace_s=1.0).check()
    states = {j.id: cr.poll(j.id, eng=eng).job for j in (here, away, late)}
    assert states[here.id].state == "failed" and "its worker process is gone" in states[here.id].error
    assert states[away.id].state == "running"           # another host's live run: left to its own supervisor
    assert states[late.id].state == "failed" and "no longer answers" in states[late.id].error
