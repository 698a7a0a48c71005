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
learner with the same settings joins it) uses :func:`train_together` on Start, :func:`leave` on
Stop and :func:`follow` while the LiveRun runs; there a rerun does not stop anything (the job
goes on in its worker), so the next script run simply follows it again.
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
        leave(key)                                      # a class run this session followed: left first
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


# --------------------------------------------------------------------------- class runs
def _session_id() -> str:
    """This browser session's follower name: ui.teacher's random per-session token (not
    Streamlit's session id, which AppTest gives every session alike)."""
    from ui import teacher

    return teacher.session_name()


# A training page whose job runs in a worker process (ui/class_runs.py). The LiveRun then holds
# the job id and the rows the page has drawn; the job goes on whatever the script does, so a
# rerun (a widget, a new tab of the same session) simply follows it again. Only Stop leaves it.
def train_together(key: str, kind: str, spec: dict, *, shareable: bool, max_seconds: float, steps: int,
                   settings: dict | None = None, use_record: bool = True, broadcast: bool = False,
                   rows_of: Callable[[dict], list] = lambda result: result["run"]["history"]) -> LiveRun:
    """Train pressed: show the finished record of these settings at once, or join the run of
    these settings that is queued or running, or queue a new one (ui/class_runs.request). The
    LiveRun is ``running`` while the page follows a job (:func:`follow`). ``rows_of(result)``: the
    progress rows of a finished run's result (what the page would have drawn live)."""
    from ui import class_runs

    class_runs.ensure_workers()
    who = _session_id()
    lv = st.session_state[_slot(key)] = LiveRun(key, "idle", None, {}, dict(settings or {}))
    try:
        got = class_runs.request(kind, spec, who, shareable=shareable and class_runs.sharing_enabled(),
                                 max_seconds=max_seconds, use_record=use_record, broadcast=broadcast)
    except class_runs.QueueFull as exc:
        st.error(str(exc))
        return lv
    lv.run = Run(steps, max_seconds)
    if got.record is not None:
        lv.status, lv.result = "finished", {"job": got.record.result, "record": got.record, "rows": []}
        lv.run.history = list(rows_of(got.record.result))
        lv.run.stopped = StopReason(got.record.result["stopped"])
    else:
        lv.status, lv.result = "running", {"job_id": got.job.id, "rows": [], "joined": got.joined, "followers": 1,
                                           "broadcast": broadcast}
    return lv


def watch_broadcast(key: str, job_id: int, *, steps: int, max_seconds: float, settings: dict) -> LiveRun:
    """Follow the teacher's broadcast run ``job_id`` on this page (from its first step; the
    teacher controls Stop, this learner's Stop only leaves it)."""
    from ui import class_runs

    class_runs.follow_broadcast(job_id, _session_id())
    lv = st.session_state[_slot(key)] = LiveRun(key, "running", Run(steps, max_seconds),
                                                {"job_id": job_id, "rows": [], "followers": 1, "watching": True},
                                                dict(settings))
    return lv


def class_run_note(key: str, where) -> None:
    """Above a finished class run's figure (``where``: a placeholder), where the run came from: a
    record of the same settings (with **Run it again live**, key ``<key>.again``), the teacher's
    broadcast, or a run shared with other learners."""
    res = state(key).result or {}
    rec = res.get("record")
    if rec is not None:
        with where.container():
            st.info(f"**These settings were trained before** (a class run that finished on {rec.recorded}, "
                    f"{rec.wall_s:.0f} s): shown at once, step for step what a new run on this server trains.")
            st.button("↻ Run it again live", key=f"{key}.again", help="Trains these settings again, live.")
    elif res.get("watching"):
        where.caption("📡 Your teacher's run, followed live from its first step.")
    elif (res.get("followers") or 0) > 1 or res.get("joined"):
        where.caption(f"A class run: you followed the same run as {max(res.get('followers', 1) - 1, 1)} "
                      "other learner(s) with these settings.")


def teacher_broadcast(key: str, kind: str, describe: Callable[[dict], str],
                      watch: Callable[[dict], dict]) -> bool:
    """A class-run page's teacher broadcast (the projector's run, followed live by the learners
    on their own pages). For a teacher: the "📡 Broadcast my run to the class" switch (key
    ``<key>.broadcast``); its value is returned, for ``train_together(..., broadcast=...)``. For a
    learner, while the teacher's run of ``kind`` is on: "Your teacher is training live:
    <describe(spec)>" and "📡 Follow the teacher's run" (key ``<key>.follow_teacher``), whose click
    makes this page follow that run (``watch(spec)``: watch_broadcast's steps, max_seconds and
    settings). Only the teacher stops the run; a learner's Stop ends their watching."""
    from ui import class_runs, teacher

    on = teacher.is_teacher() and st.toggle(
        "📡 Broadcast my run to the class", key=f"{key}.broadcast",
        help="Learners see a 'Follow the teacher's run' button on this page and watch your run live; only you can stop it.")
    air = class_runs.broadcasts(kind)
    if air is not None and st.session_state.get(f"{key}.follow_teacher"):
        watch_broadcast(key, air.id, **watch(class_runs.spec_of(air.id)))
    lv = state(key)
    watching = lv.running and (lv.result or {}).get("job_id") == air.id if air is not None else False
    if air is not None and not (watching and not st.session_state.get(f"{key}.stop")):   # again after a Stop
        st.info(f"📡 **Your teacher is training live**: {describe(class_runs.spec_of(air.id))}.")
        st.button("📡 Follow the teacher's run", key=f"{key}.follow_teacher",
                  help="Watch the same run live here, from its first step. Your Stop only stops your watching.")
    return bool(on)


def left_note(key: str, where=None) -> None:
    """Under a class run this learner left with Stop while others went on (no result of its own):
    what happened to the run, and that the steps shown are the ones they saw."""
    (where or st).info(("You stopped watching: your teacher's run goes on" if (state(key).result or {}).get("watching")
                        else "You left the run: it goes on for the learners who follow it (and ends when nobody does)")
                       + "; the steps above are the ones you saw.")


def leave(key: str, see_it_end: bool = False) -> Optional[LiveRun]:
    """Stop pressed while following a class run: this learner leaves it (the run goes on for
    the others, and stops when nobody follows); the steps seen so far stay on the page.

    ``see_it_end``: when nobody else follows the run, this Stop ends it, so the page keeps
    following it for the moment it takes to stop after its current step (the bar says so) and
    gets the worker's result of the stopped run (what a page computes from a stopped model,
    e.g. its validation perplexity). With others still on it, the learner leaves as above."""
    from ui import class_runs

    lv = state(key)
    if not lv.running or "job_id" not in (lv.result or {}):
        return None
    jid = lv.result["job_id"]
    class_runs.leave(jid, _session_id())
    if lv.run is not None:
        lv.run.stopped = StopReason.STOPPED
    if see_it_end and class_runs.followers(jid, controlling=True) == 0 and \
            class_runs.poll(jid, since=len(lv.result["rows"])).job.state == class_runs.RUNNING:
        lv.result["stopping"] = True     # still running: follow() waits for the stopped run's result
        return lv
    lv.status = "finished"
    return lv


_FOLLOWING = [0]                 # follow loops running in this process (every session's)
_FOLLOWING_LOCK = threading.Lock()


def follow(key: str, bar, draw: Callable[[list, LiveRun], None] | None = None, *, label: str = "step",
           poll_s: float = 0.5, every_s: float = 0.4, finisher: Finisher = None) -> LiveRun:
    """Follow the session's class run until it ends: its place in the queue while it waits; the
    bar ("<label> i/n · shared with N learners · about N s left") and the throttled live chart
    ``draw(rows, lv)`` while it runs; then the job's outcome in ``lv.result["job"]`` (a failed
    job's reason in ``["error"]``) and ``finisher(lv)``. A rerun interrupts the loop; the next script run calls this again and picks
    up where it was (the rows already drawn are in the LiveRun).

    The charts of ALL the follow loops of this process together take at most DRAW_SHARE of one
    core: a loop waits ``cost * (1 - share) / share`` times the number of loops running between
    its redraws. Why: when a class shares a run, every follower draws the same chart in this one
    process; throttled each on its own (as :func:`progress` is), the followers of one PPO run
    together drew its four-panel chart (holding the GIL) for more than a core's worth of time, and
    every other learner's rerun waited (found with bench/classroom.py, 60 learners). The bar still
    moves at every poll: it is cheap."""
    with _FOLLOWING_LOCK:
        _FOLLOWING[0] += 1
    try:
        return _follow(key, bar, draw, label, poll_s, every_s, finisher)
    finally:
        with _FOLLOWING_LOCK:
            _FOLLOWING[0] -= 1


def _follow(key: str, bar, draw, label: str, poll_s: float, every_s: float, finisher: Finisher) -> LiveRun:
    from ui import class_runs

    lv = state(key)
    jid, who = lv.result["job_id"], _session_id()
    last_beat, last_draw, cost = 0.0, float("-inf"), 0.0
    n = max(lv.run.steps_planned if lv.run is not None else 1, 1)
    while True:
        now = time.monotonic()
        if now - last_beat >= class_runs.HEARTBEAT_S and not lv.result.get("stopping"):
            class_runs.heartbeat(jid, who)
            last_beat = now
        try:
            p = class_runs.poll(jid, since=len(lv.result["rows"]))
        except class_runs.Gone:   # came back long after the run ended: it is no longer kept
            lv.result["error"] = ("this run ended long ago and is no longer kept (press Train: a run that "
                                  "finished all its steps shows at once)")
            lv.status = "finished"
            return lv
        lv.result["rows"].extend(p.rows)
        lv.result["followers"] = p.followers
        if lv.run is not None:
            lv.run.history = lv.result["rows"]
        shared = f"shared with {p.followers - 1} other learner{'s' if p.followers != 2 else ''}" if p.followers > 1 else ""
        if p.job.state == class_runs.QUEUED:
            eta = class_runs.typical_seconds(p.job.kind) * ((p.position or 1) - 1 + p.running) / max(
                1, class_runs.ensure_workers().n)
            bar.progress(0.0, text=" · ".join(x for x in (
                f"⏳ Waiting for a training worker: number {p.position} in the queue, {p.running} running",
                shared, f"expected start: {format_eta(eta)}") if x))
        elif p.job.state == class_runs.RUNNING or p.rows:
            rows = lv.result["rows"]
            i = rows[-1]["step"] if rows else 0
            parts = [f"{label} {i}/{n}" if rows else "Starting ..."]
            if lv.result.get("stopping"):
                parts.append("⏹ stopping after this step ...")
            elif shared:
                parts.append(shared)
            if rows and i < n:
                per = rows[-1]["seconds"] / max(i, 1)
                parts.append(time_left(per * (n - i)))
            bar.progress(min(i / n, 1.0), text=" · ".join(parts))
            t = time.perf_counter()
            gap = _redraw_gap(cost, every_s, sharing=_FOLLOWING[0])
            if draw is not None and rows and p.rows and (t - last_draw >= gap or not p.job.active):
                draw(rows, lv)
                last_draw = time.perf_counter()
                cost = last_draw - t
        if not p.job.active:
            lv.result["job"] = p.job.result
            lv.result["outcome"] = p.job
            lv.result["error"] = p.job.error if p.job.state == class_runs.FAILED else None   # the page says why
            if lv.run is not None:
                lv.run.stopped = StopReason(p.job.stopped_by) if p.job.stopped_by in ("steps", "time", "stopped") else None
            if finisher is not None:
                finisher(lv)
            lv.status = "finished"
            return lv
        time.sleep(poll_s)
