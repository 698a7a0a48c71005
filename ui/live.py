"""The one live-run protocol of the training pages: Start/Stop[/Reset], the page's LiveRun in
session state (its status, its run's rows, what the page keeps of the result), the progress bar's
wording, the throttle of a live chart, and the note of a stopped run.

Every training run and long generation runs in a class-run worker process (ui/class_runs.py): a
learner with the same settings joins it, and the job goes on whatever the page script does. The
page keeps its LiveRun here and uses ui/class_run_page.py to start, follow and leave the run::

    start = live.buttons("ppo", "▶ Train", start="train")
    class_run_page.presses("ppo", start, lambda use_record: class_run_page.train_together(...))
    if live.state("ppo").running:
        class_run_page.follow("ppo", st.progress(0.0), draw)
    lv = live.state("ppo")          # idle: press Start; else show lv.result

A click on Stop (or on any widget) reruns the script: the rerun interrupts the follow loop, and the
next script run follows the same job again from the rows it has already drawn.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

import streamlit as st

from lessons.core.loop import Run, StopReason
from ui.jobs import format_eta

Status = Literal["idle", "running", "finished"]
Finisher = Optional[Callable[["LiveRun"], None]]


@dataclass
class LiveRun:
    """One page's run in one session. ``run`` is the core loop's Run (history, why it ended);
    ``result`` is whatever the page keeps (a model copy, samples, scores), partial while
    running; ``settings`` are the widget values the run was started with."""

    key: str
    status: Status = "idle"
    run: Optional[Run] = None
    result: Any = None
    settings: dict = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def stopped(self) -> bool:
        """Finished because the learner pressed Stop."""
        return self.status == "finished" and self.run is not None and self.run.stopped is StopReason.STOPPED


def _slot(key: str) -> str:
    return f"{key}.live"


def state(key: str) -> LiveRun:
    """This session's LiveRun for the page ``key`` (its URL name); an idle one the first time."""
    lv = st.session_state.get(_slot(key))
    if not isinstance(lv, LiveRun):
        lv = st.session_state[_slot(key)] = LiveRun(key)
    return lv


def reset(key: str) -> None:
    """The page's run back to idle: a class run this session follows is left first (it goes on for
    the others), and nothing of it comes back to the page."""
    from ui import class_run_page   # late: it builds on this module

    class_run_page.leave(key)
    st.session_state[_slot(key)] = LiveRun(key)


def buttons(key: str, start_label: str, *, start: str = "train", stop_help: str | None = None,
            reset_label: str | None = None, on_reset: Callable[[], None] | None = None,
            disabled: bool = False) -> bool:
    """Start and Stop side by side (and Reset when ``reset_label`` is given and a run exists).
    Keys: ``<key>.<start>``, ``<key>.stop``, ``<key>.reset``. Stop needs no handler: its click
    is the rerun. Reset clears the run (back to idle), then calls ``on_reset()`` (the page's
    own results). ``disabled``: Start cannot be clicked (the settings cannot train). Returns
    True when Start was clicked."""
    if reset_label and st.session_state.get(f"{key}.reset"):   # clicked: reset before drawing, so it hides now
        reset(key)
        if on_reset is not None:
            on_reset()
    row = st.container(horizontal=True)   # each button as wide as its label: none cut at 1280 px
    clicked = row.button(start_label, type="primary", key=f"{key}.{start}", disabled=disabled)
    row.button("⏹ Stop", key=f"{key}.stop",
               help=stop_help or "Stops the run; what it learned so far is kept.")
    if reset_label and state(key).status != "idle":
        row.button(reset_label, key=f"{key}.reset")
    return clicked


DRAW_SHARE = 0.2   # a live chart takes at most this share of a run's CPU time


def _redraw_gap(cost: float, every_s: float, sharing: int = 1) -> float:
    """Seconds from the end of a redraw that cost ``cost`` to the next one: at least ``every_s``,
    and long enough that the ``sharing`` loops that draw in this process together spend at most
    DRAW_SHARE of the time drawing."""
    return max(every_s, cost * (1 - DRAW_SHARE) / DRAW_SHARE * max(sharing, 1))


def counter(bar, unit: str = "", *, clock: Callable[[], float] = time.perf_counter) -> Callable[..., None]:
    """``report(done, total, what="")`` for a job counted in items (summaries, problems,
    pairs): the bar reads "done/total <unit> · <what> · about N s left", the time left at the
    pace so far (from the first report on, so the model's warm-up does not skew it)."""
    t0 = [None]

    def report(done: int, total: int, what: str = "") -> None:
        now = clock()
        if t0[0] is None:
            t0[0] = (now, done)
        parts = [f"{done}/{total}" + (f" {unit}" if unit else "")]
        if what:
            parts.append(what)
        start, done0 = t0[0]
        if 0 < done - done0 and done < total:
            parts.append(time_left((now - start) / (done - done0) * (total - done)))
        bar.progress(min(done / max(total, 1), 1.0), text=" · ".join(parts))

    return report


def time_left(seconds: float) -> str:
    """"about 40 s left", "about 3 min left", "a few seconds left" (the queue's format)."""
    return f"{format_eta(seconds)} left"


def stopped_note(run: Run, keeps: str = "the model keeps what it learned so far") -> None:
    """The one sentence a stopped run shows: "Stopped at step N of M; <keeps>."."""
    st.info(f"Stopped at step {run.steps_done} of {run.steps_planned}; {keeps}.")

