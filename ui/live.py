"""The one live-run protocol of the training pages: Start/Stop[/Reset], a progress bar, a
throttled live chart, and the partial result kept after Stop.

Why state lives in session state AS THE RUN GOES: a click on Stop (or on any widget) makes
Streamlit rerun the script. The running script is not killed at once: Streamlit raises a
``RerunException`` (``StopException`` under fastReruns; both ``BaseException``, so no
``except Exception`` catches them) at its next element call (a bar update, a chart), so
nothing after the training call runs. Whatever the page wants to keep must already be in
``st.session_state`` step by step: the core ``Run`` (its history grows in place) and the page's
result object. The rerun then finds the run still marked ``running``; :func:`finish_interrupted`
marks it ``StopReason.STOPPED`` and calls the page's finisher on the partial result.
``runtime.stop_requested`` lets a loop stop before its next weight update. With Streamlit's
fastReruns (the default) the rerun starts AT ONCE in a new thread while the interrupted one
may still be inside a step: :func:`finish_interrupted` first waits for that thread to end, so
the rerun never shows N steps while the old thread applies and logs step N + 1.

A page::

    start = live.buttons("ppo", "▶ Train", start="train")
    live.finish_interrupted("ppo", finisher, restarting=start)    # the rerun after a Stop
    if start:
        with runtime.training_slot() as ok:
            if ok:
                lv = live.begin("ppo", run, result, settings)
                tick = live.progress(st.progress(0.0), draw=redraw)
                train(..., progress=tick, should_stop=runtime.stop_requested)
                live.end(lv, finisher)
    lv = live.state("ppo")          # idle: press Start; else show lv.result

A page whose run is a class run (ui/class_runs.py: the run trains in a worker process, and a
learner with the same settings joins it) keeps its LiveRun here too, and uses
ui/class_run_page.py to start, follow and leave it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

import streamlit as st

from lessons.core.loop import Run, StopReason
from ui.jobs import format_eta

Status = Literal["idle", "running", "finished"]
Row = dict
Finisher = Optional[Callable[["LiveRun"], None]]
INTERRUPT_WAIT_S = 60.0   # at most this long for an interrupted run's thread to leave its step


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
    thread: Optional[threading.Thread] = field(default=None, repr=False, compare=False)   # the one training

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


def buttons(key: str, start_label: str, *, start: str = "train", stop_help: str | None = None,
            reset_label: str | None = None, on_reset: Callable[[], None] | None = None,
            disabled: bool = False) -> bool:
    """Start and Stop side by side (and Reset when ``reset_label`` is given and a run exists).
    Keys: ``<key>.<start>``, ``<key>.stop``, ``<key>.reset``. Stop needs no handler: its click
    is the rerun. Reset clears the run (back to idle), then calls ``on_reset()`` (the page's
    own results). ``disabled``: Start cannot be clicked (the settings cannot train). Returns
    True when Start was clicked."""
    if reset_label and st.session_state.get(f"{key}.reset"):   # clicked: reset before drawing, so it hides now
        from ui import class_run_page   # late: it builds on this module

        class_run_page.leave(key)       # a class run this session followed: left first
        st.session_state[_slot(key)] = LiveRun(key)
        if on_reset is not None:
            on_reset()
    row = st.container(horizontal=True)   # each button as wide as its label: none cut at 1280 px
    clicked = row.button(start_label, type="primary", key=f"{key}.{start}", disabled=disabled)
    row.button("⏹ Stop", key=f"{key}.stop",
               help=stop_help or "Stops the run; what it learned so far is kept.")
    if reset_label and state(key).status != "idle":
        row.button(reset_label, key=f"{key}.reset")
    return clicked


def begin(key: str, run: Optional[Run], result: Any = None, settings: dict | None = None) -> LiveRun:
    """Mark a new run as started (replacing the last one) and return it."""
    lv = st.session_state[_slot(key)] = LiveRun(key, "running", run, result, dict(settings or {}),
                                                 threading.current_thread())
    return lv


def end(lv: LiveRun, finisher: Finisher = None) -> None:
    """After the training call returned: the run is finished, the finisher completes the
    result. A run that stopped because Stop was clicked stays ``running``: the rerun that
    Stop started is already waiting and :func:`finish_interrupted` finishes it there."""
    if lv.run is not None and lv.run.stopped is StopReason.STOPPED and _rerun_pending():
        return
    if finisher is not None:
        finisher(lv)
    lv.status = "finished"


def finish_interrupted(key: str, finisher: Finisher = None, *, restarting: bool = False) -> Optional[LiveRun]:
    """On the rerun after a Stop: a run still marked ``running`` was interrupted. Mark it
    ``StopReason.STOPPED``, call ``finisher(lv)`` so the partial result is kept, return it.
    ``restarting`` (Start clicked again): the old run is dropped instead, no finisher."""
    lv = state(key)
    if not lv.running:
        return None
    if lv.thread is not None and lv.thread is not threading.current_thread():
        lv.thread.join(INTERRUPT_WAIT_S)   # the interrupted script run leaves at its next element call
    if lv.run is not None:
        lv.run.stopped = StopReason.STOPPED
    if restarting:
        lv.status = "finished"
        return None
    if finisher is not None:
        finisher(lv)
    lv.status = "finished"
    return lv


DRAW_SHARE = 0.2   # a live chart takes at most this share of a run's CPU time


def progress(bar, draw: Callable[[Row, Run], None] | None = None, *, text: Callable[[Row, Run], str] | None = None,
             label: str = "step", every_s: float = 0.4, keep: LiveRun | None = None,
             clock: Callable[[], float] = time.perf_counter) -> Callable[[Row, Run], None]:
    """The ``progress(row, run)`` callback of the core loop for a page: the bar (an
    ``st.progress``) reads "<label> i/n · <text(row, run)> · about N s left" after every step
    (the ETA at the recent pace, :meth:`Run.eta_s`: honest on a busy server too);
    ``draw(row, run)`` (the live chart) runs at most every ``every_s`` seconds, and always on
    the last step. ``keep``: the page's LiveRun, which then holds the loop's run from the first
    step on (its history grows in place), so a Stop keeps every finished step.

    Why the chart waits longer when it is slow: a plotly figure of several panels costs more
    than a tiny model's step (the PPO page's four-panel chart took ~0.4 CPU-s per redraw, in a
    profile of a class on one server), and it runs holding the GIL, which every other
    learner's rerun needs. So the next redraw waits until the chart's share of the time is at
    most ``DRAW_SHARE``: a 0.4 s chart redraws every 2 s, a cheap one every ``every_s``.
    ``clock``: for tests."""
    last = [float("-inf")]
    cost = [0.0]

    def tick(row: Row, run: Run) -> None:
        if keep is not None:
            keep.run = run
        i, n = row["step"], max(run.steps_planned, 1)
        parts = [f"{label} {i}/{n}"]
        if text is not None and (extra := text(row, run)):
            parts.append(extra)
        if i < n and (eta := run.eta_s()) is not None:
            parts.append(time_left(eta))
        bar.progress(min(i / n, 1.0), text=" · ".join(parts))
        now = clock()
        # since the last redraw ENDED: a gap of cost * (1 - share) / share makes the chart `share` of the time
        if draw is not None and (now - last[0] >= _redraw_gap(cost[0], every_s) or i >= n):
            draw(row, run)
            last[0] = clock()
            cost[0] = last[0] - now

    return tick


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


def _rerun_pending() -> bool:
    from ui import runtime   # late: runtime imports much of the app

    return runtime.stop_requested()
