"""What following a class run costs the web process (ui/class_runs.py): the progress database
is the queue, the stream and the record store, so each follower's page reads it every
``class_run_page.follow`` poll (0.5 s) and writes a heartbeat every 5 s. This measures those reads and
writes on the real database (SQLite by default; ``--url`` for Postgres), with a job of 60 PPO
steps' rows (samples included) and N followers, from N threads at once as the server's sessions
do, and prints ONE JSON object:

* poll_ms_p50 / _p95: one follower's poll (the job, its new rows, its followers, its place);
* poll_cpu_ms: CPU per poll; heartbeat_ms_p50 / _p95: one heartbeat write;
* web_cpu_share_at_n: the share of one core that N followers polling every 0.5 s take;
* request_ms_p50: a Train press that joins the running job.

    .venv/bin/python bench/class_runs.py --followers 30
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui import class_runs as cr  # noqa: E402

POLL_S = 0.5


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--followers", type=int, default=30)
    ap.add_argument("--polls", type=int, default=40, help="polls per follower")
    ap.add_argument("--url", help="a database URL (default: a fresh SQLite file)")
    ap.add_argument("--save", action="store_true", help="merge the figures into assets/measured/class_runs.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        eng = cr.engine(a.url or f"sqlite:///{tmp}/bench.sqlite")
        spec = {"bench": True, "n": a.followers}
        job = cr.request("ppo", spec, "f0", shareable=True, max_seconds=300, eng=eng).job
        sample = [["My lord,", " sir matter and more words here", -0.74]] * 6
        with eng.begin() as c:        # 60 steps of PPO rows, samples included, as a worker writes them
            for i in range(60):
                c.execute(cr.rows_t.insert().values(job=job.id, row=cr.canonical(
                    {"step": i + 1, "seconds": 0.6 * i, "reward": 0.1 * i, "kl": 0.2 * i, "samples": sample})))
        joins = []
        for i in range(1, a.followers):
            t = time.perf_counter()
            cr.request("ppo", spec, f"f{i}", shareable=True, max_seconds=300, eng=eng)
            joins.append((time.perf_counter() - t) * 1000)
        polls, cpus, beats = [], [], []
        lock = threading.Lock()

        def follower(i: int) -> None:
            seen = 0
            for k in range(a.polls):
                t, c0 = time.perf_counter(), time.thread_time()
                p = cr.poll(job.id, since=seen, eng=eng)
                seen += len(p.rows)
                took, cpu = (time.perf_counter() - t) * 1000, (time.thread_time() - c0) * 1000
                hb = None
                if k % 10 == 0:
                    t = time.perf_counter()
                    cr.heartbeat(job.id, f"f{i}", eng=eng)
                    hb = (time.perf_counter() - t) * 1000
                with lock:
                    polls.append(took)
                    cpus.append(cpu)
                    if hb is not None:
                        beats.append(hb)
                time.sleep(POLL_S)
        w0, c0 = time.perf_counter(), time.process_time()
        threads = [threading.Thread(target=follower, args=(i,)) for i in range(a.followers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    out = {"followers": a.followers, "polls": len(polls), "db": "sqlite" if not a.url else a.url.split(":")[0],
           "poll_ms_p50": pct(polls, 0.5), "poll_ms_p95": pct(polls, 0.95), "poll_cpu_ms": round(statistics.mean(cpus), 3),
           "heartbeat_ms_p50": pct(beats, 0.5), "heartbeat_ms_p95": pct(beats, 0.95),
           "request_ms_p50": pct(joins, 0.5) if joins else None,
           "web_cpu_share_at_n": round(cpu / wall, 3), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "cores": os.cpu_count(), "load_avg_1m_end": round(os.getloadavg()[0], 2)}
    print(json.dumps(out))
    if a.save:
        from bench._timing import save

        save("class_runs", f"{a.followers} followers", out, "bench/class_runs.py --save")


if __name__ == "__main__":
    main()
