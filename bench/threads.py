"""How do torch's CPU thread settings behave when many sessions train in threads of ONE process?

    .venv/bin/python bench/threads.py            # uses every core the machine has

The app serves every learner from threads of one Streamlit process, so the job scheduler
(ui/jobs.py) must know, measured rather than guessed:

1. scope: is torch.set_num_threads() process-wide or per Python thread? A worker thread sets
   a value, and we read it back in the main thread and in a fresh thread.
2. effect: does a parallel region in a worker use the count that the worker set, or the last
   count set anywhere? Measured as CPU-seconds / wall-seconds of a matmul loop (about 1 means
   one core busy, about 2 means two).
3. oversubscription: K threads train a small transformer at once, with torch using every core
   in each thread (the default) versus one thread each. Per-step wall and CPU time.

Prints ONE JSON object. Numbers depend on the load: run it on a quiet machine (say how loaded
yours was, e.g. with `uptime`).
"""
from __future__ import annotations

import json
import os
import threading
import time

import torch


def _cpu_ratio(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of fn()."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _matmuls(n: int = 40, size: int = 768) -> None:
    a = torch.randn(size, size)
    for _ in range(n):
        a = torch.tanh(a @ a / size ** 0.5)


def scope() -> dict:
    out: dict = {}
    torch.set_num_threads(2)
    out["main_set"] = 2

    def worker():
        out["worker_sees_before_setting"] = torch.get_num_threads()
        torch.set_num_threads(1)
        out["worker_after_setting_1"] = torch.get_num_threads()

    t = threading.Thread(target=worker)
    t.start(); t.join()
    out["main_sees_after_worker_set_1"] = torch.get_num_threads()
    fresh: dict = {}
    t = threading.Thread(target=lambda: fresh.update(v=torch.get_num_threads()))
    t.start(); t.join()
    out["fresh_thread_sees"] = fresh["v"]
    return out


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else -1


def effect() -> dict:
    """Does the count a thread sets govern that thread's parallel regions? Two load-independent
    signs: how many OS threads the process has after a worker ran a parallel region (OpenMP
    starts a team per launching thread), and CPU/wall of the matmul loop (load-dependent)."""
    res: dict = {"os_threads_at_start": _os_threads()}

    def team(n):
        torch.set_num_threads(n)
        _matmuls(4)
        res[f"os_threads_while_worker_set{n}_alive"] = _os_threads()
        time.sleep(0.2)

    for n in (1, 4):
        t = threading.Thread(target=team, args=(n,))
        t.start(); t.join()
    torch.set_num_threads(2)
    w, c = _cpu_ratio(_matmuls)
    res["main_threads2_cpu_per_wall"] = round(c / w, 2)

    def worker(n):
        torch.set_num_threads(n)
        w, c = _cpu_ratio(_matmuls)
        res[f"worker_set{n}_cpu_per_wall"] = round(c / w, 2)

    for n in (1, 2):
        t = threading.Thread(target=worker, args=(n,))
        t.start(); t.join()
    # The main thread never set 1 itself: if the worker's setting leaked, main now runs on 1.
    res["main_reads_after_workers"] = torch.get_num_threads()
    torch.set_num_threads(2)
    return res


def _tiny_transformer():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(128, 4, 256, batch_first=True, dropout=0.0)
    return torch.nn.TransformerEncoder(layer, 2)


def oversubscription(k: int, threads_each: int, steps: int = 12) -> dict:
    """k concurrent training threads; each calls torch.set_num_threads(threads_each)."""
    per_step: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(k)

    def job():
        torch.set_num_threads(threads_each)
        m = _tiny_transformer()
        opt = torch.optim.AdamW(m.parameters(), 1e-3)
        x = torch.randn(16, 64, 128)
        barrier.wait()
        for _ in range(steps):
            t = time.perf_counter()
            loss = m(x).pow(2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
            with lock:
                per_step.append(time.perf_counter() - t)

    ts = [threading.Thread(target=job) for _ in range(k)]
    w, c = time.perf_counter(), time.process_time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    per_step.sort()
    return {"jobs": k, "threads_each": threads_each, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "step_p50_s": round(per_step[len(per_step) // 2], 3),
            "steps_per_s_total": round(k * steps / wall, 2)}


def main() -> None:
    cores = os.cpu_count() or 1
    out = {"cores": cores, "torch": torch.__version__,
           "backend": torch.__config__.parallel_info().split("ATen parallel backend: ")[-1].strip(),
           "load_avg_before": os.getloadavg()[0]}
    out["scope"] = scope()
    out["effect"] = effect()
    oversubscription(1, 1, steps=3)  # warm-up (allocator, kernels)
    runs = []
    for k in (1, 3):
        for n in (cores, 1):
            torch.set_num_threads(cores)
            best = min((oversubscription(k, n) for _ in range(2)), key=lambda r: r["wall_s"])
            runs.append(best)
    out["oversubscription"] = runs
    out["load_avg_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
