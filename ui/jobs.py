"""One job scheduler for every training run and long generation on a server (plain Python:
no streamlit here; the page glue is ``ui.runtime.training_slot``).

A fair FIFO queue per process: a job waits for one of ``slots`` slots, in the order the
learners asked; no one is refused. Each job then runs its torch work on ``threads`` CPU
threads, so that all jobs together use at most ``cores - 1`` threads on a CPU and one core
stays free for everybody's slider reruns.

Why threads are budgeted per job (measured with bench/threads.py, torch 2.13, OpenMP):
``torch.set_num_threads`` acts on the CALLING thread (its OpenMP team), and a thread that
never called it starts with the last value set anywhere in the process. Without a budget,
every session's torch uses every core, the OpenMP teams spin-wait on each other, and a
PPO step took 26x longer on a loaded 2-core server. So: a job sets its own count on entry and
puts the old one back on exit, and every script run starts with ``interactive_threads``.

Configuration (environment variables, read once when the scheduler is first used):

* ``GENAI_LAB_JOB_SLOTS``: jobs that run at once (default: CPU ``max(1, (cores-1) // threads)``,
  GPU ``4``).
* ``GENAI_LAB_JOB_THREADS``: torch CPU threads per job (default 1).
* ``GENAI_LAB_INTERACTIVE_THREADS``: torch threads for an ordinary rerun (default 1).
* ``GENAI_LAB_CORES``: cores to plan for (default: the CPUs this process may use).
"""
from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from lessons.core.threads import torch_threads

DEFAULT_JOB_SECONDS = 60.0   # ETA for a job kind never seen before (and no estimate given)
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


# --------------------------------------------------------------------------- tickets
QUEUED, RUNNING, DONE, FAILED, STOPPED, CANCELLED = "queued", "running", "done", "failed", "stopped", "cancelled"


@dataclass
class Ticket:
    """One learner's request for a slot."""
    id: int
    owner: str
    label: str
    expected_s: float
    enqueued_at: float
    state: str = QUEUED
    started_at: float | None = None
    finished_at: float | None = None
    granted: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    @property
    def waited_s(self) -> float | None:
        return None if self.started_at is None else self.started_at - self.enqueued_at


@dataclass(frozen=True)
class Place:
    """Where a queued ticket stands: 1-based position, the queue length, seconds to start."""
    position: int
    queued: int
    running: int
    eta_s: float


class Scheduler:
    """Fair FIFO queue over ``slots`` slots. Thread-safe; every method is cheap.

    Fairness: tickets start strictly in the order they were submitted, and one learner
    (``owner``) holds at most one queued ticket: asking again moves them to the back.
    """

    def __init__(self, slots: int, threads: int = 1, *, clock: Callable[[], float] = time.monotonic):
        if slots < 1 or threads < 1:
            raise ValueError("slots and threads must be at least 1")
        self.slots, self.threads, self._clock = slots, threads, clock
        self._lock = threading.Lock()
        self._queue: deque[Ticket] = deque()
        self._running: dict[int, Ticket] = {}
        self._ids = itertools.count(1)
        self._typical: dict[str, float] = {}      # label -> moving average of run seconds
        self.finished: deque[Ticket] = deque(maxlen=200)   # recent history (for a teacher view)

    # ---- core operations
    def submit(self, owner: str, label: str = "job", expected_s: float | None = None) -> Ticket:
        """Join the back of the queue; starts at once when a slot is free."""
        with self._lock:
            for old in [t for t in self._queue if t.owner == owner]:
                self._queue.remove(old)
                self._finish(old, CANCELLED)
            if expected_s is None or expected_s <= 0:
                expected_s = self._typical.get(label, DEFAULT_JOB_SECONDS)
            t = Ticket(next(self._ids), owner, label, float(expected_s), self._clock())
            self._queue.append(t)
            self._grant()
            return t

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until the ticket runs (True) or ``timeout`` passes (False)."""
        ticket.granted.wait(timeout)
        return ticket.state == RUNNING

    def release(self, ticket: Ticket, outcome: str = DONE) -> None:
        """End a ticket: frees its slot if it ran (``outcome``: done, failed or stopped), leaves
        the queue if it waited. Idempotent."""
        with self._lock:
            if ticket.state == RUNNING:
                self._running.pop(ticket.id, None)
                self._finish(ticket, outcome)
                if outcome == DONE:   # only whole runs teach us how long a job takes
                    took = ticket.finished_at - ticket.started_at
                    avg = self._typical.get(ticket.label)
                    self._typical[ticket.label] = took if avg is None else 0.7 * avg + 0.3 * took
            elif ticket.state == QUEUED:
                self._queue.remove(ticket)
                self._finish(ticket, CANCELLED)
            self._grant()

    cancel = release

    def place(self, ticket: Ticket) -> Place | None:
        """Position and ETA of a queued ticket (None once it runs or ended)."""
        with self._lock:
            if ticket.state != QUEUED:
                return None
            now = self._clock()
            free = [max(t.started_at + t.expected_s - now, 1.0) for t in self._running.values()]
            free += [0.0] * (self.slots - len(free))
            heapq.heapify(free)
            eta = 0.0
            for i, t in enumerate(self._queue):
                eta = heapq.heappop(free)
                if t is ticket:
                    return Place(i + 1, len(self._queue), len(self._running), eta)
                heapq.heappush(free, eta + t.expected_s)
            return None   # unreachable: a QUEUED ticket is in the queue

    def snapshot(self) -> dict:
        with self._lock:
            return {"slots": self.slots, "threads": self.threads,
                    "running": [(t.owner, t.label) for t in self._running.values()],
                    "queued": [(t.owner, t.label) for t in self._queue]}

    # ---- the one way pages use it
    @contextmanager
    def slot(self, owner: str, label: str = "job", expected_s: float | None = None, *,
             on_wait: Callable[[Place], None] | None = None, poll_s: float = 1.0,
             set_threads: bool = True) -> Iterator[Ticket]:
        """Wait in the queue (calling ``on_wait(place)`` every ``poll_s`` while waiting), run
        the body with the job's torch threads, and free the slot however the body ends. An
        exception raised by ``on_wait`` (Streamlit's rerun/stop) leaves the queue."""
        ticket = self.submit(owner, label, expected_s)
        outcome = STOPPED
        try:
            while not self.wait(ticket, poll_s):
                if ticket.state != QUEUED:   # replaced by a newer ticket of the same owner
                    raise Cancelled("a newer request from the same learner replaced this one")
                where = self.place(ticket)
                if on_wait is not None and where is not None:
                    on_wait(where)
            if set_threads:
                with torch_threads(self.threads):
                    yield ticket
            else:
                yield ticket
            outcome = DONE
        except Exception:
            outcome = FAILED
            raise
        finally:   # also on Streamlit's rerun/stop, which are BaseExceptions: "stopped"
            self.release(ticket, outcome)

    # ---- internals (lock held)
    def _grant(self) -> None:
        while self._queue and len(self._running) < self.slots:
            t = self._queue.popleft()
            t.state, t.started_at = RUNNING, self._clock()
            self._running[t.id] = t
            t.granted.set()

    def _finish(self, t: Ticket, state: str) -> None:
        t.state, t.finished_at = state, self._clock()
        t.granted.set()   # wake a waiter so that it sees the new state
        self.finished.append(t)


class Cancelled(Exception):
    """The learner's place in the queue was given up."""


# --------------------------------------------------------------------------- the server's one
_SCHEDULER: Scheduler | None = None
_BUDGET: Budget | None = None
_INIT = threading.Lock()


def budget() -> Budget:
    global _BUDGET
    with _INIT:
        if _BUDGET is None:
            _BUDGET = budget_from_env()
        return _BUDGET


def scheduler() -> Scheduler:
    """The process-wide scheduler (built from the environment on first use)."""
    global _SCHEDULER
    b = budget()
    with _INIT:
        if _SCHEDULER is None:
            _SCHEDULER = Scheduler(b.slots, b.threads)
        return _SCHEDULER


def format_eta(seconds: float) -> str:
    if seconds < 5:
        return "a few seconds"
    if seconds < 90:
        return f"about {int(round(seconds / 5.0) * 5)} s"
    return f"about {int(round(seconds / 60.0))} min"
