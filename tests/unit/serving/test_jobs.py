"""The job scheduler (ui/jobs.py): FIFO fairness, cancel, failing jobs, many threads, ETA,
the thread budget from the environment, and torch's per-thread thread count."""
import itertools
import threading
import time

import pytest

from ui import jobs


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_scheduler_module_does_not_import_streamlit():
    src = open(jobs.__file__, encoding="utf-8").read()
    assert "import streamlit" not in src and "from streamlit" not in src


def test_tickets_start_in_the_order_they_were_submitted():
    s = jobs.Scheduler(slots=1)
    a, b, c = (s.submit(o) for o in "abc")
    assert [a.state, b.state, c.state] == ["running", "queued", "queued"]
    assert s.place(b).position == 1 and s.place(c).position == 2
    s.release(a)
    assert b.state == "running" and c.state == "queued" and s.place(c).position == 1
    s.release(b)
    assert c.state == "running"
    s.release(c)
    assert s.snapshot() == {"slots": 1, "threads": 1, "running": [], "queued": []}


def test_asking_again_moves_the_learner_to_the_back_and_drops_the_old_place():
    s = jobs.Scheduler(slots=1)
    s.submit("x")
    a1, b = s.submit("a"), s.submit("b")
    a2 = s.submit("a")
    assert a1.state == "cancelled" and a1.granted.is_set()
    assert s.place(b).position == 1 and s.place(a2).position == 2


def test_cancelling_a_queued_ticket_moves_the_others_up_and_is_idempotent():
    s = jobs.Scheduler(slots=1)
    run, a, b = s.submit("r"), s.submit("a"), s.submit("b")
    s.cancel(a)
    s.cancel(a)
    assert a.state == "cancelled" and s.place(b).position == 1
    s.release(run)
    assert b.state == "running"
    s.release(run)   # releasing twice does not free a second slot
    assert s.snapshot()["running"] == [("b", "job")]


def test_a_job_that_raises_frees_its_slot_and_the_next_one_starts():
    s = jobs.Scheduler(slots=1)
    with pytest.raises(ZeroDivisionError):
        with s.slot("a", set_threads=False):
            waiting = s.submit("b")
            assert waiting.state == "queued"
            1 / 0
    assert waiting.state == "running"
    assert s.finished[-1].owner == "a" and s.finished[-1].state == "failed"


class _Rerun(BaseException):
    """Stands in for Streamlit's RerunException (a BaseException) raised while waiting."""


def test_an_interrupted_wait_leaves_the_queue():
    s = jobs.Scheduler(slots=1)
    holder = s.submit("holder")
    seen = []

    def on_wait(place):
        seen.append(place.position)
        raise _Rerun()

    with pytest.raises(_Rerun):
        with s.slot("impatient", on_wait=on_wait, poll_s=0.01, set_threads=False):
            pytest.fail("the body must not run")
    assert seen == [1]
    assert s.snapshot()["queued"] == []
    s.release(holder)
    assert s.snapshot()["running"] == []


def test_a_job_stopped_by_the_learner_frees_its_slot_and_the_next_one_starts():
    """Stop on a training page ends the script run with Streamlit's rerun exception (a
    BaseException) inside the body: the slot is freed as "stopped" and the queue moves on."""
    s = jobs.Scheduler(slots=1)
    with pytest.raises(_Rerun):
        with s.slot("a", "distillation", set_threads=False):
            waiting = s.submit("b", "forgetting")
            raise _Rerun()
    assert waiting.state == "running" and waiting.granted.is_set()
    assert [(t.owner, t.state) for t in s.finished] == [("a", "stopped")]
    assert s.snapshot() == {"slots": 1, "threads": 1, "running": [("b", "forgetting")], "queued": []}


def test_eta_counts_the_running_jobs_remaining_time_and_the_jobs_ahead():
    clock = FakeClock()
    s = jobs.Scheduler(slots=2, clock=clock)
    s.submit("r1", expected_s=30)
    clock.now = 10
    s.submit("r2", expected_s=100)
    q1, q2, q3 = s.submit("q1", expected_s=40), s.submit("q2", expected_s=50), s.submit("q3", expected_s=5)
    # r1 frees its slot at t=30 (20 s from now), r2 at t=110 (100 s from now).
    assert s.place(q1).eta_s == pytest.approx(20)    # takes r1's slot
    assert s.place(q2).eta_s == pytest.approx(60)    # q1 ends at 20 + 40
    assert s.place(q3).eta_s == pytest.approx(100)   # r2's slot (100) before q2's end (110)
    assert s.place(q3) == jobs.Place(position=3, queued=3, running=2, eta_s=pytest.approx(100))


def test_eta_learns_how_long_a_kind_of_job_takes():
    clock = FakeClock()
    s = jobs.Scheduler(slots=1, clock=clock)
    t = s.submit("a", label="ppo")
    clock.now = 12
    s.release(t)
    assert s.submit("b", label="ppo").expected_s == pytest.approx(12)
    assert s.submit("c", label="never-seen").expected_s == jobs.DEFAULT_JOB_SECONDS


def test_many_threads_never_exceed_the_slots_and_all_finish_in_fifo_order():
    # The scheduler's clock is a counter (it is read under the scheduler's lock): each ticket's
    # started_at is its place in the order of grants, whatever the OS does with the threads after.
    ticks = itertools.count()
    s = jobs.Scheduler(slots=3, clock=lambda: next(ticks))
    n = 60
    lock = threading.Lock()
    state = {"now": 0, "max": 0}
    tickets: dict[int, jobs.Ticket] = {}
    submitted: list[int] = []

    def learner(i):
        with lock:   # submit order is recorded under the same lock as submit itself
            submitted.append(i)
            tickets[i] = t = s.submit(f"learner{i}")
        s.wait(t)
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.002)
        with lock:
            state["now"] -= 1
        s.release(t)

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert len(tickets) == n and 1 <= state["max"] <= 3
    # Slots are granted strictly in submission order (FIFO).
    assert sorted(tickets, key=lambda i: tickets[i].started_at) == submitted
    assert [t.state for t in s.finished].count("done") == n
    assert s.snapshot()["running"] == [] and s.snapshot()["queued"] == []


def test_slot_waits_reports_its_place_and_starts_automatically():
    s = jobs.Scheduler(slots=1)
    holder = s.submit("holder")
    places, ran = [], threading.Event()

    def learner():
        with s.slot("me", on_wait=places.append, poll_s=0.01, set_threads=False):
            ran.set()

    t = threading.Thread(target=learner)
    t.start()
    while not places:
        time.sleep(0.005)
    assert not ran.is_set() and places[0].position == 1
    s.release(holder)
    t.join(timeout=5)
    assert ran.is_set() and s.finished[-1].state == "done"


@pytest.mark.parametrize("env,cores,gpu,want", [
    ({}, 2, False, (1, 1, 1)),
    ({}, 16, False, (15, 1, 1)),
    ({"GENAI_LAB_JOB_THREADS": "4"}, 16, False, (3, 4, 1)),
    ({"GENAI_LAB_JOB_THREADS": "4"}, 2, False, (1, 4, 1)),
    ({}, 1, False, (1, 1, 1)),
    ({}, 8, True, (jobs.GPU_SLOTS, 1, 1)),
    ({"GENAI_LAB_JOB_SLOTS": "5", "GENAI_LAB_INTERACTIVE_THREADS": "2"}, 2, False, (5, 1, 2)),
    ({"GENAI_LAB_CORES": "8"}, 2, False, (7, 1, 1)),
])
def test_budget_from_env(env, cores, gpu, want):
    b = jobs.budget_from_env(env, cores=cores, gpu=gpu)
    assert (b.slots, b.threads, b.interactive_threads) == want
    if not gpu and "GENAI_LAB_JOB_SLOTS" not in env and b.cores > 1:
        assert b.slots * b.threads <= b.cores - 1 or b.slots == 1


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_budget_rejects_bad_values_with_the_variable_name(bad):
    with pytest.raises(ValueError, match="GENAI_LAB_JOB_SLOTS"):
        jobs.budget_from_env({"GENAI_LAB_JOB_SLOTS": bad}, cores=2, gpu=False)


def test_torch_threads_is_per_thread_and_restores_the_old_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()      # the suite's one thread (tests/conftest.py), restored below
    torch.set_num_threads(2)
    seen = {}

    def job():
        with jobs.torch_threads(1):
            seen["inside"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()

    try:
        t = threading.Thread(target=job)
        t.start(); t.join()
        assert seen["inside"] == 1
        assert torch.get_num_threads() == 2   # the main thread's own count is untouched
    finally:
        torch.set_num_threads(before)


def test_format_eta():
    assert jobs.format_eta(2) == "a few seconds"
    assert jobs.format_eta(42) == "about 40 s"
    assert jobs.format_eta(600) == "about 10 min"


def test_every_class_run_kind_names_a_job_function_and_every_job_module_is_registered():
    """ui/class_runs.JOBS maps a kind to "module:function": each resolves to a function, and each
    lessons/**/*_job.py module has a kind (a page that queues a kind the workers do not know would
    fail its learner's run with a KeyError)."""
    import importlib
    from pathlib import Path

    from ui import class_runs

    for kind, path in class_runs.JOBS.items():
        mod, fn = path.split(":")
        assert callable(getattr(importlib.import_module(mod), fn)), kind
    root = Path(class_runs.ROOT)
    modules = {".".join(p.relative_to(root).with_suffix("").parts) for p in (root / "lessons").rglob("*_job.py")}
    assert modules == {p.split(":")[0] for p in class_runs.JOBS.values()}


def test_generations_have_their_own_worker_and_queue(tmp_path):
    """A learner's summary never waits behind a class's training runs: with a generation worker,
    the pool's training workers take only training kinds and the generation worker only the
    generations (class_runs.GENERATIONS); a queued generation's place counts only the generations
    ahead of it, and a generation worker claims the oldest generation, not the older PPO run.
    The quick runs (class_runs.QUICK: a reward model) go to any worker, before its lane's older runs."""
    from ui import class_run_workers as workers, class_runs as cr

    pool = workers.Pool(2, f"sqlite:///{tmp_path / 'lanes.sqlite'}", generation_workers=1)    # not started
    assert cr.QUICK and cr.QUICK <= set(cr.JOBS) - cr.GENERATIONS
    assert [set(jobs) for jobs in pool.lanes] == [set(cr.JOBS) - cr.GENERATIONS] * 2 + [set(cr.GENERATIONS | cr.QUICK)]
    assert pool.workers_for("ppo") == 2 and pool.workers_for("react") == 1 and pool.workers_for("preferences-reward") == 3
    assert [set(jobs) for jobs in workers.Pool(1, f"sqlite:///{tmp_path / 'one.sqlite'}").lanes] == [set(cr.JOBS)]

    eng = pool.eng
    ppo = cr.request("ppo", {"settings": {"seed": 1}}, "a", shareable=True, max_seconds=60, eng=eng).job
    ppo2 = cr.request("ppo", {"settings": {"seed": 2}}, "b", shareable=True, max_seconds=60, eng=eng).job
    gen = cr.request("react", {"settings": {"question": "q"}}, "c", shareable=True, max_seconds=60, eng=eng).job
    assert cr.poll(gen.id, eng=eng).position == 1 and cr.poll(ppo2.id, eng=eng).position == 2
    got = workers._claim(eng, "gen-worker", cr.lane("react"))
    assert got.id == gen.id and got.state == "running"
    assert workers._claim(eng, "gen-worker", cr.lane("react")) is None          # no other generation queued
    assert workers._claim(eng, "train-worker", cr.lane("ppo")).id == ppo.id      # FIFO among the training runs
    assert cr.poll(ppo2.id, eng=eng).position == 1 and cr.poll(ppo2.id, eng=eng).running == 1

    # a reward model pressed after ppo2 and a second generation: the next free worker of either lane takes it first
    gen2 = cr.request("react", {"settings": {"question": "q2"}}, "d", shareable=True, max_seconds=60, eng=eng).job
    rm = cr.request("preferences-reward", {"settings": {"seed": 1}}, "e", shareable=False, max_seconds=60, eng=eng).job
    assert cr.poll(rm.id, eng=eng).position == 1 and cr.poll(ppo2.id, eng=eng).position == 1
    assert workers._claim(eng, "gen-worker", cr.lane("react")).id == rm.id
    assert workers._claim(eng, "gen-worker", cr.lane("react")).id == gen2.id
    rm2 = cr.request("preferences-reward", {"settings": {"seed": 2}}, "f", shareable=False, max_seconds=60, eng=eng).job
    assert workers._claim(eng, "train-worker", cr.lane("ppo")).id == rm2.id
    assert workers._claim(eng, "train-worker", cr.lane("ppo")).id == ppo2.id


def test_an_idle_worker_never_waits_for_the_write_lock(tmp_path):
    """Idle workers poll every POLL_S: their check for a job only reads, so a page that writes (a
    poll opening, a heartbeat) never queues behind them, and they never queue behind it. Here
    another connection holds SQLite's write lock; an idle worker's claim still answers at once."""
    import sqlite3

    from ui import class_run_workers as workers, class_runs as cr

    path = tmp_path / "lock.sqlite"
    eng = cr.engine(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")                 # the write lock, held
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("job", workers._claim(eng, "w", cr.lane("ppo"))), daemon=True)
    t0 = time.perf_counter()
    t.start()
    t.join(5)
    waited = time.perf_counter() - t0
    holder.execute("ROLLBACK")
    holder.close()
    assert not t.is_alive() and got == {"job": None}, f"the idle claim waited for the write lock ({waited:.1f} s)"
    assert waited < 2
