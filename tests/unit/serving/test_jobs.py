"""The server's job budget (ui/jobs.py: slots and threads from the environment, the ETA wording),
torch's per-thread thread count (lessons/core/threads.py), and the class runs' job registry and
worker lanes (ui/class_runs.py, ui/class_run_workers.py)."""
import threading
import time

import pytest

from lessons.core.threads import torch_threads
from ui import jobs


def test_the_budget_module_does_not_import_streamlit():
    src = open(jobs.__file__, encoding="utf-8").read()
    assert "import streamlit" not in src and "from streamlit" not in src


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
        with torch_threads(1):
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
