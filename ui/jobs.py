"""The server's budget for training runs and long generations (plain Python: no streamlit here):
how many run at once (the class-run worker processes, ui/class_runs.ensure_workers) and on how
many torch CPU threads each, so that all of them together use at most ``cores - 1`` threads on a
CPU and one core stays free for everybody's slider reruns.

Why threads are budgeted per job (measured with bench/threads.py, torch 2.13, OpenMP):
``torch.set_num_threads`` acts on the CALLING thread (its OpenMP team), and a thread that
never called it starts with the last value set anywhere in the process. Without a budget,
every session's torch uses every core, the OpenMP teams spin-wait on each other, and a
PPO step took 26x longer on a loaded 2-core server. So a worker runs its jobs on ``threads``
threads, and every script run starts with ``interactive_threads`` (ui/runtime.py).

Configuration (environment variables, read once when the budget is first used):

* ``GENAI_LAB_JOB_SLOTS``: training workers, the runs that train at once (default: CPU
  ``max(1, (cores-1) // threads)``, GPU ``4``).
* ``GENAI_LAB_JOB_THREADS``: torch CPU threads per job (default 1).
* ``GENAI_LAB_INTERACTIVE_THREADS``: torch threads for an ordinary rerun (default 1).
* ``GENAI_LAB_CORES``: cores to plan for (default: the CPUs this process may use).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

GPU_SLOTS = 4


# --------------------------------------------------------------------------- budget
@dataclass(frozen=True)
class Budget:
    slots: int
    threads: int               # torch threads per job
    interactive_threads: int   # torch threads for an ordinary script run
    cores: int
    gpu: bool

    def describe(self) -> str:
        where = "GPU" if self.gpu else f"{self.cores} CPU cores"
        return (f"{self.slots} training slot{'s' if self.slots != 1 else ''} × {self.threads} "
                f"torch thread{'s' if self.threads != 1 else ''} on {where}")


def _env_int(env, name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # macOS, Windows
        return os.cpu_count() or 1


def budget_from_env(env=None, *, cores: int | None = None, gpu: bool | None = None) -> Budget:
    """The slots and threads this server uses (see the module docstring for the variables)."""
    env = os.environ if env is None else env
    cores = _env_int(env, "GENAI_LAB_CORES", cores or usable_cores())
    if gpu is None:
        gpu = _has_gpu()
    threads = _env_int(env, "GENAI_LAB_JOB_THREADS", 1)
    default_slots = GPU_SLOTS if gpu else max(1, (cores - 1) // threads)
    return Budget(slots=_env_int(env, "GENAI_LAB_JOB_SLOTS", default_slots), threads=threads,
                  interactive_threads=_env_int(env, "GENAI_LAB_INTERACTIVE_THREADS", 1),
                  cores=cores, gpu=gpu)


def _has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


# --------------------------------------------------------------------------- the server's one
_BUDGET: Budget | None = None
_INIT = threading.Lock()


def budget() -> Budget:
    global _BUDGET
    with _INIT:
        if _BUDGET is None:
            _BUDGET = budget_from_env()
        return _BUDGET


def format_eta(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    if seconds < 90:
        return f"about {int(round(seconds / 5.0) * 5)} s"
    return f"about {int(round(seconds / 60.0))} min"
