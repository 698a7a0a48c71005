"""The one bounded run loop under every training lesson.

A concept module writes out only its teaching-visible step (forward, loss, backward, update)
as a function ``step(i) -> metrics`` and hands it to :func:`run_loop`, which owns the rest:

* a budget of steps AND seconds (whichever runs out first),
* ONE stop-reason vocabulary (:class:`StopReason`),
* the history (one row per step: ``{"step", "seconds", **metrics}``), kept in a
  :class:`Run` the caller may own, so a run that is stopped keeps everything it learned,
* ONE progress convention: ``progress(row, run)`` after every step; its return value is
  ignored (stopping is never a return value),
* cooperative stop: ``should_stop()`` is asked before every step; a step may also ask it just
  before its weight update and return ``None`` to say "stopped, nothing applied".

Pure Python: no torch, no streamlit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Optional


class StopReason(str, Enum):
    """Why a run ended. The value is what histories and tests store; :meth:`describe` is what
    a page shows."""

    STEPS = "steps"          # every planned step done
    TIME = "time"            # the seconds budget ran out
    STOPPED = "stopped"      # the learner pressed Stop (or the caller's should_stop said so)

    def describe(self, run: "Run | None" = None) -> str:
        if self is StopReason.STEPS:
            return "all steps done" if run is None else f"all {run.steps_planned} steps done"
        if self is StopReason.TIME:
            return "time limit reached" if run is None else f"time limit ({run.max_seconds:g} s) reached"
        return "stopped by you"


@dataclass
class Run:
    """One bounded run: its budget, its history and why it ended. Kept by the caller (a page's
    session state) so that a Stop keeps the partial result; pass it again to resume."""

    steps_planned: int
    max_seconds: float
    history: list[dict] = field(default_factory=list)   # {"step", "seconds", **metrics}
    seconds: float = 0.0
    stopped: Optional[StopReason] = None                 # None while running / never run

    @property
    def steps_done(self) -> int:
        return len(self.history)

    @property
    def last(self) -> dict:
        return self.history[-1] if self.history else {}

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps_done, 1)

    def eta_s(self, window: int = 10) -> Optional[float]:
        """Seconds until the planned steps are done, at the pace of the last ``window`` steps
        (a busy server slows a run down, so the recent pace predicts better than the mean);
        None before the first step. Only the steps are counted: the seconds cap may end the
        run sooner."""
        rows = [r for r in self.history if "seconds" in r]
        left = self.steps_planned - self.steps_done
        if not rows or left <= 0:
            return None if not rows else 0.0
        recent = rows[-(window + 1):]
        if len(recent) >= 2:
            pace = (recent[-1]["seconds"] - recent[0]["seconds"]) / (len(recent) - 1)
        else:
            pace = recent[-1]["seconds"]          # the first step (its warm-up included)
        return max(pace, 0.0) * left

    def series(self, key: str) -> list:
        """One metric over the run, e.g. ``run.series("loss")`` (steps without it skipped)."""
        return [row[key] for row in self.history if key in row]

    def describe(self) -> str:
        return self.stopped.describe(self) if self.stopped else "running"


Progress = Optional[Callable[[dict, Run], None]]
ShouldStop = Optional[Callable[[], bool]]


def run_loop(step: Callable[[int], Optional[dict]], *, steps: int, max_seconds: float,
             progress: Progress = None, should_stop: ShouldStop = None, run: Optional[Run] = None) -> Run:
    """Call ``step(i)`` for i = n+1, n+2, ... (n = steps already in ``run``) until ``steps``
    are done, ``max_seconds`` of this call have passed, or ``should_stop()`` says True.

    ``step`` returns the step's metrics (a dict of numbers), or ``None`` when it saw a stop
    request before its update (the step is then not recorded). After each recorded step,
    ``progress(row, run)`` is called with the new history row."""
    run = run if run is not None else Run(steps, max_seconds)
    run.steps_planned, run.max_seconds, run.stopped = steps, max_seconds, None
    t0 = time.perf_counter()
    base = run.seconds
    while True:
        i = run.steps_done + 1
        if i > steps:
            run.stopped = StopReason.STEPS
            break
        if should_stop is not None and should_stop():
            run.stopped = StopReason.STOPPED
            break
        metrics = step(i)
        run.seconds = base + (time.perf_counter() - t0)
        if metrics is None:
            run.stopped = StopReason.STOPPED
            break
        row = {"step": i, "seconds": round(run.seconds, 3), **metrics}
        run.history.append(row)
        if progress is not None:
            progress(row, run)
        if i < steps and time.perf_counter() - t0 >= max_seconds:
            run.stopped = StopReason.TIME
            break
    run.seconds = base + (time.perf_counter() - t0)
    return run
