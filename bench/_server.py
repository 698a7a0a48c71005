"""The measured server's processes for the classroom bench (bench/classroom.py): the resident
memory of the web processes and of the class-run workers they started, sampled while learners
act, and the workers' CPU at the end."""
from __future__ import annotations

import threading


class RssSampler(threading.Thread):
    """The server's resident memory (summed over its replicas' processes), sampled every 0.5 s."""

    def __init__(self, pid: int | list[int] | None):
        super().__init__(daemon=True)
        self.pids = [] if pid is None else [pid] if isinstance(pid, int) else list(pid)
        self.pid = self.pids[0] if self.pids else None
        self.peak, self.stop = 0.0, threading.Event()

    def now(self) -> float | None:
        if not self.pids:
            return None
        import psutil

        total = 0
        for p in self.pids:
            try:
                total += psutil.Process(p).memory_info().rss
            except psutil.NoSuchProcess:      # a restarted worker: its successor is not counted
                continue
        return total / 2**20

    def run(self):
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, self.now() or 0.0)


def workers(pids: list[int]) -> list:
    """The class-run worker processes the servers ``pids`` started (their children)."""
    import psutil

    return [w for p in pids for w in psutil.Process(p).children(recursive=True) if w.is_running()]


def workers_cpu(pids: list[int]) -> dict:
    alive = workers(pids)
    return {"workers": len(alive), "workers_cpu_s": round(sum(sum(w.cpu_times()[:2]) for w in alive), 1)}
